/**
 * `remediate --apply`: the vSphere and Node parts of the plan, done only where the world still is
 * what the report says, and only on what is re-derived from live sources (docs/remediate.md).
 * Before any action the backup is read again and vCenter walked once (a fresh detection); a VM is
 * touched only when the report lists it as a Ghost and the fresh detection finds it a Ghost with
 * the same name, BIOS UUID, instance UUID, cluster and role; vCenter's SearchIndex must find that
 * one VM by both UUIDs right before the task. The report's words are compared, never acted on: the
 * Node to delete is the one that carries the VM's BIOS UUID, and control-plane-ness comes from the
 * backup, the Node's role label and the etcd Pods.
 */
import type { BackupSource } from '../backup/source.js';
import { DEFAULTS } from '../config/defaults.js';
import type { DriftReport, MachineReport } from '../model/report.js';
import { remediationPlan, type MachinePlan } from '../remediate/plan.js';
import { errorMessage } from '../util/values.js';
import { DomainError } from './errors.js';
import {
  livePeers,
  type ApplyRules,
  type FreshView,
  type LivePeerOptions,
  type RemediationPeers,
  type VerifiedGhost,
} from './remediate-peers.js';

export interface ApplyOptions extends LivePeerOptions, ApplyRules {
  maxReportAgeMs?: number;
}

export type Outcome = 'done' | 'refused' | 'skipped' | 'failed';

export interface ApplyResult {
  entries: Array<{ machine: string; cluster?: string; outcome: Outcome; reason: string }>;
}

/** Refuses, before anything is read, a report that is too old or comes from another backup. */
export function checkReportUsable(report: DriftReport, backup: string, now: Date, maxAgeMs = DEFAULTS.remediate.maxReportAgeMs): void {
  const meta = report.metadata;
  if (!meta) throw new DomainError('invalid-argument', 'the report has no metadata (backup, generatedAt): write it again with detect');
  if (meta.backup !== backup) throw new DomainError('invalid-argument', `the report is of backup ${meta.backup}, not of ${backup}`);
  const age = now.getTime() - Date.parse(meta.generatedAt);
  if (!Number.isFinite(age) || age < 0)
    throw new DomainError('invalid-argument', `the report's generatedAt ${meta.generatedAt} is not a past time`);
  if (age > maxAgeMs) {
    throw new DomainError(
      'invalid-argument',
      `the report is ${Math.round(age / 60000)} min old, more than ${Math.round(maxAgeMs / 60000)} min: run detect again`,
    );
  }
}

export async function applyRemediation(report: DriftReport, source: BackupSource, options: ApplyOptions): Promise<ApplyResult> {
  checkReportUsable(report, source.description, (options.now ?? (() => new Date()))(), options.maxReportAgeMs);
  if (ghostsOf(report).length === 0) return { entries: [] };
  return applyWith(report, await livePeers(source, options), options);
}

const ghostsOf = (report: DriftReport) => remediationPlan(report).entries.filter((e) => e.action === 'remediate');

/** The Ghosts of the report, each re-verified against `peers` and acted on only then. */
export async function applyWith(report: DriftReport, peers: RemediationPeers, rules: ApplyRules): Promise<ApplyResult> {
  const result: ApplyResult = { entries: [] };
  const ghosts = ghostsOf(report);
  if (ghosts.length === 0) return result;
  const fresh = await peers.detect();
  const { actOnGhost, RefusedError } = await import('./remediate-vm.js');
  for (const entry of ghosts) {
    const record = (outcome: Outcome, reason: string) => {
      rules.log(`${entry.cluster ?? ''} ${entry.machine}: ${outcome}: ${reason}`);
      result.entries.push({ machine: entry.machine, ...(entry.cluster ? { cluster: entry.cluster } : {}), outcome, reason });
    };
    const verified = verifyGhost(entry, fresh, rules.etcdMemberRemoved);
    if (typeof verified === 'string') {
      record('refused', verified);
      continue;
    }
    if (!(await rules.confirm(entry))) {
      record('skipped', 'not confirmed');
      continue;
    }
    try {
      const done = peers.withVCenter(verified.vcenter, (vc) => actOnGhost(verified, vc, peers.cluster(verified.cluster), rules));
      if (done) record('done', await done);
      else record('refused', `no vSphere credentials for ${verified.vcenter}`);
    } catch (err) {
      record(err instanceof RefusedError ? 'refused' : 'failed', errorMessage(err));
    }
  }
  return result;
}

