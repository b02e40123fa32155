import type { ClusterReport, DriftReport, ListingReport } from '../model/report.js';

/**
 * `--ignore-healthy-resources`: Healthy machines and Healthy clusters leave the lists;
 * the summary counts stay whole (docs/drift-rules.md §6).
 */
export function withoutHealthy(report: DriftReport): DriftReport {
  const listing = (l: ListingReport): ListingReport => ({ ...l, machines: l.machines.filter((m) => m.status !== 'Healthy') });
  const clusters: ClusterReport[] = report.clusters
    .filter((c) => c.status !== 'Healthy')
    .map((c) => ({ ...c, controlPlane: listing(c.controlPlane), workers: listing(c.workers) }));
  return { ...report, clusters };
}
