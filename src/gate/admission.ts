/**
 * The admission verdict on a whole Restore (drift semantics §7, "Admission"): from the gate's
 * decision on each cluster the Restore touches, allow or deny it, with a message that names the
 * backup, each blocked cluster with its status and ghost machines, each vCenter failure behind
 * unconfirmed machines once with its fix, and the override commands of both Velero CLI generations. Non-blocking findings become warnings. Pure.
 */
import type { DriftReport } from '../model/report.js';
import type { GateConfig, GateDecision } from './decide.js';
import { OVERRIDE_ANNOTATION, OVERRIDE_CLUSTERS_ANNOTATION } from './override.js';
import { printable } from '../util/shell.js';

export interface AdmissionVerdict {
  allowed: boolean;
  /** Set when denied: what `velero restore create` prints. */
  message?: string;
  warnings: string[];
}

/** Where the Restore comes from, as the operator typed it: `--from-backup B` or `--from-schedule S`. */
export interface RestoreOrigin {
  backup: string;
  schedule?: string;
}

/** Most clusters named one by one in a denial; the rest are counted. */
const MAX_CLUSTERS = 20;
/** Most machine names per cluster in a denial. */
const MAX_MACHINES = 10;

/**
 * Deny when a cluster is BLOCKed, not overridden, in mode `block`. In mode `annotate` the gate
 * restores drifted clusters annotated (and paused with pauseOnDrift), so admission only warns.
 */
export function admissionVerdict(origin: RestoreOrigin, decisions: GateDecision[], config: GateConfig, report?: DriftReport): AdmissionVerdict {
  const blocked = decisions.filter((d) => d.verdict === 'BLOCK');
  const warnings = decisions.flatMap((d) => warningsOf(d, origin.backup));
  if (blocked.length === 0 || config.mode === 'annotate') {
    if (config.mode === 'annotate') {
      for (const d of blocked) {
        warnings.push(
          `cluster ${d.namespace}/${d.name} of backup ${origin.backup} is ${d.status}: it will be restored annotated${d.paused ? ' and paused' : ''}`,
        );
      }
    }
    return { allowed: true, warnings };
  }
  return { allowed: false, message: denialMessage(origin, blocked, report ? vcenterFailuresBehind(report, blocked) : []), warnings };
}

/**
 * Each vCenter that could not be listed and left a blocked cluster's machines unconfirmed, once,
 * as `vCenter <key>: <why, with its fix>` (the detection words the fix in the door's terms).
 */
export function vcenterFailuresBehind(report: DriftReport, blocked: GateDecision[]): string[] {
  const failures = new Map(
    report.errors.filter((e) => e.scope.startsWith('vcenter:')).map((e) => [e.scope.slice('vcenter:'.length), e.message]),
  );
  const named = new Set<string>();
  for (const d of blocked) {
    const cluster = report.clusters.find((c) => c.namespace === d.namespace && c.name === d.name);
    for (const m of cluster ? [...cluster.controlPlane.machines, ...cluster.workers.machines] : []) {
      if (m.status === 'Unknown' && m.vcenter && failures.has(m.vcenter)) named.add(m.vcenter);
    }
  }
  return [...named].sort().map((vcenter) => `vCenter ${vcenter}: ${failures.get(vcenter)!}`);
}

function warningsOf(d: GateDecision, backup: string): string[] {
  const id = `cluster ${printable(`${d.namespace}/${d.name}`)}`;
  if (d.overridden)
    return [`${id} of backup ${backup} is ${d.status}; restored by override: ${d.annotations['driftdetector.dev/override-reason'] ?? ''}`];
  if (d.verdict === 'BLOCK') return [];
  if (d.status === 'ManualRemediationNotRequired') return [`${id}: stale machines ${names(d.staleMachines)} (Cluster API replaces them)`];
  if (d.status === 'NeedFurtherConfirmation' || d.status === 'NotAnalyzed' || d.status === 'CheckFailed')
    return [`${id}: ${d.status}: ${d.reason}`];
  return [];
}

/** The denial: one line per blocked cluster, then the override for every Velero CLI generation. */
export function denialMessage(origin: RestoreOrigin, blocked: GateDecision[], unconfirmedBecause: string[] = []): string {
  const from = origin.schedule ? `--from-schedule ${origin.schedule}` : `--from-backup ${origin.backup}`;
  const lines = [
    `drift-detector denied this restore: backup ${origin.backup}${origin.schedule ? ` (newest of schedule ${origin.schedule})` : ''} ` +
      `holds ${blocked.length} cluster(s) the restore gate blocks (vSphere no longer matches the backup, or could not be confirmed):`,
  ];
  for (const d of blocked.slice(0, MAX_CLUSTERS)) {
    const ghosts = d.ghostMachines.length ? `; ghost machines (VMs with no object in the backup): ${names(d.ghostMachines)}` : '';
    const unknown = !ghosts && d.unknownMachines.length ? `; unconfirmed machines: ${names(d.unknownMachines)}` : '';
    lines.push(`- Cluster ${printable(`${d.namespace}/${d.name}`)}: ${d.status}${ghosts}${unknown}${ghosts || unknown ? '' : `: ${d.reason}`}`);
  }
  if (blocked.length > MAX_CLUSTERS) lines.push(`- and ${blocked.length - MAX_CLUSTERS} more`);
  const problems = [...new Set(blocked.flatMap((d) => (d.overrideProblem ? [d.overrideProblem] : [])))];
  for (const problem of problems) lines.push(`The Restore's override does not apply: ${problem}.`);
  if (unconfirmedBecause.length) {
    lines.push(
      'Machines could not be confirmed because these vCenters could not be listed:',
      ...unconfirmedBecause.map((cause) => `- ${printable(cause)}`),
    );
  }
  const scope = printable(blocked.map((d) => `${d.namespace}/${d.name}`).join(','));
  lines.push(
    ...overrideCommands(from),
    // A label value cannot hold "ns/name,...": on Velero < 1.16 the scope goes in through the -o yaml route.
    `Narrow the override to these clusters with the annotation ${OVERRIDE_CLUSTERS_ANNOTATION}: "${scope}" (Velero >= 1.16, or the -o yaml route).`,
  );
  return lines.join('\n');
}

/** How to restore anyway, for every Velero CLI generation; `from` is `--from-backup B` or `--from-schedule S`. */
export function overrideCommands(from: string): string[] {
  return [
    'Nothing was restored. Clean up the drift (delete the ghost VMs or confirm them) and restore again, or restore anyway, taking responsibility:',
    `  Velero < 1.16:  velero restore create ${from} --labels ${OVERRIDE_ANNOTATION}=<ticket>`,
    `  Velero >= 1.16: velero restore create ${from} --annotations ${OVERRIDE_ANNOTATION}="<reason>"`,
    `  any version:    velero restore create ${from} -o yaml > restore.yaml; add metadata.annotations ${OVERRIDE_ANNOTATION}: "<reason>"; kubectl create -f restore.yaml`,
  ];
}

function names(list: string[]): string {
  const shown = printable(list.slice(0, MAX_MACHINES).join(', '));
  return list.length > MAX_MACHINES ? `${shown} and ${list.length - MAX_MACHINES} more` : shown || '(none)';
}
