/**
 * The restore gate (docs/restore-gate.md §2 to §6): for one Cluster being restored, what happens
 * to it and which annotations it carries. Pure: the caller brings the report (or the analysis
 * failure), the Restore's annotations and the gate configuration.
 *
 * Three cases with no drift status (§3):
 * - A Cluster the analysis left out on purpose (the old management cluster, named in the report's
 *   warnings only; gate/judged-clusters.ts) is not the gate's to hold back: ALLOW, status `NotAnalyzed`.
 * - Any other Cluster that is not in the report (the detector left it out, e.g. it is not a vSphere cluster
 *   or its objects are unusable) was never checked. It is treated like NeedFurtherConfirmation:
 *   failurePolicy Fail blocks it, Ignore lets it through; either way its status annotation says
 *   `NotAnalyzed`.
 * - When the analysis itself failed (backup unreadable, storage unreachable, ...), failurePolicy
 *   Fail blocks every Cluster; Ignore restores it with status `CheckFailed` and the cause in
 *   `driftdetector.dev/check-error`.
 * An override covers both, as it covers a drift: the admin has taken responsibility.
 */
import type { ClusterReport, DriftReport, MachineReport, RollupStatus } from '../model/report.js';
import { leftOutOnPurpose, leftOutReason } from './judged-clusters.js';
import { OVERRIDE_ANNOTATION, OVERRIDE_CLUSTERS_ANNOTATION, overrideCovers, parseOverride, type Override } from './override.js';
import { verdictForStatus, type FailurePolicy, type Verdict } from './verdict.js';
import { printable } from '../util/shell.js';

export type GateMode = 'block' | 'annotate';

export interface GateConfig {
  mode: GateMode;
  failurePolicy: FailurePolicy;
  pauseOnDrift: boolean;
}

export const STATUS_ANNOTATION = 'driftdetector.dev/status';
export const GHOST_MACHINES_ANNOTATION = 'driftdetector.dev/ghost-machines';
export const STALE_MACHINES_ANNOTATION = 'driftdetector.dev/stale-machines';
export const UNKNOWN_MACHINES_ANNOTATION = 'driftdetector.dev/unknown-machines';
export const VERDICT_ANNOTATION = 'driftdetector.dev/verdict';
export const OVERRIDE_REASON_ANNOTATION = 'driftdetector.dev/override-reason';
export const CHECK_ERROR_ANNOTATION = 'driftdetector.dev/check-error';
/** Every annotation the gate sets starts so; any such key an item brings from the backup is dropped. */
export const GATE_ANNOTATION_PREFIX = 'driftdetector.dev/';
/** Cluster API's pause annotation: its controllers leave an object so marked alone. */
export const CAPI_PAUSED_ANNOTATION = 'cluster.x-k8s.io/paused';

/** Status of a Cluster the report does not hold, and of every Cluster when the analysis failed. */
export type GateStatus = RollupStatus | 'NotAnalyzed' | 'CheckFailed';

/** What the restore does with the Cluster item. */
export type GateAction = 'restore' | 'pause' | 'fail';

export interface GateDecision {
  namespace: string;
  name: string;
  status: GateStatus;
  /** The verdict of the drift alone, before any override. */
  driftVerdict: Verdict;
  /** The verdict that counts: ALLOW when an override covers a BLOCK. */
  verdict: Verdict;
  overridden: boolean;
  action: GateAction;
  paused: boolean;
  /** One line for people: why this verdict. */
  reason: string;
  /** To set on the restored Cluster (also computed for a failed item, for the Check API). */
  annotations: Record<string, string>;
  /** For action `fail`: the message the Execute fails with. */
  error?: string;
  /** Why the Restore's override, though set, does not cover this blocked cluster (a blank or malformed scope). */
  overrideProblem?: string;
  ghostMachines: string[];
  staleMachines: string[];
  unknownMachines: string[];
}

/** Most machine names listed in one annotation or message; a runaway list helps nobody. */
const MAX_LISTED = 50;

