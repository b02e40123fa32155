/**
 * Shared pieces of the gRPC tests: the service started for real on loopback (with an injected or
 * the real detection), @grpc/grpc-js clients of every service it carries, and Velero-shaped
 * Cluster JSON (docs/velero-facts.md Â§4).
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { BackupSource } from '../../src/backup/source.js';
import type { DetectOptions } from '../../src/app/detect.js';
import type { ServiceSecrets } from '../../src/serve/start.js';
import type { ServiceConfig } from '../../src/app/service-config.js';
import { SERVICE_WORDS, type ServiceDeps } from '../../src/app/service.js';
import { ConfiguredStorageLocations } from '../../src/app/backup-locator.js';
import { DriftService, type DriftServiceOptions } from '../../src/app/drift-service.js';
import type { DriftReport } from '../../src/model/report.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { loadProto, PROTO_FILES } from '../../src/rpc/protos.js';
import { startService, type RunningService } from '../../src/serve/start.js';
import { jsonLogger, type Logger } from '../../src/util/jsonlog.js';

const require = createRequire(import.meta.url);

import { cluster, machine, report } from '../helpers/reports.js';

export { cluster, machine, report };

/** wc-ghost has ghosts, wc-ok is Healthy, wc-stale has a Stale worker, wc-unknown an Unknown control plane. */
export function standardReport(backup: string): DriftReport {
  return report(
    `s3://velero/backups/${backup}/${backup}.tar.gz`,
    cluster('default', 'wc-ghost', [machine('wc-ghost-cp-a', 'Healthy')], [machine('wc-ghost-md-0-x', 'Ghost')]),
    cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')], [machine('wc-ok-md-0-a', 'Healthy')]),
    cluster('tkg', 'wc-stale', [machine('wc-stale-cp-a', 'Healthy')], [machine('wc-stale-md-0-a', 'Stale')]),
    cluster('default', 'wc-unknown', [machine('wc-unknown-cp-a', 'Unknown')], []),
  );
}

// ---------------------------------------------------------------------------------------------
// A detection the tests control

/** A door the fake detection waits at until the test opens it, or the analysis is aborted. */
export class Hold {
  private open!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));

  release(): void {
    this.open();
  }

  wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason));
      void this.opened.then(resolve);
    });
  }
}

/** Resolves once `condition` holds, checking every 10 ms; fails after `timeoutMs` (generous: a loaded machine is slow). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `read` until `done` holds, at most `timeoutMs`; fails with the last value seen. */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

export class FakeDetection {
  calls: Array<{ source: string; options: DetectOptions }> = [];
  /** Backups that exist, by name. */
  reports = new Map<string, DriftReport>();
  delayMs = 0;
  /** Set: each detection waits, after it was called, until the test releases it (no clock involved). */
  hold?: Hold;
  /** Thrown by the next detections instead of a report. */
  failWith?: Error;

  deps(): Partial<ServiceDeps> {
    return {
      resolveBackup: (name, location) => ({
        description: `s3://${location.location.bucket}/backups/${name}/${name}.tar.gz`,
        open: () => Promise.reject(new Error('the fake detection never opens the backup')),
      }),
      detect: (source: BackupSource, options: DetectOptions) => this.detect(source, options),
    };
  }

  /** A drift service over this detection and testConfig()'s locations, analysis and gate. */
  service(logger: Logger, extra: Partial<DriftServiceOptions> = {}): DriftService {
    const config = testConfig();
    const deps = this.deps();
    return new DriftService({
      locations: new ConfiguredStorageLocations(config.storageLocations, deps.resolveBackup),
      analysis: config.analysis,
      gate: config.gate,
      vcenterCredentials: {},
      words: SERVICE_WORDS,
      detect: deps.detect!,
      logger,
      ...extra,
    });
  }

