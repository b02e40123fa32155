/**
 * Which clusters of a drift report the gate judges (drift semantics §7), one rule for every door:
 * the clusters the analysis reported on, and those it names only in errors (it could not analyse
 * them: judged NotAnalyzed, blocked under failurePolicy Fail). A cluster in tkg-system it names
 * only in warnings was left out on purpose (the old management cluster, recreated rather than
 * restored): neither the webhook nor the RestoreItemAction holds a restore back for it. Nowhere
 * else: a cluster that carries the management role label in another namespace is judged like any
 * other, with a warning naming it. Pure.
 */
import { MANAGEMENT_NAMESPACE, misplacedManagementLabel } from '../model/management-cluster.js';
import type { DriftReport, ReportError } from '../model/report.js';
import type { ScopedCluster } from './restore-scope.js';

const SCOPE = /^cluster:([^/]+)\/(.+)$/;

function scopeOf(namespace: string, name: string): string {
  return `cluster:${namespace}/${name}`;
}

/** The report's findings about a cluster it does not report on. */
function findingsOf(report: DriftReport, namespace: string, name: string): ReportError[] {
  return report.errors.filter((e) => e.scope === scopeOf(namespace, name));
}

/** The analysis left the cluster out on purpose: it is in tkg-system, not reported on, and named only in warnings. */
export function leftOutOnPurpose(report: DriftReport, namespace: string, name: string): boolean {
  if (namespace !== MANAGEMENT_NAMESPACE) return false;
  if (report.clusters.some((c) => c.namespace === namespace && c.name === name)) return false;
  const findings = findingsOf(report, namespace, name);
  return findings.length > 0 && findings.every((e) => e.severity === 'warning');
}

/** Why the analysis left the cluster out (its warnings), for the decision's reason. */
export function leftOutReason(report: DriftReport, namespace: string, name: string): string {
  return findingsOf(report, namespace, name)
    .map((e) => e.message)
    .join('; ');
}

/**
 * The report's clusters, and those it names only in findings (not analysed); never one left out on
 * purpose. Each with its labels (for a Restore's label selectors) when the report has them.
 */
export function judgedClusters(report: DriftReport): ScopedCluster[] {
  const clusters: ScopedCluster[] = report.clusters.map((c) => ({
    namespace: c.namespace,
    name: c.name,
    ...(c.labels ? { labels: c.labels } : {}),
  }));
  for (const e of report.errors) {
    const m = SCOPE.exec(e.scope);
    if (!m) continue;
    const [namespace, name] = [m[1]!, m[2]!];
    if (e.severity !== 'error' && leftOutOnPurpose(report, namespace, name)) continue;
    if (!clusters.some((c) => c.namespace === namespace && c.name === name)) clusters.push({ namespace, name });
  }
  return clusters;
}

/** Warnings for the clusters that carry the management role label outside tkg-system, each named. */
export function managementLabelWarnings(clusters: readonly ScopedCluster[]): string[] {
  return clusters.flatMap((c) => misplacedManagementLabel(c.namespace, c.name, c.labels) ?? []);
}
