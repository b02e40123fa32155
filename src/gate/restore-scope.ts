/**
 * Which backed-up clusters a Velero Restore touches (docs/restore-gate.md §10, drift semantics §7):
 * those with at least one object Velero would restore, its filters applied to each object as
 * Velero applies them. One answer for the webhook, from the same objects the RestoreItemAction
 * sorts by cluster (backup/membership.ts). Pure.
 *
 * - Namespaces: `includedNamespaces` (empty or `*` = all; globs as Velero's glob library reads
 *   them, matched in linear time) minus `excludedNamespaces` (excludes win), judged by the
 *   namespace in the backup: `namespaceMapping` changes where objects land, not which are restored.
 * - Resources: every name Velero resolves (capi-resources.ts): plural, `plural.group`, kind, short
 *   names; `*`; excluded names win.
 * - Labels: `labelSelector` or any of `orLabelSelectors`, matched against each object's labels.
 *   For a resource whose objects the analysis does not read (KubeadmConfigs, templates,
 *   MachineHealthChecks...), the objects are taken to carry the labels of one of the cluster's
 *   objects it reads (Cluster API copies a Machine's labels onto its KubeadmConfig); with no
 *   selector, a cluster is touched whenever such a resource is restored in its namespace.
 */
import { BACKUP_RESOURCES } from '../model/backup.js';
import { compileGlob, GlobError, type Glob } from '../util/glob.js';
import { isMap } from '../util/values.js';
import { CAPI_RESOURCES, namesResource, qualifiedName } from './capi-resources.js';
import { selectorMatches, type LabelSelector } from './label-selector.js';

export type { LabelSelector } from './label-selector.js';
export { selectorMatches } from './label-selector.js';

/** Most namespace and resource names one Restore may list: more is no Restore a person wrote. */
export const MAX_RESTORE_PATTERNS = 1000;
/** Longest namespace pattern judged: a namespace name has at most 63 characters. */
export const MAX_NAMESPACE_PATTERN_LENGTH = 253;
/**
 * Matching steps one Restore's namespace patterns may cost in all (tens of milliseconds, which the
 * webhook spends in slices of SCOPE_SLICE_STEPS between other work); beyond, it is malformed.
 */
export const MAX_SCOPE_STEPS = 3_000_000;
/** Steps after which a caller judging namespaces gives the event loop its turn (a few milliseconds' work). */
export const SCOPE_SLICE_STEPS = 50_000;

/** A Restore whose filters cannot be judged: denied, whatever the backup holds; the message says why. */
export class MalformedRestoreError extends Error {
  override readonly name = 'MalformedRestoreError';
}

/** One object of a cluster, as the filters see it: its resource (`plural.group`) and labels. */
export interface ScopeObject {
  resource: string;
  labels?: Record<string, string>;
}

export interface ScopedCluster {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Its objects of the resources the analysis reads; undefined: only the Cluster (with `labels`) is known. */
  objects?: readonly ScopeObject[];
}

/** The resources whose objects `ScopedCluster.objects` lists in full when it is set. */
export const ANALYSED_RESOURCES: ReadonlySet<string> = new Set(
  Object.values(BACKUP_RESOURCES).filter((r) => CAPI_RESOURCES.some((c) => qualifiedName(c) === r)),
);

const CLUSTERS = 'clusters.cluster.x-k8s.io';

/** The parts of a Restore's spec that choose what is restored (Velero's restore_types.go), compiled. */
export interface RestoreFilters {
  includedNamespaces: Glob[];
  excludedNamespaces: Glob[];
  /** `plural.group` of the Cluster API resources that pass the resource filters. */
  resources: ReadonlySet<string>;
  selectors: LabelSelector[];
}

function strings(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MalformedRestoreError(`spec.${field} is not a list`);
  return value.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

/** A namespace pattern; one Velero's glob library refuses (an unclosed `[`) is taken as the literal it cannot match. */
function namespacePattern(pattern: string, field: string): Glob {
  if (pattern.length > MAX_NAMESPACE_PATTERN_LENGTH) {
    throw new MalformedRestoreError(`spec.${field} holds a pattern of ${pattern.length} characters, more than ${MAX_NAMESPACE_PATTERN_LENGTH}`);
  }
  try {
    return compileGlob(pattern, 'name');
  } catch (err) {
    if (!(err instanceof GlobError)) throw err;
    return compileGlob(
      pattern.replace(/[\\*?[\]{},]/g, (c) => `\\${c}`),
      'name',
    );
  }
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
      values: Array.isArray(e['values']) ? e['values'].filter((v): v is string => typeof v === 'string') : [],
    }));
  }
  return out;
}

