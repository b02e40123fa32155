/**
 * `remediate --apply`: the vSphere and Node parts of the plan, done only where the world still is
 * what the report says. Before any action the backup is read again and vCenter walked once (a
 * fresh detection); a VM is touched only when the report lists it as a Ghost, the fresh detection
 * still finds it a Ghost with the same name, BIOS UUID and instance UUID, and vCenter's SearchIndex
 * finds exactly that one VM by both UUIDs right before the task.
 */
import { readBackup } from '../backup/reader.js';
import type { BackupSource } from '../backup/source.js';
import { vcenterTargetsOf } from '../backup/vcenter-targets.js';
import { kubeconfigOf } from '../backup/workload-clusters.js';
import { DEFAULTS } from '../config/defaults.js';
import type { BackupObjects } from '../model/backup.js';
import type { DriftReport, MachineReport } from '../model/report.js';
import { vcenterKey } from '../model/vcenter.js';
import { remediationPlan, type MachinePlan } from '../remediate/plan.js';
import { errorMessage } from '../util/values.js';
import { detectDriftOf, withCredentials, type DetectOptions } from './detect.js';
import { DomainError } from './errors.js';

export interface ApplyOptions extends DetectOptions {
  /** Control-plane Ghosts (by name) whose etcd member the operator has removed. */
  etcdMemberRemoved: ReadonlySet<string>;
  /** Asked once per VM before anything is done to it; false skips it. */
  confirm: (entry: MachinePlan) => Promise<boolean>;
  /** One line per check and action, with the state before and after. */
  log: (line: string) => void;
  maxReportAgeMs?: number;
  taskTimeoutMs?: number;
  taskPollMs?: number;
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
  const ghosts = remediationPlan(report).entries.filter((e) => e.action === 'remediate');
  const result: ApplyResult = { entries: [] };
  if (ghosts.length === 0) return result;
  const objects = await readBackup(source, { signal: options.signal });
  const fresh = await detectDriftOf(objects, source.description, options);
  const { ready } = withCredentials(vcenterTargetsOf(objects), options.credentials, options.words);
  const { actOnGhost, RefusedError } = await import('./remediate-vm.js');
  for (const entry of ghosts) {
    const record = (outcome: Outcome, reason: string) => {
      options.log(`${entry.cluster ?? ''} ${entry.machine}: ${outcome}: ${reason}`);
      result.entries.push({ machine: entry.machine, ...(entry.cluster ? { cluster: entry.cluster } : {}), outcome, reason });
    };
    const refusal = whyRefuse(entry, fresh, options.etcdMemberRemoved);
    if (refusal) {
      record('refused', refusal);
      continue;
    }
    if (!(await options.confirm(entry))) {
      record('skipped', 'not confirmed');
      continue;
    }
    const target = ready.find((t) => vcenterKey(t.server) === entry.vcenter);
    if (!target) {
      record('refused', `no vSphere credentials for ${entry.vcenter}`);
      continue;
    }
    try {
      const kubeconfig = clusterKubeconfig(objects, entry);
      const note = await actOnGhost(entry, target, kubeconfig, options);
      record('done', note);
    } catch (err) {
      record(err instanceof RefusedError ? 'refused' : 'failed', errorMessage(err));
    }
  }
  return result;
}

/** Why this Ghost of the report must not be touched now, if it must not. */
export function whyRefuse(entry: MachinePlan, fresh: DriftReport, etcdMemberRemoved: ReadonlySet<string>): string | undefined {
  if (!entry.biosUUID || !entry.instanceUUID || !entry.vcenter)
    return 'the report does not name its VM by BIOS UUID, instance UUID and vCenter';
  if (entry.role === 'control-plane' && !etcdMemberRemoved.has(entry.machine)) {
    return 'control-plane Ghost: remove its etcd member first, then give --etcd-member-removed with its name';
  }
  // Without a fresh listing nothing can be re-verified: say why the vCenter did not answer, not that the Ghost is gone.
  const unlisted = fresh.errors.find((e) => e.severity === 'error' && e.scope === `vcenter:${entry.vcenter}`);
  if (unlisted) return `vCenter ${entry.vcenter} could not be listed, so the Ghost cannot be re-verified: ${unlisted.message}`;
  const bios = entry.biosUUID.toLowerCase();
  const now = fresh.clusters.flatMap((c) =>
    [...c.controlPlane.machines, ...c.workers.machines].map((m) => ({ m, cluster: `${c.namespace}/${c.name}` })),
  );
  const same = (m: MachineReport) => m.vcenter === entry.vcenter && m.biosUUID?.toLowerCase() === bios;
  const matched = now.find(({ m }) => same(m) && m.status !== 'Ghost');
  if (matched) return `the backup now has Machine ${matched.m.name} for this VM (${matched.m.status})`;
  const ghost = now.find(({ m }) => same(m) && m.status === 'Ghost' && m.source === 'vm');
  const infra = fresh.infraMachines.find((vm) => vm.vcenter === entry.vcenter && vm.biosUUID.toLowerCase() === bios);
  if (!ghost && infra && infra.name !== entry.machine)
    return `the VM is now named ${infra.name}, not ${entry.machine}, and no Ghost of any cluster: renamed since the report`;
  if (!ghost) return `no VM with BIOS UUID ${bios} is a Ghost on ${entry.vcenter} any more (gone, or re-created with another BIOS UUID)`;
  if (ghost.m.instanceUUID?.toLowerCase() !== entry.instanceUUID.toLowerCase()) {
    return `the VM with BIOS UUID ${bios} now has instance UUID ${ghost.m.instanceUUID ?? 'none'}, not ${entry.instanceUUID}: re-created since the report`;
  }
  if (ghost.m.name !== entry.machine) return `the VM is now named ${ghost.m.name}, not ${entry.machine}: renamed since the report`;
  if (ghost.cluster !== entry.cluster) return `the VM now counts as a Ghost of ${ghost.cluster}, not ${entry.cluster}`;
  return undefined;
}

function clusterKubeconfig(objects: BackupObjects, entry: MachinePlan): { namespace: string; cluster: string; kubeconfig: string } | undefined {
  const [namespace, cluster] = (entry.cluster ?? '').split('/');
  if (!namespace || !cluster) return undefined;
  const kubeconfig = kubeconfigOf(objects, namespace, cluster);
  return kubeconfig ? { namespace, cluster, kubeconfig } : undefined;
}
