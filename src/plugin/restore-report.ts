/**
 * What the plugin leaves on the Restore, best effort: the gate's outcome for every Cluster so far
 * as annotations (so `kubectl get restore -o yaml` tells the story next to the Clusters' own
 * annotations), and one Event per Cluster (`kubectl describe restore`). A failure here is logged
 * and never fails the item: the restore matters more than its paperwork.
 *
 * Annotations on the Restore:
 * - `driftdetector.dev/verdict`: BLOCK when any Cluster's verdict is BLOCK, else ALLOW;
 * - `driftdetector.dev/summary`: one line, e.g. `2 Clusters: 1 restored, 1 blocked (default/wc-drift)`;
 * - `driftdetector.dev/clusters`: JSON list of {cluster, status, verdict, action, overridden}.
 */
import { OVERRIDE_REASON_ANNOTATION, STATUS_ANNOTATION, VERDICT_ANNOTATION, type GateDecision } from '../gate/decide.js';
import type { DecisionSummary } from '../rpc/gate-trailer.js';
import { errorMessage } from '../util/values.js';
import type { Logger } from '../util/jsonlog.js';
import type { RestoreRef, VeleroCluster } from './cluster.js';

export const RESTORE_VERDICT_ANNOTATION = 'driftdetector.dev/verdict';
export const RESTORE_SUMMARY_ANNOTATION = 'driftdetector.dev/summary';
export const RESTORE_CLUSTERS_ANNOTATION = 'driftdetector.dev/clusters';

export interface ClusterOutcome {
  /** `namespace/name` */
  cluster: string;
  /** The gate status (Healthy, ManualRemediationRequired, CheckFailed, ...), or `Error` when the item failed before a decision. */
  status: string;
  verdict: 'ALLOW' | 'BLOCK';
  /** restore, pause (restored with spec.paused), or fail (kept out of the restore). */
  action: 'restore' | 'pause' | 'fail';
  overridden: boolean;
  /** Why, in a line: the gate's reason, or the item's error. */
  message: string;
}

export function outcomeFromDecision(decision: GateDecision): ClusterOutcome {
  return {
    cluster: `${decision.namespace}/${decision.name}`,
    status: decision.status,
    verdict: decision.verdict,
    action: decision.action,
    overridden: decision.overridden,
    message: decision.action === 'fail' ? (decision.error ?? decision.reason) : decision.reason,
  };
}

/** From the annotated item a remote service returned. */
export function outcomeFromItem(cluster: string, item: Buffer): ClusterOutcome {
  let object: { metadata?: { annotations?: Record<string, string> }; spec?: { paused?: unknown } } = {};
  try {
    object = JSON.parse(item.toString('utf8')) as typeof object;
  } catch {
    // Velero will refuse it anyway; the summary says what is known.
  }
  const annotations = object.metadata?.annotations ?? {};
  const verdict = annotations[VERDICT_ANNOTATION] === 'BLOCK' ? 'BLOCK' : 'ALLOW';
  const status = annotations[STATUS_ANNOTATION] ?? 'Unknown';
  const overridden = annotations[OVERRIDE_REASON_ANNOTATION] !== undefined;
  const action = verdict === 'BLOCK' && object.spec?.paused === true ? 'pause' : 'restore';
  return {
    cluster,
    status,
    verdict,
    action,
    overridden,
    message: `status ${status}${overridden ? `, overridden: ${annotations[OVERRIDE_REASON_ANNOTATION]}` : ''}`,
  };
}

/** From the decision a remote service sent with its error: the cluster's real status, and the error's words. */
export function outcomeFromRemote(decision: DecisionSummary, err: unknown): ClusterOutcome {
  return { ...decision, message: errorMessage(err) };
}

export function outcomeFromError(cluster: string, err: unknown): ClusterOutcome {
  return { cluster, status: 'Error', verdict: 'BLOCK', action: 'fail', overridden: false, message: errorMessage(err) };
}

