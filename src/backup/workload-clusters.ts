/**
 * Which clusters of the backup are judged, and how to reach them: the old management cluster (the
 * one in tkg-system) is left out (docs/drift-rules.md §2), and each workload cluster's kubeconfig
 * is read from its `<cluster>-kubeconfig` Secret (§1.3). Pure.
 */
import type { BackupObjects } from '../model/backup.js';
import { MANAGEMENT_NAMESPACE } from '../model/management-cluster.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { byNamespaceAndName, CLUSTER_NAME_LABEL, secretValue, text } from './object-fields.js';

export { MANAGEMENT_NAMESPACE, MANAGEMENT_ROLE_LABEL, misplacedManagementLabel } from '../model/management-cluster.js';

/**
 * True for the old management cluster: the Cluster in namespace tkg-system. The management role
 * label alone does not make one: a workload cluster so labelled would drop out of the analysis.
 */
export function isManagementCluster(cluster: KubeObject): boolean {
  return cluster.metadata.namespace === MANAGEMENT_NAMESPACE;
}

export interface ClusterRef {
  namespace: string;
  name: string;
}

export interface ExcludedCluster extends ClusterRef {
  /** Why it is not judged, for the report. */
  reason: string;
}

/**
 * The management clusters the backup holds, which backedUpClusters leaves out: the old management
 * cluster is recreated, not restored, so its machines are no drift. Also lists cluster names that
 * only Machines in tkg-system mention.
 */
export function excludedManagementClusters(objects: Pick<BackupObjects, 'clusters' | 'machines'>): ExcludedCluster[] {
  const found = new Map<string, ExcludedCluster>();
  const add = (namespace: string, name: string) =>
    found.set(objectKey(namespace, name), {
      namespace,
      name,
      reason:
        `${objectKey(namespace, name)} is the old management cluster: it is recreated, not restored, ` +
        'so its machines are not checked for drift',
    });
  for (const cluster of objects.clusters) {
    if (isManagementCluster(cluster)) add(cluster.metadata.namespace ?? '', cluster.metadata.name);
  }
  for (const machine of objects.machines) {
    if (machine.metadata.namespace !== MANAGEMENT_NAMESPACE) continue;
    const name = machineClusterName(machine);
    if (name !== undefined) add(MANAGEMENT_NAMESPACE, name);
  }
  return [...found.values()].sort(byNamespaceAndName);
}

/** The cluster a Machine belongs to: label `cluster.x-k8s.io/cluster-name`, else `spec.clusterName`. */
export function machineClusterName(machine: KubeObject): string | undefined {
  const label = machine.metadata.labels?.[CLUSTER_NAME_LABEL]?.trim();
  return label ? label : text(machine.spec, 'clusterName');
}

/** The kubeconfig of a workload cluster: `value` of the Secret `<cluster>-kubeconfig`, decoded. */
export function kubeconfigOf(objects: Pick<BackupObjects, 'secrets'>, namespace: string, cluster: string): string | undefined {
  const secret = objects.secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === `${cluster}-kubeconfig`);
  return secret ? secretValue(secret, 'value') : undefined;
}
