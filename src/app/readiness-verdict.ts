/**
 * Whether a backup would restore cleanly today, from its drift report: pure, so the watch, the
 * metrics and the API agree. A backup is restorable when the restore gate would let every one of
 * its Clusters through without an override (docs/restore-gate.md §2), under the service's
 * failure policy.
 */
import { verdictForStatus, type Verdict, type VerdictPolicy } from '../gate/verdict.js';
import type { ClusterReport, DriftReport, MachineStatus, RollupStatus } from '../model/report.js';

export interface ClusterReadiness {
  namespace: string;
  name: string;
  status: RollupStatus;
  verdict: Verdict;
  ghostMachines: number;
  staleMachines: number;
  unknownMachines: number;
}

export interface BackupReadiness {
  restorable: boolean;
  /** The report's roll-up. */
  status: RollupStatus;
  clusters: ClusterReadiness[];
  /** Machines that may be management-cluster infrastructure, which a person has to confirm. */
  infraMachinesToConfirm: number;
}

export function readinessOf(report: DriftReport, policy: VerdictPolicy): BackupReadiness {
  const clusters = report.clusters.map((c) => clusterReadiness(c, policy));
  return {
    restorable: clusters.every((c) => c.verdict === 'ALLOW'),
    status: report.summary.status,
    clusters,
    infraMachinesToConfirm: report.infraMachines.length,
  };
}

function clusterReadiness(cluster: ClusterReport, policy: VerdictPolicy): ClusterReadiness {
  const machines = [...cluster.controlPlane.machines, ...cluster.workers.machines];
  const count = (status: MachineStatus) => machines.filter((m) => m.status === status).length;
  return {
    namespace: cluster.namespace,
    name: cluster.name,
    status: cluster.status,
    verdict: verdictForStatus(cluster.status, policy),
    ghostMachines: count('Ghost'),
    staleMachines: count('Stale'),
    unknownMachines: count('Unknown'),
  };
}

/** Equal for people: a change here is what WatchReadiness streams and Events announce. */
export function sameReadiness(a: BackupReadiness | undefined, b: BackupReadiness | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