export function decide(
  report: DriftReport,
  clusterNamespace: string,
  clusterName: string,
  restoreAnnotations: Record<string, unknown> | undefined | null,
  config: GateConfig,
): GateDecision {
  const cluster = report.clusters.find((c) => c.namespace === clusterNamespace && c.name === clusterName);
  const override = parseOverride(restoreAnnotations);
  const backup = report.metadata?.backup;
  if (!cluster && leftOutOnPurpose(report, clusterNamespace, clusterName)) {
    const why = `cluster ${clusterNamespace}/${clusterName} was left out of the drift check on purpose: ${leftOutReason(report, clusterNamespace, clusterName)}`;
    return finish({
      namespace: clusterNamespace,
      name: clusterName,
      status: 'NotAnalyzed',
      driftVerdict: 'ALLOW',
      why,
      blockDetail: why,
      machines: { ghost: [], stale: [], unknown: [] },
      override,
      config,
      extra: {},
    });
  }
  if (!cluster) {
    const scoped = report.errors.filter((e) => e.scope === `cluster:${clusterNamespace}/${clusterName}`).map((e) => e.message);
    const why =
      `cluster ${clusterNamespace}/${clusterName} is not in the drift report${backup ? ` of ${backup}` : ''}` +
      (scoped.length ? `: ${scoped.join('; ')}` : ' (the detector found no usable Cluster API objects for it)');
    return finish({
      namespace: clusterNamespace,
      name: clusterName,
      status: 'NotAnalyzed',
      driftVerdict: verdictForStatus('NeedFurtherConfirmation', config),
      why,
      blockDetail: `it was not analysed: ${why}`,
      machines: { ghost: [], stale: [], unknown: [] },
      override,
      config,
      extra: {},
    });
  }
  const machines = machinesOf(cluster);
  return finish({
    namespace: clusterNamespace,
    name: clusterName,
    status: cluster.status,
    driftVerdict: verdictForStatus(cluster.status, config),
    why: statusReason(cluster, machines, report),
    blockDetail: blockDetail(cluster, machines, backup, report),
    machines,
    override,
    config,
    extra: {},
  });
}

/** The decision when no report exists because the analysis failed; `failure` is the cause (no secrets). */
export function decideOnCheckFailure(
  clusterNamespace: string,
  clusterName: string,
  restoreAnnotations: Record<string, unknown> | undefined | null,
  config: GateConfig,
  failure: string,
): GateDecision {
  const override = parseOverride(restoreAnnotations);
  const driftVerdict: Verdict = config.failurePolicy === 'Fail' ? 'BLOCK' : 'ALLOW';
  return finish({
    namespace: clusterNamespace,
    name: clusterName,
    status: 'CheckFailed',
    driftVerdict,
    why: `the drift check failed: ${failure}`,
    blockDetail: `the drift check failed (failurePolicy Fail): ${failure}`,
    machines: { ghost: [], stale: [], unknown: [] },
    override,
    config,
    extra: { [CHECK_ERROR_ANNOTATION]: truncate(failure, 1024) },
  });
}

interface MachineNames {
  ghost: string[];
  stale: string[];
  unknown: string[];
}

interface DecisionInput {
  namespace: string;
  name: string;
  status: GateStatus;
  driftVerdict: Verdict;
  why: string;
  blockDetail: string;
  machines: MachineNames;
  override: Override | undefined;
  config: GateConfig;
  extra: Record<string, string>;
}

function finish(input: DecisionInput): GateDecision {
  const { namespace, name, status, driftVerdict, machines, override, config } = input;
  const covered = overrideCovers(override, namespace, name);
  const overridden = driftVerdict === 'BLOCK' && covered;
  const verdict: Verdict = overridden ? 'ALLOW' : driftVerdict;
  let action: GateAction = 'restore';
  if (verdict === 'BLOCK') action = config.mode === 'block' ? 'fail' : config.pauseOnDrift ? 'pause' : 'restore';

  let reason = input.why;
  if (overridden) reason += `; overridden: ${override!.reason}`;
  else if (driftVerdict === 'BLOCK' && override?.scopeProblem) reason += `; the override does not cover it: ${override.scopeProblem}`;
  if (action === 'pause') reason += '; restored paused (pauseOnDrift)';
  // Names come from vSphere and the backup: escaped, so none can forge a line of a message or log.
  reason = printable(reason);

  const annotations: Record<string, string> = {
    [STATUS_ANNOTATION]: status,
    [VERDICT_ANNOTATION]: verdict,
    [GHOST_MACHINES_ANNOTATION]: listed(machines.ghost),
    [STALE_MACHINES_ANNOTATION]: listed(machines.stale),
    ...(machines.unknown.length ? { [UNKNOWN_MACHINES_ANNOTATION]: listed(machines.unknown) } : {}),
    ...(overridden ? { [OVERRIDE_REASON_ANNOTATION]: override!.reason } : {}),
    ...input.extra,
  };

  const decision: GateDecision = {
    namespace,
    name,
    status,
    driftVerdict,
    verdict,
    overridden,
    action,
    paused: action === 'pause',
    reason,
    annotations,
    ghostMachines: machines.ghost,
    staleMachines: machines.stale,
    unknownMachines: machines.unknown,
  };
  if (driftVerdict === 'BLOCK' && !overridden && override?.scopeProblem) decision.overrideProblem = override.scopeProblem;
  if (action === 'fail') decision.error = printable(blockMessage(namespace, name, input.blockDetail, override));
  return decision;
}