  private async detect(source: BackupSource, options: DetectOptions): Promise<DriftReport> {
    this.calls.push({ source: source.description, options });
    options.onProgress?.({ stage: 'backup', message: `reading ${source.description}` });
    if (this.hold) await this.hold.wait(options.signal);
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.delayMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(options.signal!.reason);
        });
      });
    }
    options.onProgress?.({ stage: 'vsphere', message: 'listing 1 vCenter(s)' });
    if (this.failWith) throw this.failWith;
    const name = /backups\/([^/]+)\//.exec(source.description)?.[1] ?? '';
    const found = this.reports.get(name);
    if (!found) {
      const { BackupError, BackupSourceError } = await import('../../src/backup/errors.js');
      const cause = new BackupSourceError(
        'not-found',
        'velero',
        `backups/${name}/${name}.tar.gz`,
        `backup ${name} not found: ${source.description}`,
      );
      throw new BackupError(source.description, undefined, `cannot open the backup: ${cause.message}`, { cause });
    }
    options.onProgress?.({ stage: 'analysis', message: `done: ${found.summary.status}` });
    return structuredClone(found);
  }
}

// ---------------------------------------------------------------------------------------------
// The service

export function testConfig(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    origin: 'test',
    listen: '127.0.0.1:0',
    logLevel: 'debug',
    storageLocations: [{ name: 'default', isDefault: true, location: { bucket: 'velero' }, timeoutMs: 5000, deadlineMs: 60_000 }],
    gate: { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false },
    analysis: {
      cacheTtlMs: 60_000,
      failureCacheTtlMs: 1_000,
      timeoutMs: 60_000,
      skipAccessApiServer: true,
      insecureSkipVerify: false,
      vcenterTimeoutMs: 10_000,
      apiserverTimeoutMs: 5_000,
      apiserverConcurrency: 4,
      maxConcurrent: 4,
    },
    watch: { enabled: false, intervalMs: 60_000, events: false, source: 'bucket' },
    vsphere: {},
    maxReceiveMessageBytes: 64 * 1024 * 1024,
    shutdownTimeoutMs: 2_000,
    ...overrides,
  };
}

export interface TestService {
  running: RunningService;
  clients: Clients;
  /** Every log line the service wrote. */
  logs: string[];
  stop(): Promise<void>;
}

export async function startTestService(options: {
  config?: Partial<ServiceConfig>;
  secrets?: Partial<ServiceSecrets>;
  deps?: Partial<ServiceDeps>;
  channel?: grpc.ChannelCredentials;
  clientOptions?: grpc.ChannelOptions;
  /** Where the service looks for a cluster (KUBECONFIG); default none. */
  env?: NodeJS.ProcessEnv;
}): Promise<TestService> {
  const logs: string[] = [];
  const logger: Logger = jsonLogger({ level: 'debug', write: (line) => logs.push(line) });
  const running = await startService({
    config: testConfig(options.config),
    secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {}, ...options.secrets },
    ...(options.deps ? { deps: options.deps } : {}),
    env: options.env ?? {},
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
  });
  // Velero's client takes messages of any size (MaxInt32); so do the test clients.
  const clients = makeClients(running.address, options.channel ?? grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    ...options.clientOptions,
  });
  return {
    running,
    clients,
    logs,
    async stop() {
      clients.close();
      await running.shutdown(2000);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients

type Ctor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

export interface Clients {
  detector: grpc.Client;
  riaV1: grpc.Client;
  riaV2: grpc.Client;
  health: grpc.Client;
  reflection: grpc.Client;
  close(): void;
}

const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export function makeClients(address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): Clients {
  const ours = grpc.loadPackageDefinition(
    loadProto(PROTO_FILES.driftDetector, PROTO_FILES.veleroRestoreItemActionV1, PROTO_FILES.veleroRestoreItemActionV2),
  ) as unknown as {
    driftdetector: { v1: { DriftDetector: Ctor } };
    generated: { RestoreItemAction: Ctor };
    v2: { RestoreItemAction: Ctor };
  };
  const health = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, LOADER_OPTIONS)) as unknown as {
    grpc: { health: { v1: { Health: Ctor } } };
  };
  const reflectionProto = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build',
    'proto',
    'grpc',
    'reflection',
    'v1',
    'reflection.proto',
  );
  const reflection = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, LOADER_OPTIONS)) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: Ctor } } };
  };
  const clients = {
    detector: new ours.driftdetector.v1.DriftDetector(address, credentials, options),
    riaV1: new ours.generated.RestoreItemAction(address, credentials, options),
    riaV2: new ours.v2.RestoreItemAction(address, credentials, options),
    health: new health.grpc.health.v1.Health(address, credentials, options),
    reflection: new reflection.grpc.reflection.v1.ServerReflection(address, credentials, options),
  };
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}

