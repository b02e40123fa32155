/** Kubernetes label selectors (metav1.LabelSelector), as Velero matches a Restore's against each item. Pure. */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** metav1.LabelSelector semantics; an unknown operator selects nothing, as Velero refuses it. */
export function selectorMatches(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return (sel.matchExpressions ?? []).every((e) => expressionMatches(e, labels));
}

function expressionMatches(e: { key: string; operator: string; values?: string[] }, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, e.key);
  const inValues = has && (e.values ?? []).includes(labels[e.key]!);
  switch (e.operator) {
    case 'In':
      return inValues;
    case 'NotIn':
      return !inValues;
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}
