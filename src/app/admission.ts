/**
 * Admission of a Velero Restore (drift semantics §7, "Admission"): judge the whole Restore before
 * Velero restores anything. The backup is analysed through the same cache as every other call; when
 * the analysis is not ready within the deadline, failurePolicy answers (Fail: deny, Ignore: allow
 * with a warning) and the analysis goes on into the cache, so the retry is instant.
 *
 * What never fails an unrelated restore: a backup with no Cluster API objects, a backup its
 * location's bucket does not hold (yet; allowed with a warning), a Restore whose filters touch no
 * cluster. A location that cannot be used is no missing backup: failurePolicy decides (restore-backup.ts).
 */
import { decide, type GateDecision } from '../gate/decide.js';
import { admissionVerdict, type AdmissionVerdict, type RestoreOrigin } from '../gate/admission.js';
import { restoreOverride } from '../gate/override.js';
import { judgedClusters, managementLabelWarnings } from '../gate/judged-clusters.js';
import {
  MalformedRestoreError,
  NamespaceFilter,
  restoreFilters,
  touchedClusters,
  type RestoreFilters,
  type ScopedCluster,
} from '../gate/restore-scope.js';
import { DEFAULTS } from '../config/defaults.js';
import { isObjectName } from '../model/kube.js';
import type { DriftReport } from '../model/report.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';
import type { DriftService } from './drift-service.js';
import { analyzeRestoreBackup, type RestoreBackupAnalysis } from './restore-backup.js';
import { scheduleBackup, type ScheduleSources } from './schedule-backup.js';
import type { VerdictAdmission } from './verdict-admission.js';

/** Where the Restore's backup is: `storageLocation` set when it was found in a configured location's bucket. */
type Origin = RestoreOrigin & { storageLocation?: string };

export interface RestoreAdmissionOptions {
  /** Answer within this long (webhook.deadline). */
  deadlineMs: number;
  /** Where a schedule's backups are read: the API server's Backups, the storage locations' buckets. */
  schedules?: Omit<ScheduleSources, 'logger'>;
  /** The verdicts on Backup objects: a fresh one answers without an analysis; a denial points to a Restorable backup. */
  verdicts?: VerdictAdmission;
  logger: Logger;
}

type Restore = { metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown }; spec?: unknown };

export class RestoreAdmission {
  constructor(
    private readonly service: DriftService,
    private readonly options: RestoreAdmissionOptions,
  ) {}

  /** The verdict on a Restore being created; `signal` is the caller's (its connection). */
  async judge(restore: Restore, signal: AbortSignal): Promise<AdmissionVerdict & { backup?: string }> {
    const spec = isMap(restore.spec) ? restore.spec : {};
    let filters: RestoreFilters;
    try {
      filters = restoreFilters(spec);
    } catch (err) {
      if (err instanceof MalformedRestoreError) return this.malformed(restore, err);
      throw err;
    }
    const namespace = typeof restore.metadata?.namespace === 'string' ? restore.metadata.namespace : DEFAULTS.velero.namespace;
    // One deadline for the whole answer: finding a schedule's backup and the analysis.
    const deadline = AbortSignal.timeout(this.options.deadlineMs);
    const origin = await this.origin(spec, namespace, signal, deadline);
    if ('allow' in origin) return { allowed: true, warnings: origin.allow ? [origin.allow] : [] };
    const warm = await this.options.verdicts?.answer(restore, origin, AbortSignal.any([signal, deadline]));
    if (warm) return { ...warm, backup: origin.backup };
    const gate = this.service.gate;
    let analysis: RestoreBackupAnalysis;
    try {
      analysis = await analyzeRestoreBackup(this.service, {
        backup: origin.backup,
        namespace,
        ...(origin.storageLocation ? { storageLocation: origin.storageLocation } : {}),
        signal: AbortSignal.any([signal, deadline]),
      });
    } catch (err) {
      if (signal.aborted) throw err;
      return { ...this.unanswered(origin.backup, errorMessage(err), deadline.aborted), backup: origin.backup };
    }
    if (analysis.outcome === 'absent') return { allowed: true, warnings: [analysis.warning], backup: origin.backup };
    if (analysis.outcome === 'failed') return { ...this.unanswered(origin.backup, analysis.message, false), backup: origin.backup };
    const { report } = analysis;
    const metadata = restore.metadata;
    const overrides = restoreOverride(
      isMap(metadata?.labels) ? metadata.labels : undefined,
      isMap(metadata?.annotations) ? metadata.annotations : undefined,
    );
    let touched: ScopedCluster[];
    try {
      touched = await this.touched(filters, report);
    } catch (err) {
      if (err instanceof MalformedRestoreError) return { ...this.malformed(restore, err), backup: origin.backup };
      throw err;
    }
    // A Healthy cluster is allowed with nothing to say, override or not: only the others are decided (a backup may hold hundreds).
    const healthy = new Set(report.clusters.filter((c) => c.status === 'Healthy').map((c) => `${c.namespace}/${c.name}`));
    const decisions: GateDecision[] = touched
      .filter((c) => !healthy.has(`${c.namespace}/${c.name}`))
      .map((c) => decide(report, c.namespace, c.name, overrides, gate));
    const verdict = admissionVerdict(origin, decisions, gate, report);
    verdict.warnings.unshift(...managementLabelWarnings(touched));
    if (!verdict.allowed && this.options.verdicts) {
      const pointer = await this.options.verdicts.pointer(origin, undefined, AbortSignal.any([signal, deadline]));
      if (pointer.length) verdict.message = [verdict.message, ...pointer].join('\n');
    }
    this.options.logger[verdict.allowed ? 'info' : 'warn'](verdict.allowed ? 'restore admitted' : 'restore denied', {
      restore: typeof restore.metadata?.name === 'string' ? restore.metadata.name : undefined,
      backup: origin.backup,
      clusters: decisions.map((d) => `${d.namespace}/${d.name}:${d.verdict}${d.overridden ? ' (override)' : ''}`),
    });
    return { ...verdict, backup: origin.backup };
  }