function machinesOf(cluster: ClusterReport): MachineNames {
  const all = [...cluster.controlPlane.machines, ...cluster.workers.machines];
  const named = (status: MachineReport['status']) => all.filter((m) => m.status === status).map((m) => m.name);
  return { ghost: named('Ghost'), stale: named('Stale'), unknown: named('Unknown') };
}

function statusReason(cluster: ClusterReport, machines: MachineNames, report: DriftReport): string {
  switch (cluster.status) {
    case 'Healthy':
      return 'every backed-up machine matched a VM and no ghost machine was found';
    case 'ManualRemediationNotRequired':
      return `stale machines (objects without a VM; Cluster API replaces them): ${shortList(machines.stale)}`;
    case 'ManualRemediationRequired':
      return `ghost machines (VMs with no object in the backup): ${shortList(machines.ghost)}`;
    default: {
      const parts: string[] = [];
      const unknown = unknownByReason(cluster);
      if (unknown) parts.push(`unknown machines: ${unknown}`);
      const errors = report.errors.filter((e) => e.severity === 'error' && e.scope === `cluster:${cluster.namespace}/${cluster.name}`);
      if (errors.length) parts.push(`errors: ${errors.map((e) => e.message).join('; ')}`);
      return `the detector could not confirm every machine${parts.length ? `: ${parts.join('; ')}` : ''}`;
    }
  }
}

function blockDetail(cluster: ClusterReport, machines: MachineNames, backup: string | undefined, report: DriftReport): string {
  if (cluster.status === 'ManualRemediationRequired') {
    return (
      `it has ghost machines ${shortList(machines.ghost)} (VMs in vSphere with no object in ` +
      `${backup ?? 'the backup'}; the restored Cluster would not manage them, and they would compete with the machines Cluster API creates)`
    );
  }
  const unknown = unknownByReason(cluster);
  const causes = vcenterCauses(cluster, report);
  return (
    `the detector could not confirm its machines (NeedFurtherConfirmation, failurePolicy Fail)` +
    (unknown ? `: unknown machines ${unknown}` : '') +
    (causes ? `; ${causes}` : '')
  );
}

/**
 * The errors of the vCenters its Unknown machines are on, each once: their reasons refer to them,
 * and a restore's error is all a Velero user reads.
 */
function vcenterCauses(cluster: ClusterReport, report: DriftReport): string {
  const scopes = new Set<string>();
  for (const m of [...cluster.controlPlane.machines, ...cluster.workers.machines]) {
    if (m.status === 'Unknown' && m.vcenter) scopes.add(`vcenter:${m.vcenter}`);
  }
  return report.errors
    .filter((e) => e.severity === 'error' && scopes.has(e.scope))
    .map((e) => `${e.scope}: ${e.message}`)
    .join('; ');
}

/**
 * The Unknown machines grouped by why, each reason said once: every machine of a vCenter that
 * could not be listed shares one reason, and a line repeating it per machine helps nobody.
 */
function unknownByReason(cluster: ClusterReport): string {
  const byReason = new Map<string, string[]>();
  for (const m of [...cluster.controlPlane.machines, ...cluster.workers.machines]) {
    if (m.status !== 'Unknown') continue;
    const names = byReason.get(m.reason);
    if (names) names.push(m.name);
    else byReason.set(m.reason, [m.name]);
  }
  return [...byReason].map(([reason, names]) => `${shortList(names)} (${reason})`).join('; ');
}

function blockMessage(namespace: string, name: string, detail: string, override: Override | undefined): string {
  const scopedHint = override?.scopeProblem
    ? ` (${override.scopeProblem})`
    : override?.clusters !== undefined
      ? ` (the Restore's override covers only: ${override.clusters.map((c) => `${c.namespace}/${c.name}`).join(', ')})`
      : '';
  return (
    `drift-detector blocked the restore of Cluster ${namespace}/${name}: ${detail}. ` +
    `Clean up the drift and restore again, or restore it anyway with the label ${OVERRIDE_ANNOTATION}=<ticket> on the Restore ` +
    `(velero restore create --labels, any Velero) or the annotation ${OVERRIDE_ANNOTATION}: "<reason>" ` +
    `(narrowed with ${OVERRIDE_CLUSTERS_ANNOTATION}: "${namespace}/${name}")` +
    scopedHint
  );
}

function shortList(items: string[]): string {
  if (items.length === 0) return '(none)';
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

function listed(names: string[]): string {
  if (names.length <= MAX_LISTED) return printable(names.join(','));
  return printable(`${names.slice(0, MAX_LISTED).join(',')},+${names.length - MAX_LISTED} more`);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
