/**
 * The admin's override on a Velero Restore (docs/restore-gate.md §5):
 * `driftdetector.dev/override: "<reason>"` restores blocked clusters anyway; a blank reason is no
 * override. It is an annotation (free text; `velero restore create --annotations` from Velero 1.16)
 * or a label (a ticket: `--labels` works with every Velero). `driftdetector.dev/override-clusters:
 * "ns/name,..."` (an annotation) narrows either to those clusters; set but blank or with an entry
 * that is not `ns/name`, it covers no cluster, and the denial says why.
 */
import { isObjectName } from '../model/kube.js';
import { printable } from '../util/shell.js';

export const OVERRIDE_ANNOTATION = 'driftdetector.dev/override';
export const OVERRIDE_CLUSTERS_ANNOTATION = 'driftdetector.dev/override-clusters';

/** Longest reason kept; the reason is copied into an annotation on every overridden Cluster. */
export const MAX_OVERRIDE_REASON_LENGTH = 1024;

export interface ClusterRef {
  namespace: string;
  name: string;
}

export interface Override {
  reason: string;
  /** The clusters the override covers; undefined = every cluster of the restore. */
  clusters?: ClusterRef[];
  /**
   * Why override-clusters covers no cluster: it is blank, or an entry is not `ns/name`. A blank or
   * a typo must not widen an override to every cluster, so the gate stays shut and says why.
   */
  scopeProblem?: string;
}

/** Kubernetes' rule for a label value, which an override label's ticket follows (empty = no override). */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * What the gate reads of a Restore: the override annotations, with the override label standing in
 * for the annotation when that is absent or blank (the annotation's free text wins when both are
 * set). The result goes to parseOverride, decide and decideOnCheckFailure like annotations.
 */
export function restoreOverride(
  labels: Record<string, unknown> | undefined | null,
  annotations: Record<string, unknown> | undefined | null,
): Record<string, string> {
  const merged: Record<string, string> = {};
  const annotation = annotations?.[OVERRIDE_ANNOTATION];
  const label = labels?.[OVERRIDE_ANNOTATION];
  if (typeof annotation === 'string' && annotation.trim() !== '') merged[OVERRIDE_ANNOTATION] = annotation;
  else if (typeof label === 'string' && LABEL_VALUE.test(label)) merged[OVERRIDE_ANNOTATION] = label;
  const scope = annotations?.[OVERRIDE_CLUSTERS_ANNOTATION];
  if (typeof scope === 'string') merged[OVERRIDE_CLUSTERS_ANNOTATION] = scope;
  return merged;
}

export function parseOverride(annotations: Record<string, unknown> | undefined | null): Override | undefined {
  const raw = annotations?.[OVERRIDE_ANNOTATION];
  if (typeof raw !== 'string') return undefined;
  const reason = raw.trim();
  if (reason === '') return undefined;
  const override: Override = { reason: reason.slice(0, MAX_OVERRIDE_REASON_LENGTH) };
  const scope = annotations?.[OVERRIDE_CLUSTERS_ANNOTATION];
  if (scope === undefined || scope === null) return override;
  const { clusters, invalid } = typeof scope === 'string' ? parseClusterList(scope) : { clusters: [], invalid: [] };
  if (invalid.length > 0) {
    const shown = invalid.slice(0, 5).map((e) => JSON.stringify(printable(e.slice(0, 100))));
    return {
      ...override,
      clusters: [],
      scopeProblem: `${OVERRIDE_CLUSTERS_ANNOTATION} is malformed (entries not of the form namespace/name: ${shown.join(', ')}${invalid.length > 5 ? ` and ${invalid.length - 5} more` : ''}), so the override covers no cluster`,
    };
  }
  if (clusters.length === 0) {
    return { ...override, clusters: [], scopeProblem: `${OVERRIDE_CLUSTERS_ANNOTATION} is blank, so the override covers no cluster` };
  }
  return { ...override, clusters };
}

/** `ns/name,ns/name`: spaces around entries are ignored, empty entries skipped; each part a Kubernetes name. */
export function parseClusterList(text: string): { clusters: ClusterRef[]; invalid: string[] } {
  const clusters: ClusterRef[] = [];
  const invalid: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const parts = entry.split('/').map((p) => p.trim());
    if (parts.length === 2 && isObjectName(parts[0]!) && isObjectName(parts[1]!)) {
      clusters.push({ namespace: parts[0]!, name: parts[1]! });
    } else {
      invalid.push(entry);
    }
  }
  return { clusters, invalid };
}

export function overrideCovers(override: Override | undefined, namespace: string, name: string): boolean {
  if (!override) return false;
  if (!override.clusters) return true;
  return override.clusters.some((c) => c.namespace === namespace && c.name === name);
}
