/**
 * The admin's override on a Velero Restore (docs/restore-gate.md §5):
 * `driftdetector.dev/override: "<reason>"` restores blocked clusters anyway; a blank reason is no
 * override. It is an annotation (free text; `velero restore create --annotations` from Velero 1.16)
 * or a label (a ticket: `--labels` works with every Velero). `driftdetector.dev/override-clusters:
 * "ns/name,..."` (an annotation) narrows either to those clusters.
 */

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
   * Entries of override-clusters that are not `ns/name`. They cover nothing: a typo must not widen
   * an override, so the gate stays shut for the cluster the admin meant and says why.
   */
  invalidEntries: string[];
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
  const override: Override = { reason: reason.slice(0, MAX_OVERRIDE_REASON_LENGTH), invalidEntries: [] };
  const scope = annotations?.[OVERRIDE_CLUSTERS_ANNOTATION];
  if (typeof scope === 'string' && scope.trim() !== '') {
    const { clusters, invalid } = parseClusterList(scope);
    override.clusters = clusters;
    override.invalidEntries = invalid;
  }
  return override;
}

/** `ns/name,ns/name`: spaces around entries are ignored, empty entries skipped. */
export function parseClusterList(text: string): { clusters: ClusterRef[]; invalid: string[] } {
  const clusters: ClusterRef[] = [];
  const invalid: string[] = [];
  for (const entry of text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')) {
    const parts = entry.split('/');
    if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') {
      clusters.push({ namespace: parts[0]!.trim(), name: parts[1]!.trim() });
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