  /**
   * The clusters the Restore would restore objects of, judged on every object of theirs the analysis
   * read. Namespaces are judged first, in slices: the event loop (other reviews, health checks) gets
   * its turn every few milliseconds whatever the Restore's patterns cost.
   */
  private async touched(filters: RestoreFilters, report: DriftReport): Promise<ScopedCluster[]> {
    const membership = this.service.membershipOf(report);
    const clusters = judgedClusters(report).map((c) => {
      const objects = membership.objectsOf(c.namespace, c.name);
      return objects ? { ...c, objects } : c;
    });
    const namespaces = new NamespaceFilter(filters);
    await namespaces.judgeAll(
      clusters.map((c) => c.namespace),
      () => new Promise((resolve) => setImmediate(resolve)),
    );
    return touchedClusters(filters, clusters, namespaces);
  }

  /** A Restore whose filters cannot be judged is denied, whatever its backup holds. */
  private malformed(restore: Restore, err: MalformedRestoreError): AdmissionVerdict {
    this.options.logger.warn('restore denied: malformed', {
      restore: typeof restore.metadata?.name === 'string' ? restore.metadata.name : undefined,
      reason: err.message,
    });
    return { allowed: false, message: `drift-detector denied this restore as malformed: ${err.message}`, warnings: [] };
  }

  /** The backup the Restore restores, or why it is allowed without judging. */
  private async origin(
    spec: Record<string, unknown>,
    namespace: string,
    signal: AbortSignal,
    deadline: AbortSignal,
  ): Promise<Origin | { allow: string }> {
    const backup = spec['backupName'];
    if (typeof backup === 'string' && backup !== '') {
      // Not a backup name: Velero refuses the Restore itself (FailedValidation); nothing to judge.
      return isObjectName(backup) ? { backup } : { allow: '' };
    }
    const schedule = spec['scheduleName'];
    if (typeof schedule !== 'string' || schedule === '') return { allow: '' };
    let found;
    try {
      found = await scheduleBackup(
        { ...this.options.schedules, logger: this.options.logger },
        namespace,
        schedule,
        AbortSignal.any([signal, deadline]),
      );
    } catch (err) {
      if (signal.aborted) throw err;
      found = { failures: [errorMessage(err)] };
    }
    if (found.backup !== undefined)
      return { backup: found.backup, schedule, ...(found.storageLocation ? { storageLocation: found.storageLocation } : {}) };
    // Every source answered and none holds a Completed backup: Velero refuses the Restore itself (FailedValidation).
    if (found.failures.length === 0) return { allow: '' };
    return {
      allow: `drift-detector could not find the newest backup of schedule ${schedule} (${found.failures.join('; ')}): this restore was not checked up front`,
    };
  }

  /** No report within the deadline, or a location that cannot be used: failurePolicy decides. */
  private unanswered(backup: string, cause: string, late: boolean): AdmissionVerdict {
    const fail = this.service.gate.failurePolicy === 'Fail';
    const what = late ? `analysis of backup ${backup} still running, retry in a minute` : `backup ${backup} could not be analysed: ${cause}`;
    this.options.logger.warn(late ? 'restore admission deadline passed' : 'restore admission without analysis', {
      backup,
      failurePolicy: fail ? 'Fail' : 'Ignore',
      ...(late ? {} : { error: cause }),
    });
    return fail
      ? { allowed: false, message: `drift-detector: ${what}`, warnings: [] }
      : { allowed: true, warnings: [`drift-detector did not check this restore: ${what}`] };
  }
}
