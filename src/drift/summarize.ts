/**
 * Stage 4 of the analysis, summarize: the roll-ups per cluster and the report's summary
 * (docs/drift-rules.md §5). Pure.
 */
import type { BackedUpCluster } from '../model/backup.js';
import {
  MACHINE_ROLLUP,
  worst,
  type ApiServerReport,
  type ClusterReport,
  type DriftReport,
  type ListingReport,
  type MachineReport,
  type ReportSummary,
  type RollupStatus,
} from '../model/report.js';
import type { MachineOutcome } from './classify.js';
import { clusterId, listingOf, type NodeEvidence } from './evidence.js';
import type { Ghost } from './ghosts.js';

/** One report per backed-up cluster, sorted by namespace and name. */
export function clusterReports(
  clusters: BackedUpCluster[],
  outcomes: MachineOutcome[],
  ghosts: Map<BackedUpCluster, Ghost[]>,
  failures: Map<string, string>,
  evidence: NodeEvidence,
): ClusterReport[] {
  const reports = clusters.map((cluster) => {
    const own = outcomes.filter((o) => o.cluster === cluster);
    const clusterGhosts = ghosts.get(cluster) ?? [];
    const part = (controlPlane: boolean) =>
      listing([
        ...own.filter((o) => o.machine.controlPlane === controlPlane).map((o) => o.report),
        ...clusterGhosts.filter((g) => g.controlPlane === controlPlane).map((g) => g.report),
      ]);
    const controlPlane = part(true);
    const workers = part(false);
    const vcenters = new Set([cluster.placement.vcenter, ...cluster.machines.map((m) => m.placement.vcenter)]);
    const vcenterFailed = [...vcenters].some((v) => v !== undefined && failures.has(v));
    const status = worst([controlPlane.status, workers.status, ...(vcenterFailed ? (['NeedFurtherConfirmation'] as const) : [])]);
    const report: ClusterReport = {
      namespace: cluster.namespace,
      name: cluster.name,
      status,
      controlPlane,
      workers,
      apiServer: apiServerReport(cluster, evidence),
    };
    if (cluster.labels) report.labels = cluster.labels;
    return report;
  });
  return reports.sort((a, b) => clusterId(a.namespace, a.name).localeCompare(clusterId(b.namespace, b.name)));
}

/** The roll-up of a listing of machines: the worst status any of them contributes. */
export function listingStatus(machines: MachineReport[]): RollupStatus {
  return worst(machines.map((m) => MACHINE_ROLLUP[m.status]));
}

function listing(machines: MachineReport[]): ListingReport {
  machines.sort((a, b) => a.name.localeCompare(b.name));
  return { status: listingStatus(machines), machines };
}

function apiServerReport(cluster: BackedUpCluster, evidence: NodeEvidence): ApiServerReport {
  if (!evidence.apiServerAccess) return { reached: false, skipped: true };
  const workload = listingOf(evidence, cluster);
  if (!workload) return { reached: false, error: `no ${cluster.name}-kubeconfig Secret in the backup` };
  return {
    reached: workload.reached,
    ...(workload.reached ? { nodes: workload.nodes.length } : {}),
    ...(workload.error ? { error: workload.error } : {}),
  };
}

/**
 * A report's summary: the worst cluster status (NeedFurtherConfirmationInfraMachines in its place
 * when an infrastructure machine needs confirmation and nothing worse is found), clusters counted
 * per status, and whether any error (not warning) occurred.
 */
export function summarize(
  report: Pick<DriftReport, 'clusters' | 'infraMachines' | 'errors'>,
  outOfScopeVMs: number,
  ignoredVMs = 0,
): ReportSummary {
  const { clusters, infraMachines, errors } = report;
  const clusterWorst = worst(clusters.map((c) => c.status));
  const count = (s: RollupStatus) => clusters.filter((c) => c.status === s).length;
  return {
    status: infraMachines.length > 0 ? worst([clusterWorst, 'NeedFurtherConfirmationInfraMachines']) : clusterWorst,
    clusters: {
      total: clusters.length,
      Healthy: count('Healthy'),
      ManualRemediationNotRequired: count('ManualRemediationNotRequired'),
      ManualRemediationRequired: count('ManualRemediationRequired'),
      NeedFurtherConfirmation: count('NeedFurtherConfirmation'),
    },
    infraMachinesNeedFurtherConfirmation: infraMachines.length,
    outOfScopeVMs,
    ignoredVMs,
    hasErrors: errors.some((e) => e.severity === 'error'),
  };
}