/** The filters of a Restore's `spec`; anything missing counts as not set. Throws MalformedRestoreError past the bounds. */
export function restoreFilters(spec: unknown): RestoreFilters {
  const s = isMap(spec) ? spec : {};
  const lists = {
    includedNamespaces: strings(s['includedNamespaces'], 'includedNamespaces'),
    excludedNamespaces: strings(s['excludedNamespaces'], 'excludedNamespaces'),
    includedResources: strings(s['includedResources'], 'includedResources'),
    excludedResources: strings(s['excludedResources'], 'excludedResources'),
  };
  const count = Object.values(lists).reduce((n, l) => n + l.length, 0);
  if (count > MAX_RESTORE_PATTERNS) {
    throw new MalformedRestoreError(`its namespace and resource lists hold ${count} entries, more than ${MAX_RESTORE_PATTERNS}`);
  }
  const labelSelector = selector(s['labelSelector']);
  const orSelectors = Array.isArray(s['orLabelSelectors']) ? s['orLabelSelectors'].map(selector).filter((x) => x !== undefined) : [];
  return {
    // Each pattern once: a repeated one costs nothing more to compile or to match.
    includedNamespaces: [...new Set(lists.includedNamespaces)].map((p) => namespacePattern(p, 'includedNamespaces')),
    excludedNamespaces: [...new Set(lists.excludedNamespaces)].map((p) => namespacePattern(p, 'excludedNamespaces')),
    resources: new Set(
      CAPI_RESOURCES.filter(
        (r) =>
          (lists.includedResources.length === 0 || lists.includedResources.some((n) => namesResource(n, r))) &&
          !lists.excludedResources.some((n) => namesResource(n, r)),
      ).map(qualifiedName),
    ),
    selectors: [...(labelSelector ? [labelSelector] : []), ...orSelectors],
  };
}

/**
 * A Restore with no filter: every namespace (none listed, or `*`), every resource, no exclusion and
 * no label selector. It restores every cluster of its backup. A spec with a list of the wrong type
 * is not one.
 */
export function restoresEverything(spec: unknown): boolean {
  const s = isMap(spec) ? spec : {};
  const all = (field: string) => {
    try {
      const list = strings(s[field], field);
      return list.length === 0 || list.includes('*');
    } catch {
      return false;
    }
  };
  const none = (field: string) => s[field] === undefined || s[field] === null || (Array.isArray(s[field]) && s[field].length === 0);
  return (
    all('includedNamespaces') &&
    all('includedResources') &&
    none('excludedNamespaces') &&
    none('excludedResources') &&
    none('orLabelSelectors') &&
    (s['labelSelector'] === undefined || s['labelSelector'] === null)
  );
}

/**
 * The clusters of `clusters` of which the Restore with `filters` would restore at least one
 * object. Throws MalformedRestoreError when its namespace patterns cost more than MAX_SCOPE_STEPS.
 * `namespaces` may bring namespaces already judged (a caller that judged them in slices).
 */
export function touchedClusters<C extends ScopedCluster>(
  filters: RestoreFilters,
  clusters: readonly C[],
  namespaces = new NamespaceFilter(filters),
): C[] {
  if (filters.resources.size === 0) return [];
  return clusters.filter((c) => namespaces.includes(c.namespace) && restoresObjectOf(filters, c));
}

/** Whether any object of the cluster passes the resource and label filters (its namespace passed). */
function restoresObjectOf(filters: RestoreFilters, cluster: ScopedCluster): boolean {
  const objects = cluster.objects ?? [{ resource: CLUSTERS, ...(cluster.labels ? { labels: cluster.labels } : {}) }];
  const known = cluster.objects ? ANALYSED_RESOURCES : new Set([CLUSTERS]);
  const selected = (labels: Record<string, string> | undefined) =>
    filters.selectors.length === 0 || filters.selectors.some((s) => selectorMatches(s, labels ?? {}));
  if (objects.some((o) => filters.resources.has(o.resource) && selected(o.labels))) return true;
  const unknownRestored = [...filters.resources].some((r) => !known.has(r));
  return unknownRestored && (filters.selectors.length === 0 || objects.some((o) => selected(o.labels)));
}

/**
 * The namespace filters, each namespace judged once, within the step budget. One match costs at
 * most 2 × 64 × (program size) steps (a namespace has 63 characters at most): a caller that
 * judges in slices (judgeAll) hands the event loop back every few milliseconds.
 */
export class NamespaceFilter {
  private readonly judged = new Map<string, boolean>();
  /** Matching steps spent so far. */
  steps = 0;

  constructor(private readonly filters: RestoreFilters) {}

  includes(namespace: string): boolean {
    let verdict = this.judged.get(namespace);
    if (verdict === undefined) {
      const run = this.judge(namespace);
      let next = run.next();
      while (!next.done) next = run.next();
      verdict = next.value;
      this.judged.set(namespace, verdict);
    }
    return verdict;
  }

  /** Judges every namespace, awaiting `pause` whenever another SCOPE_SLICE_STEPS were spent. */
  async judgeAll(namespaces: Iterable<string>, pause: () => Promise<void>): Promise<void> {
    let slice = this.steps + SCOPE_SLICE_STEPS;
    for (const namespace of namespaces) {
      if (this.judged.has(namespace)) continue;
      const run = this.judge(namespace);
      let next = run.next();
      while (!next.done) {
        if (this.steps >= slice) {
          slice = this.steps + SCOPE_SLICE_STEPS;
          await pause();
        }
        next = run.next();
      }
      this.judged.set(namespace, next.value);
    }
  }

  /** Excludes win; then any include (none: all). Yields after each pattern tried. */
  private *judge(namespace: string): Generator<void, boolean> {
    const { includedNamespaces: included, excludedNamespaces: excluded } = this.filters;
    for (const glob of excluded) {
      if (this.matches(glob, namespace)) return false;
      yield;
    }
    if (included.length === 0) return true;
    for (const glob of included) {
      if (glob.pattern === '*' || this.matches(glob, namespace)) return true;
      yield;
    }
    return false;
  }

  private matches(glob: Glob, namespace: string): boolean {
    const { matched, steps } = glob.run(namespace);
    this.steps += steps;
    if (this.steps > MAX_SCOPE_STEPS) {
      throw new MalformedRestoreError(`its namespace patterns cost more than ${MAX_SCOPE_STEPS} matching steps to judge`);
    }
    return matched;
  }
}