interface Seen {
  m: MachineReport;
  cluster: string;
  controlPlane: boolean;
}

/** The Ghost as the fresh detection sees it, or why the report's entry does not hold any more. */
export function verifyGhost(entry: MachinePlan, view: FreshView, etcdMemberRemoved: ReadonlySet<string>): VerifiedGhost | string {
  if (!entry.biosUUID || !entry.instanceUUID || !entry.vcenter)
    return 'the report does not name its VM by BIOS UUID, instance UUID and vCenter';
  const fresh = view.report;
  // Without a fresh listing nothing can be re-verified: say why the vCenter did not answer, not that the Ghost is gone.
  const unlisted = fresh.errors.find((e) => e.severity === 'error' && e.scope === `vcenter:${entry.vcenter}`);
  if (unlisted) return `vCenter ${entry.vcenter} could not be listed, so the Ghost cannot be re-verified: ${unlisted.message}`;
  const bios = entry.biosUUID.toLowerCase();
  const now: Seen[] = fresh.clusters.flatMap((c) => {
    const cluster = `${c.namespace}/${c.name}`;
    return [
      ...c.controlPlane.machines.map((m) => ({ m, cluster, controlPlane: true })),
      ...c.workers.machines.map((m) => ({ m, cluster, controlPlane: false })),
    ];
  });
  const same = (m: MachineReport) => m.vcenter === entry.vcenter && m.biosUUID?.toLowerCase() === bios;
  const matched = now.find(({ m }) => same(m) && m.status !== 'Ghost');
  if (matched) return `the backup now has Machine ${matched.m.name} for this VM (${matched.m.status})`;
  const ghost = now.find(({ m }) => same(m) && m.status === 'Ghost' && m.source === 'vm');
  const infra = fresh.infraMachines.find((vm) => vm.vcenter === entry.vcenter && vm.biosUUID.toLowerCase() === bios);
  if (!ghost && infra && infra.name !== entry.machine)
    return `the VM is now named ${infra.name}, not ${entry.machine}, and no Ghost of any cluster: renamed since the report`;
  if (!ghost) return `no VM with BIOS UUID ${bios} is a Ghost on ${entry.vcenter} any more (gone, or re-created with another BIOS UUID)`;
  const claim = view.claimedBy(bios) ?? (ghost.m.instanceUUID ? view.claimedBy(ghost.m.instanceUUID.toLowerCase()) : undefined);
  if (claim) return `the backup holds ${claim} for this VM: not a Ghost`;
  return sameGhost(entry, ghost, etcdMemberRemoved);
}

/** The report's entry against the fresh Ghost with its BIOS UUID: every fact must agree. */
function sameGhost(entry: MachinePlan, { m, cluster, controlPlane }: Seen, etcdMemberRemoved: ReadonlySet<string>): VerifiedGhost | string {
  if (m.instanceUUID?.toLowerCase() !== entry.instanceUUID!.toLowerCase()) {
    return `the VM with BIOS UUID ${m.biosUUID} now has instance UUID ${m.instanceUUID ?? 'none'}, not ${entry.instanceUUID}: re-created since the report`;
  }
  if (m.name !== entry.machine) return `the VM is now named ${m.name}, not ${entry.machine}: renamed since the report`;
  if (cluster !== entry.cluster) return `the VM now counts as a Ghost of ${cluster}, not ${entry.cluster}`;
  const role = controlPlane ? 'control-plane' : 'worker';
  if (entry.role !== role)
    return `the report lists it as a ${entry.role} machine, but it is a ${role} Ghost of ${cluster}: the report was changed`;
  if (controlPlane && !etcdMemberRemoved.has(m.name)) {
    return 'control-plane Ghost: remove its etcd member first, then give --etcd-member-removed with its name';
  }
  if (entry.nodeName && m.nodeName && entry.nodeName !== m.nodeName) {
    return `the report names Node ${entry.nodeName} for it, but its Node is ${m.nodeName}: the report was changed`;
  }
  return {
    machine: m.name,
    cluster,
    vcenter: m.vcenter!,
    biosUUID: m.biosUUID!.toLowerCase(),
    instanceUUID: m.instanceUUID.toLowerCase(),
    controlPlane,
    ...(entry.nodeName ? { reportedNode: entry.nodeName } : {}),
  };
}
