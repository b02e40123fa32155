/**
 * The old management cluster, as the analysis and the restore gate tell it (docs/drift-rules.md
 * §2): the Cluster in tkg-system. TKG's role label elsewhere only earns a warning.
 */
import { objectKey } from './kube.js';

/** The namespace of the management cluster's own objects (tanzu-framework `TkgNamespace`). */
export const MANAGEMENT_NAMESPACE = 'tkg-system';
/** TKG's label on the management cluster's Cluster object; anyone who can label a Cluster can set it. */
export const MANAGEMENT_ROLE_LABEL = 'cluster-role.tkg.tanzu.vmware.com/management';

/** The warning for a cluster outside tkg-system that carries the management role label, or undefined. */
export function misplacedManagementLabel(namespace: string, name: string, labels: Record<string, string> | undefined): string | undefined {
  if (namespace === MANAGEMENT_NAMESPACE || labels?.[MANAGEMENT_ROLE_LABEL] === undefined) return undefined;
  return (
    `${objectKey(namespace, name)} carries the label ${MANAGEMENT_ROLE_LABEL} but is not in ${MANAGEMENT_NAMESPACE}: ` +
    'it is judged like any workload cluster'
  );
}
