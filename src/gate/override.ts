/**
 * The admin's override on a Velero Restore (docs/restore-gate.md §5):
 * `driftdetector.dev/override: "<reason>"` restores blocked clusters anyway; a blank reason is no
 * override. `driftdetector.dev/override-clusters: "ns/name,..."` narrows it to those clusters.
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
