/** driftdetector.v1.DriftDetector: Detect, Check and DetectStream over the shared analyses. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { checkBackup } from '../app/check.js';
import type { FailurePolicy } from '../gate/verdict.js';
import type { DriftReport } from '../model/report.js';
import { withoutHealthy } from '../report/filter.js';
import { serverStream, unary, type CallContext, type CallEnvironment } from '../rpc/calls.js';
import { clusterVerdictMessage, reportErrorMessage, reportMessage } from './convert.js';
import type { ServiceMetrics } from './metrics.js';
import type { ProgressEvent } from '../app/detect.js';
import { checkBackupName, type DriftService } from '../app/drift-service.js';
import { DomainError } from '../app/errors.js';

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

/** The Check request's fields as the messages name them. */
const CHECK_FIELDS = { backupName: 'backup_name', overrideReason: 'override_reason', overrideClusters: 'override_clusters' };

function detectResponse(report: DriftReport, request: Pick<DetectRequest, 'ignore_healthy_resources'>, cached: boolean) {
  const shown = request.ignore_healthy_resources ? withoutHealthy(report) : report;
  return { report: reportMessage(shown), report_json: JSON.stringify(shown, null, 2), cached };
}

function failurePolicyOf(value: CheckRequest['failure_policy']): FailurePolicy | undefined {
  if (value === 'FAIL' || value === 1) return 'Fail';
  if (value === 'IGNORE' || value === 2) return 'Ignore';
  if (value === 'FAILURE_POLICY_UNSPECIFIED' || value === 0 || value === undefined) return undefined;
  throw new DomainError('invalid-argument', `failure_policy: unknown value ${String(value)}`);
}

/** The shared analysis a request asks for, its backup name checked in the request's own words. */
function analysisFor(service: DriftService, request: DetectRequest, ctx: CallContext, onProgress?: (event: ProgressEvent) => void) {
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
      const failurePolicy = failurePolicyOf(request.failure_policy);
      ctx.fields['backup'] = request.backup_name;
      const answer = await checkBackup(
        service,
        {
          backupName: request.backup_name,
          storageLocation: request.storage_location,
          overrideReason: request.override_reason,
          overrideClusters: request.override_clusters,
          ...(failurePolicy ? { failurePolicy } : {}),
          skipAccessApiServer: request.skip_access_apiserver,
          failOnBlock: request.fail_on_block,
          refresh: request.refresh,
          signal: ctx.signal,
        },
        { fields: CHECK_FIELDS, ...(env.metrics ? { metrics: env.metrics } : {}) },
      ).catch((err: unknown) => {
        // fail_on_block: the verdict still goes on the call's log line.
        if (err instanceof DomainError && err.kind === 'blocked') ctx.fields['verdict'] = 'BLOCK';
        throw err;
      });
      ctx.fields['verdict'] = answer.verdict;
      if ('notChecked' in answer) {
        ctx.fields['checked'] = false;
        return {
          verdict: answer.verdict,
          clusters: [],
          backup: request.backup_name,
          summary_status: 'NotChecked',
          not_checked: answer.notChecked,
        };
      }
      const { report } = answer;
      return {
        verdict: answer.verdict,
        clusters: answer.decisions.map(clusterVerdictMessage),
        backup: report.metadata?.backup ?? request.backup_name,
        summary_status: report.summary.status,
        cached: answer.cached,
        errors: report.errors.map(reportErrorMessage),
      };
    }),
  };
}
