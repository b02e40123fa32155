/**
 * The restore gate asked ahead of a restore, whatever the door: every cluster of a backup decided
 * as a Restore with the given override would be, from the shared analysis. The backup is found by
 * the rule every door follows (restore-backup.ts): absent from a bucket that answered, it is
 * allowed and not checked, with a warning; a location that cannot be used is a failure naming it.
 * Bad requests, unusable locations and a BLOCK the caller wants as a failure are DomainErrors;
 * each door maps them to its protocol.
 */
import { decide, type GateDecision } from '../gate/decide.js';
import { MAX_OVERRIDE_REASON_LENGTH, OVERRIDE_ANNOTATION, OVERRIDE_CLUSTERS_ANNOTATION } from '../gate/override.js';
import type { FailurePolicy } from '../gate/verdict.js';
import type { DriftReport } from '../model/report.js';
import { DEFAULTS } from '../config/defaults.js';
import { checkBackupName, type DriftService } from './drift-service.js';
import { DomainError } from './errors.js';
import { failureKind } from './failures.js';
import { analyzeRestoreBackup } from './restore-backup.js';
import type { GateMetrics } from './restore-gate.js';

export interface CheckRequest {
  backupName: unknown;
  /** Where the backup is; else the Backup object's location, else every configured one. */
  storageLocation?: string;
  /** Velero's namespace, where the Backup object is (default DEFAULTS.velero.namespace). */
  namespace?: string;
  overrideReason?: string;
  overrideClusters?: string[];
  /** Instead of the service's failurePolicy. */
  failurePolicy?: FailurePolicy;
  skipAccessApiServer?: boolean;
  /** A BLOCK fails the check (DomainError `blocked`) instead of answering it. */
  failOnBlock?: boolean;
  refresh?: boolean;
  signal?: AbortSignal;
}

/** How the door names the request's fields, for messages (`backup_name` over gRPC). */
export interface CheckFieldNames {
  backupName: string;
  overrideReason: string;
  overrideClusters: string;
}

export type CheckAnswer =
  | {
      verdict: 'ALLOW' | 'BLOCK';
      decisions: GateDecision[];
      report: DriftReport;
      /** The analysis was answered from the cache (or joined in flight). */
      cached: boolean;
    }
  /** Absent from every bucket looked in, each having answered: allowed as the webhook allows it, not checked. */
  | { verdict: 'ALLOW'; notChecked: string };

const MAX_OVERRIDE_CLUSTERS = 200;
const CLUSTER_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export async function checkBackup(
  service: DriftService,
  request: CheckRequest,
  options: { fields: CheckFieldNames; metrics?: GateMetrics },
): Promise<CheckAnswer> {
  const gate = { ...service.gate, failurePolicy: request.failurePolicy ?? service.gate.failurePolicy };
  const annotations = overrideAnnotations(request, options.fields);
  const analysis = await analyzeRestoreBackup(service, {
    backup: checkBackupName(request.backupName, options.fields.backupName),
    namespace: request.namespace ?? DEFAULTS.velero.namespace,
    ...(request.storageLocation ? { storageLocation: request.storageLocation } : {}),
    signal: request.signal ?? new AbortController().signal,
    analysis: {
      ...(request.skipAccessApiServer ? { skipAccessApiServer: true } : {}),
      ...(request.refresh !== undefined ? { refresh: request.refresh } : {}),
    },
  });
  if (analysis.outcome === 'absent') {
    options.metrics?.verdicts.inc({ verdict: 'ALLOW', action: 'not-checked', source: 'check' });
    return { verdict: 'ALLOW', notChecked: analysis.warning };
  }
  if (analysis.outcome === 'failed')
    // The cause's kind (as the RestoreItemAction's failure has it), the message naming the location.
    throw new DomainError(failureKind(analysis.error), analysis.message, { cause: analysis.error });
  const { report, use } = analysis;
  const decisions = report.clusters.map((c) => decide(report, c.namespace, c.name, annotations, gate));
  for (const d of decisions) options.metrics?.verdicts.inc({ verdict: d.verdict, action: d.action, source: 'check' });
  const blocked = decisions.filter((d) => d.verdict === 'BLOCK');
  if (blocked.length && request.failOnBlock) {
    throw new DomainError('blocked', blocked.map((d) => d.error ?? `Cluster ${d.namespace}/${d.name}: ${d.reason}`).join('\n'));
  }
  return { verdict: blocked.length ? 'BLOCK' : 'ALLOW', decisions, report, cached: use !== 'miss' };
}

/** The override as the Restore annotations would carry it, after checking its size and shape. */
function overrideAnnotations(request: CheckRequest, fields: CheckFieldNames): Record<string, string> {
  const reason = request.overrideReason ?? '';
  if (reason.length > MAX_OVERRIDE_REASON_LENGTH) {
    throw new DomainError('invalid-argument', `${fields.overrideReason}: longer than ${MAX_OVERRIDE_REASON_LENGTH} characters`);
  }
  const clusters = (request.overrideClusters ?? []).map((c) => c.trim()).filter((c) => c !== '');
  if (clusters.length > MAX_OVERRIDE_CLUSTERS) {
    throw new DomainError('invalid-argument', `${fields.overrideClusters}: more than ${MAX_OVERRIDE_CLUSTERS} entries`);
  }
  for (const c of clusters) {
    if (c.length > 317 || !CLUSTER_REF.test(c)) {
      throw new DomainError('invalid-argument', `${fields.overrideClusters}: "${c.slice(0, 80)}" is not namespace/name`);
    }
  }
  if (clusters.length && reason.trim() === '') {
    throw new DomainError(
      'invalid-argument',
      `${fields.overrideClusters}: given without ${fields.overrideReason} (a blank reason is no override)`,
    );
  }
  return { [OVERRIDE_ANNOTATION]: reason, ...(clusters.length ? { [OVERRIDE_CLUSTERS_ANNOTATION]: clusters.join(',') } : {}) };
}
