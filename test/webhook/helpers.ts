/**
 * The admission webhook started for real on loopback beside the service (the same DriftService and
 * cache), and an HTTPS client that, like kube-apiserver, trusts only the CA bundle it was given.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { RestoreAdmission } from '../../src/app/admission.js';
import type { ScheduleSources } from '../../src/app/schedule-backup.js';
import type { ServiceConfig } from '../../src/app/service-config.js';
import type { WebhookConfig } from '../../src/config/service-config.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { startWebhook, WEBHOOK_PATH, type RunningWebhook } from '../../src/webhook/server.js';
import { FakeDetection, startTestService, type TestService } from '../grpc/helpers.js';
import { startServeReplica } from '../helpers/serve-replica.js';

export interface TestWebhook {
  detection: FakeDetection;
  service: TestService;
  webhook: RunningWebhook;
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestWebhook(options: {
  tls: { certFile: string; keyFile: string };
  deadlineMs?: number;
  config?: Partial<ServiceConfig>;
  schedules?: Omit<ScheduleSources, 'logger'>;
  certPollMs?: number;
}): Promise<TestWebhook> {
  const detection = new FakeDetection();
  const service = await startTestService({ deps: detection.deps(), ...(options.config ? { config: options.config } : {}) });
  return { detection, ...(await startWebhookOn(service, options)) };
}

/** The webhook in front of a running test service (the real detection, or the service's own). */
export async function startWebhookOn(
  service: TestService,
  options: {
    tls: { certFile: string; keyFile: string };
    deadlineMs?: number;
    schedules?: Omit<ScheduleSources, 'logger'>;
    certPollMs?: number;
  },
): Promise<Omit<TestWebhook, 'detection'>> {
  const logs: string[] = [];
  const logger = jsonLogger({ level: 'debug', write: (line) => logs.push(line) });
  const config: WebhookConfig = { listen: '127.0.0.1:0', ...options.tls, deadlineMs: options.deadlineMs ?? 5000 };
  const admission = new RestoreAdmission(service.running.service, {
    deadlineMs: config.deadlineMs,
    logger,
    ...(options.schedules ? { schedules: options.schedules } : {}),
  });
  const webhook = await startWebhook({ config, admission, logger, ...(options.certPollMs ? { certPollMs: options.certPollMs } : {}) });
  return {
    service,
    webhook,
    logs,
    async stop() {
      await webhook.close();
      await service.stop();
    },
  };
}

export interface RestoreShape {
  name?: string;
  backupName?: string;
  scheduleName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec?: Record<string, unknown>;
}

/** The Restore as `velero restore create` creates it (before Velero's controller touches it). */
export function restoreObject(shape: RestoreShape): Record<string, unknown> {
  const from = shape.backupName ?? shape.scheduleName ?? 'b';
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    metadata: {
      name: shape.name ?? `${from}-20260101120000`,
      namespace: 'velero',
      ...(shape.labels ? { labels: shape.labels } : {}),
      ...(shape.annotations ? { annotations: shape.annotations } : {}),
    },
    spec: {
      ...(shape.backupName ? { backupName: shape.backupName } : {}),
      ...(shape.scheduleName ? { scheduleName: shape.scheduleName } : {}),
      includedNamespaces: ['*'],
      excludedNamespaces: [],
      includedResources: [],
      excludedResources: [],
      namespaceMapping: {},
      itemOperationTimeout: '0s',
      uploaderConfig: {},
      ...shape.spec,
    },
    status: {},
  };
}

/** An AdmissionReview v1 as kube-apiserver sends it for a Restore. */
export function admissionReview(restore: Record<string, unknown>, operation = 'CREATE', uid = '0df28fbd-5f5f-4d23-8b8e-7c3f9e1d2a41'): object {
  const gvk = { group: 'velero.io', version: 'v1', kind: 'Restore' };
  const gvr = { group: 'velero.io', version: 'v1', resource: 'restores' };
  const metadata = restore['metadata'] as { name: string; namespace: string };
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: metadata.name,
      namespace: metadata.namespace,
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object: operation === 'DELETE' ? null : restore,
      oldObject: operation === 'CREATE' ? null : restore,
      dryRun: false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: operation === 'CREATE' ? 'CreateOptions' : operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions',
      },
    },
  };
}

export interface Answer {
  status: number;
  body: string;
  /** SHA-256 of the certificate the server presented. */
  fingerprint: string;
}

/** POST over HTTPS, verifying the server against `ca` only (as the API server does with caBundle). */
export function post(port: number, ca: Buffer, body: string | object, path = WEBHOOK_PATH): Promise<Answer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: `${path}?timeout=10s`,
        method: 'POST',
        ca,
        agent: false,
        timeout: 20_000,
        headers: { 'content-type': 'application/json', accept: 'application/json, */*', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), fingerprint }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('the test request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
}

export function responseOf(answer: Answer): ReviewResponse {
  const review = JSON.parse(answer.body) as { apiVersion: string; kind: string; response: ReviewResponse };
  if (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview')
    throw new Error(`not an AdmissionReview: ${answer.body}`);
  return review.response;
}

/**
 * `drift-detector serve` as a process with the configuration `lines` (written to `dir`), outside any
 * cluster (no KUBECONFIG, not in a pod, HOME = `dir`): resolves once its webhook serves.
 */
export async function spawnServe(
  dir: string,
  lines: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const serve = await startServeReplica('serve', [...lines, ''].join('\n'), { dir, env: extraEnv });
  return { child: serve.child, port: serve.webhookPort, stderr: () => serve.stderr() };
}
