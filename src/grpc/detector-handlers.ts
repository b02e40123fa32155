/** driftdetector.v1.DriftDetector: Detect, Check and DetectStream over the shared analyses. */
import { status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { decide } from '../gate/decide.js';
import { MAX_OVERRIDE_REASON_LENGTH, OVERRIDE_ANNOTATION, OVERRIDE_CLUSTERS_ANNOTATION } from '../gate/override.js';
import type { FailurePolicy } from '../gate/verdict.js';
import type { DriftReport } from '../model/report.js';
import { withoutHealthy } from '../report/filter.js';
import { serverStream, unary, type CallContext, type CallEnvironment } from '../rpc/calls.js';
import { clusterVerdictMessage, reportErrorMessage, reportMessage } from './convert.js';
import type { ServiceMetrics } from './metrics.js';
import type { ProgressEvent } from '../app/detect.js';
import { checkBackupName, type DriftService } from '../app/drift-service.js';
import { DomainError } from '../app/errors.js';
import { ServiceError } from '../rpc/service-error.js';

interface DetectRequest {
  backup_name: string;
  storage_location: string;
  skip_access_apiserver: boolean;
  ignore_healthy_resources: boolean;
  refresh: boolean;
}

interface CheckRequest {
  backup_name: string;
  storage_location: string;
  override_reason: string;
  override_clusters: string[];
  failure_policy: 'FAILURE_POLICY_UNSPECIFIED' | 'FAIL' | 'IGNORE' | number;
  skip_access_apiserver: boolean;
  fail_on_block: boolean;
  refresh: boolean;
}

const MAX_OVERRIDE_CLUSTERS = 200;
const CLUSTER_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function detectResponse(report: DriftReport, request: Pick<DetectRequest, 'ignore_healthy_resources'>, cached: boolean) {
  const shown = request.ignore_healthy_resources ? withoutHealthy(report) : report;
  return { report: reportMessage(shown), report_json: JSON.stringify(shown, null, 2), cached };
}

function failurePolicyOf(value: CheckRequest['failure_policy'], fallback: FailurePolicy): FailurePolicy {
  if (value === 'FAIL' || value === 1) return 'Fail';
  if (value === 'IGNORE' || value === 2) return 'Ignore';
  if (value === 'FAILURE_POLICY_UNSPECIFIED' || value === 0 || value === undefined) return fallback;
  throw new ServiceError(status.INVALID_ARGUMENT, `failure_policy: unknown value ${String(value)}`);
}

/** The override as the Restore annotations would carry it, after checking its size and shape. */
function overrideAnnotations(request: CheckRequest): Record<string, string> {
  const reason = request.override_reason ?? '';
  if (reason.length > MAX_OVERRIDE_REASON_LENGTH) {
    throw new ServiceError(status.INVALID_ARGUMENT, `override_reason: longer than ${MAX_OVERRIDE_REASON_LENGTH} characters`);
  }
  const clusters = (request.override_clusters ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (clusters.length > MAX_OVERRIDE_CLUSTERS) {
    throw new ServiceError(status.INVALID_ARGUMENT, `override_clusters: more than ${MAX_OVERRIDE_CLUSTERS} entries`);
  }
  for (const c of clusters) {
    if (c.length > 317 || !CLUSTER_REF.test(c)) {
      throw new ServiceError(status.INVALID_ARGUMENT, `override_clusters: "${c.slice(0, 80)}" is not namespace/name`);
    }
  }
  if (clusters.length && reason.trim() === '') {
    throw new ServiceError(status.INVALID_ARGUMENT, 'override_clusters: given without override_reason (a blank reason is no override)');
  }
  return { [OVERRIDE_ANNOTATION]: reason, ...(clusters.length ? { [OVERRIDE_CLUSTERS_ANNOTATION]: clusters.join(',') } : {}) };
}

/** The shared analysis a request asks for, its backup name checked in the request's own words. */
function analysisFor(
  service: DriftService,
  request: DetectRequest | CheckRequest,
  ctx: CallContext,
  onProgress?: (event: ProgressEvent) => void,
) {
  ctx.fields['backup'] = request.backup_name;
  return service.analyze(checkBackupName(request.backup_name, 'backup_name'), {
    storageLocation: request.storage_location,
    skipAccessApiServer: request.skip_access_apiserver || undefined,
    refresh: request.refresh,
    signal: ctx.signal,
    ...(onProgress ? { onProgress } : {}),
  });
}

export function driftDetectorImplementation(
  env: CallEnvironment & { metrics?: ServiceMetrics },
  service: DriftService,
): UntypedServiceImplementation {
  return {
    Detect: unary<DetectRequest, unknown>(env, 'Detect', async (request, ctx) => {
      const { report, use } = await analysisFor(service, request, ctx);
      ctx.fields['cache'] = use;
      return detectResponse(report, request, use !== 'miss');
    }),

    DetectStream: serverStream<DetectRequest, unknown>(env, 'DetectStream', async (request, ctx, write) => {
      const { report, use } = await analysisFor(service, request, ctx, (event) =>
        write({ progress: { stage: event.stage, message: event.message } }),
      );
      ctx.fields['cache'] = use;
      if (use === 'cached')
        write({ progress: { stage: 'analysis', message: `reusing the analysis of ${report.metadata?.generatedAt ?? 'earlier'}` } });
      write({ result: detectResponse(report, request, use !== 'miss') });
    }),

    Check: unary<CheckRequest, unknown>(env, 'Check', async (request, ctx) => {
      const gate = { ...service.gate, failurePolicy: failurePolicyOf(request.failure_policy, service.gate.failurePolicy) };
      const annotations = overrideAnnotations(request);
      const { report, use } = await analysisFor(service, request, ctx);
      const decisions = report.clusters.map((c) => decide(report, c.namespace, c.name, annotations, gate));
      for (const d of decisions) env.metrics?.verdicts.inc({ verdict: d.verdict, action: d.action, source: 'check' });
      const blocked = decisions.filter((d) => d.verdict === 'BLOCK');
      ctx.fields['verdict'] = blocked.length ? 'BLOCK' : 'ALLOW';
      if (blocked.length && request.fail_on_block) {
        throw new DomainError('blocked', blocked.map((d) => d.error ?? `Cluster ${d.namespace}/${d.name}: ${d.reason}`).join('\n'));
      }
      return {
        verdict: blocked.length ? 'BLOCK' : 'ALLOW',
        clusters: decisions.map(clusterVerdictMessage),
        backup: report.metadata?.backup ?? request.backup_name,
        summary_status: report.summary.status,
        cached: use !== 'miss',
        errors: report.errors.map(reportErrorMessage),
      };
    }),
  };
}
