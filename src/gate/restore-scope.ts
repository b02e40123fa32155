/**
 * Which backed-up clusters a Velero Restore touches (docs/restore-gate.md, drift semantics §7):
 * those whose Cluster API objects pass the Restore's filters as Velero applies them. Pure.
 *
 * - Namespaces: `includedNamespaces` (empty or `*` = all; globs as Velero accepts them) minus
 *   `excludedNamespaces`, judged by the namespace in the backup: `namespaceMapping` changes where
 *   objects land, not which are restored.
 * - Resources: as Velero resolves the names (`clusters`, `clusters.cluster.x-k8s.io`, `*`). A
 *   cluster is touched when any Cluster API resource passes; a Restore that excludes every one of
 *   them touches no cluster.
 * - Labels: `labelSelector` or any of `orLabelSelectors`, matched against the Cluster's labels.
 */
import { isMap } from '../util/values.js';

/** The parts of a Restore's spec that choose what is restored (Velero's restore_types.go). */
export interface RestoreFilters {
  includedNamespaces: string[];
  excludedNamespaces: string[];
  includedResources: string[];
  excludedResources: string[];
  labelSelector?: LabelSelector;
  orLabelSelectors: LabelSelector[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface ScopedCluster {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
}

/**
 * The Cluster API and CAPV resources (plural, group) that make up a cluster; a bare name resolves
 * to its group as discovery does.
 */
const CLUSTER_API_RESOURCES: ReadonlyArray<readonly [string, string, string]> = [
  ['clusters', 'cluster', 'cluster.x-k8s.io'],
  ['machines', 'machine', 'cluster.x-k8s.io'],
  ['machinesets', 'machineset', 'cluster.x-k8s.io'],
  ['machinedeployments', 'machinedeployment', 'cluster.x-k8s.io'],
  ['machinehealthchecks', 'machinehealthcheck', 'cluster.x-k8s.io'],
  ['machinepools', 'machinepool', 'cluster.x-k8s.io'],
  ['kubeadmcontrolplanes', 'kubeadmcontrolplane', 'controlplane.cluster.x-k8s.io'],
  ['kubeadmconfigs', 'kubeadmconfig', 'bootstrap.cluster.x-k8s.io'],
  ['vsphereclusters', 'vspherecluster', 'infrastructure.cluster.x-k8s.io'],
  ['vspheremachines', 'vspheremachine', 'infrastructure.cluster.x-k8s.io'],
  ['vspherevms', 'vspherevm', 'infrastructure.cluster.x-k8s.io'],
  ['clusterresourcesets', 'clusterresourceset', 'addons.cluster.x-k8s.io'],
  ['clusterresourcesetbindings', 'clusterresourcesetbinding', 'addons.cluster.x-k8s.io'],
  ['ipaddressclaims', 'ipaddressclaim', 'ipam.cluster.x-k8s.io'],
];

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim()) : [];
}

function selector(value: unknown): LabelSelector | undefined {
  if (!isMap(value)) return undefined;
  const out: LabelSelector = {};
  if (isMap(value['matchLabels'])) {
    out.matchLabels = Object.fromEntries(Object.entries(value['matchLabels']).map(([k, v]) => [k, String(v)]));
  }
  if (Array.isArray(value['matchExpressions'])) {
    out.matchExpressions = value['matchExpressions'].filter(isMap).map((e) => ({
      key: typeof e['key'] === 'string' ? e['key'] : '',
      operator: typeof e['operator'] === 'string' ? e['operator'] : '',
      values: strings(e['values']),
    }));
  }
  return out;
}

/** The filters of a Restore's `spec` (anything missing or mistyped counts as not set). */
export function restoreFilters(spec: unknown): RestoreFilters {
  const s = isMap(spec) ? spec : {};
  const labelSelector = selector(s['labelSelector']);
  return {
    includedNamespaces: strings(s['includedNamespaces']),
    excludedNamespaces: strings(s['excludedNamespaces']),
    includedResources: strings(s['includedResources']).map((r) => r.toLowerCase()),
    excludedResources: strings(s['excludedResources']).map((r) => r.toLowerCase()),
    ...(labelSelector ? { labelSelector } : {}),
    orLabelSelectors: Array.isArray(s['orLabelSelectors']) ? s['orLabelSelectors'].map(selector).filter((x) => x !== undefined) : [],
  };
}

/** The clusters of `clusters` that the Restore with `filters` would restore objects of. */
export function touchedClusters<C extends ScopedCluster>(filters: RestoreFilters, clusters: readonly C[]): C[] {
  if (!restoresClusterApi(filters)) return [];
  return clusters.filter((c) => namespaceIncluded(filters, c.namespace) && labelsSelected(filters, c.labels));
}

/** Whether any Cluster API resource passes the resource filters. */
export function restoresClusterApi(filters: RestoreFilters): boolean {
  return CLUSTER_API_RESOURCES.some(([plural, singular, group]) => {
    const names = (name: string) =>
      name === '*' || name === plural || name === singular || name === `${plural}.${group}` || name === `${singular}.${group}`;
    const included = filters.includedResources.length === 0 || filters.includedResources.some(names);
    return included && !filters.excludedResources.some(names);
  });
}

function namespaceIncluded(filters: RestoreFilters, namespace: string): boolean {
  const included = filters.includedNamespaces.length === 0 || filters.includedNamespaces.some((p) => globMatch(p, namespace));
  return included && !filters.excludedNamespaces.some((p) => globMatch(p, namespace));
}

/** Velero's namespace patterns: `*`, `?`, `[...]`; anything else literal. */
function globMatch(pattern: string, value: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === value;
  const source = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  try {
    return new RegExp(`^${source}$`).test(value);
  } catch {
    return pattern === value;
  }
}

function labelsSelected(filters: RestoreFilters, labels: Record<string, string> | undefined): boolean {
  const selectors = [...(filters.labelSelector ? [filters.labelSelector] : []), ...filters.orLabelSelectors];
  if (selectors.length === 0) return true;
  return selectors.some((s) => selectorMatches(s, labels ?? {}));
}

/** metav1.LabelSelector semantics; an unknown operator selects nothing, as Velero refuses it. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    switch (e.operator) {
      case 'In':
        if (!inValues) return false;
        break;
      case 'NotIn':
        if (inValues) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