/** A unary call as a promise; rejects with the grpc ServiceError. */
export function call<Res = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: object,
  options: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...args: any[]) => any>)[method]!.bind(client);
    fn(
      request,
      options.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (options.deadlineMs ?? 30_000) },
      (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)),
    );
  });
}

/** A server-streaming call: every message, then the end (or the error). */
export function collect<Res = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: object,
  metadata = new grpc.Metadata(),
): Promise<Res[]> {
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as Record<string, (...args: any[]) => any>)[method]!.call(client, request, metadata, {
      deadline: Date.now() + 30_000,
    }) as grpc.ClientReadableStream<Res>;
    const messages: Res[] = [];
    stream.on('data', (m: Res) => messages.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(messages));
  });
}

/** Lists the services through server reflection (grpc.reflection.v1). */
export function listServices(client: grpc.Client, metadata = new grpc.Metadata()): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const stream = (client as unknown as { ServerReflectionInfo: (...args: any[]) => any }).ServerReflectionInfo(
      metadata,
    ) as grpc.ClientDuplexStream<object, Record<string, unknown>>;
    stream.on('data', (res: { list_services_response?: { service: Array<{ name: string }> }; error_response?: { error_message: string } }) => {
      if (res.error_response) reject(new Error(res.error_response.error_message));
      else resolve((res.list_services_response?.service ?? []).map((s) => s.name).sort());
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ list_services: '*' });
  });
}

// ---------------------------------------------------------------------------------------------
// Velero-shaped JSON

/** A Cluster API Cluster after Velero's resetMetadataAndStatus (no uid, resourceVersion, status). */
export function clusterItem(namespace: string, name: string, extra: { annotations?: Record<string, string>; padding?: number } = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Cluster',
      metadata: {
        name,
        namespace,
        labels: { 'cluster.x-k8s.io/cluster-name': name, 'tkg.tanzu.vmware.com/cluster-name': name },
        annotations: { 'tkg.tanzu.vmware.com/cluster-controlplane-endpoint': '10.0.0.10', ...extra.annotations },
      },
      spec: {
        clusterNetwork: { pods: { cidrBlocks: ['100.96.0.0/11'] }, services: { cidrBlocks: ['100.64.0.0/13'] } },
        controlPlaneEndpoint: { host: '10.0.0.10', port: 6443 },
        controlPlaneRef: {
          apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1',
          kind: 'KubeadmControlPlane',
          name: `${name}-control-plane`,
          namespace,
        },
        infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'VSphereCluster', name, namespace },
        ...(extra.padding ? { padding: 'x'.repeat(extra.padding) } : {}),
      },
    }),
  );
}

export function executeRequest(item: Buffer, restore: Buffer, plugin = 'driftdetector.dev/restore-gate'): Record<string, unknown> {
  return { plugin, item, restore, itemFromBackup: item };
}

export function parseItem(bytes: Buffer): { metadata: { annotations?: Record<string, string> }; spec: Record<string, unknown> } {
  return JSON.parse(bytes.toString('utf8'));
}