/** The Event for one outcome: Warning unless the Cluster was restored as it should be. */
export function eventFor(outcome: ClusterOutcome): { type: 'Normal' | 'Warning'; reason: string; message: string } {
  const head = `Cluster ${outcome.cluster}`;
  if (outcome.action === 'fail') return { type: 'Warning', reason: 'ClusterRestoreBlocked', message: outcome.message };
  if (outcome.action === 'pause')
    return { type: 'Warning', reason: 'ClusterRestoredPaused', message: `${head} restored paused (${outcome.status}): ${outcome.message}` };
  if (outcome.overridden)
    return {
      type: 'Warning',
      reason: 'ClusterRestoreOverridden',
      message: `${head} restored by override (${outcome.status}): ${outcome.message}`,
    };
  if (outcome.verdict === 'BLOCK' || outcome.status === 'CheckFailed') {
    return { type: 'Warning', reason: 'ClusterRestoredWithDrift', message: `${head} restored (${outcome.status}): ${outcome.message}` };
  }
  return { type: 'Normal', reason: 'ClusterRestoreAllowed', message: `${head} restored (${outcome.status}): ${outcome.message}` };
}

/** The Restore's annotations for all outcomes so far. */
export function restoreAnnotations(outcomes: ClusterOutcome[]): Record<string, string> {
  const sorted = [...outcomes].sort((a, b) => a.cluster.localeCompare(b.cluster));
  const count = (action: ClusterOutcome['action']) => sorted.filter((o) => o.action === action);
  const parts = [`${count('restore').length} restored`];
  if (count('pause').length)
    parts.push(
      `${count('pause').length} restored paused (${count('pause')
        .map((o) => o.cluster)
        .join(', ')})`,
    );
  if (count('fail').length)
    parts.push(
      `${count('fail').length} blocked (${count('fail')
        .map((o) => o.cluster)
        .join(', ')})`,
    );
  return {
    [RESTORE_VERDICT_ANNOTATION]: sorted.some((o) => o.verdict === 'BLOCK') ? 'BLOCK' : 'ALLOW',
    [RESTORE_SUMMARY_ANNOTATION]: `${sorted.length} Cluster${sorted.length === 1 ? '' : 's'}: ${parts.join(', ')}`,
    [RESTORE_CLUSTERS_ANNOTATION]: JSON.stringify(
      sorted.map(({ cluster, status, verdict, action, overridden }) => ({ cluster, status, verdict, action, overridden })),
    ),
  };
}

export class RestoreReporter {
  /** Outcomes per Restore (`namespace/name`), by Cluster: the last Execute of a Cluster wins. */
  private readonly outcomes = new Map<string, Map<string, ClusterOutcome>>();
  /** Reports of one Restore go out in order, so the last patch carries every outcome. */
  private readonly queues = new Map<string, Promise<void>>();
  private unavailableLogged = false;

  constructor(
    private readonly cluster: () => Promise<VeleroCluster>,
    private readonly logger: Logger,
  ) {}

  /** Resolves when the Restore is annotated and the Event recorded, or when that failed (logged). */
  report(restore: RestoreRef, outcome: ClusterOutcome): Promise<void> {
    const key = `${restore.namespace}/${restore.name}`;
    const byCluster = this.outcomes.get(key) ?? new Map<string, ClusterOutcome>();
    this.outcomes.set(key, byCluster);
    byCluster.set(outcome.cluster, outcome);
    const next = (this.queues.get(key) ?? Promise.resolve()).then(() => this.send(restore, outcome, [...byCluster.values()]));
    this.queues.set(key, next);
    return next;
  }

  private async send(restore: RestoreRef, outcome: ClusterOutcome, all: ClusterOutcome[]): Promise<void> {
    let cluster: VeleroCluster;
    try {
      cluster = await this.cluster();
    } catch (err) {
      // Without a Kubernetes API (a run outside a cluster) there is nothing to annotate: say so once.
      if (!this.unavailableLogged)
        this.logger.warn('cannot annotate the Restore or record Events', { restore: restore.name, error: errorMessage(err) });
      this.unavailableLogged = true;
      return;
    }
    const fields = { restore: `${restore.namespace}/${restore.name}`, cluster: outcome.cluster };
    const [annotated, recorded] = await Promise.allSettled([
      cluster.annotateRestore(restore, restoreAnnotations(all)),
      cluster.recordEvent({ restore, ...eventFor(outcome) }),
    ]);
    if (annotated.status === 'rejected') this.logger.warn('cannot annotate the Restore', { ...fields, error: errorMessage(annotated.reason) });
    if (recorded.status === 'rejected')
      this.logger.warn('cannot record an Event on the Restore', { ...fields, error: errorMessage(recorded.reason) });
    if (annotated.status === 'fulfilled' && recorded.status === 'fulfilled') this.logger.debug('Restore annotated', fields);
  }
}
