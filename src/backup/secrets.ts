import type { BackupObjects } from '../model/backup.js';
import { objectKey } from '../model/kube.js';

/** The namespace of CAPV's controller, where its global and identity Secrets live. */
export const CAPV_NAMESPACE = 'capv-system';
/** CAPV's global vCenter credentials (key `credentials.yaml`), used when a cluster has no identityRef. */
export const CAPV_BOOTSTRAP_CREDENTIALS = 'capv-manager-bootstrap-credentials';

/** The Secrets the analysis reads, as `namespace/name` keys (docs/drift-rules.md §1.1). */
export function neededSecretKeys(objects: Pick<BackupObjects, 'clusters' | 'vsphereClusters' | 'vsphereClusterIdentities'>): {
  exact: Set<string>;
  /** Names of VSphereClusterIdentity Secrets: in CAPV's namespace, else wherever the backup has them. */
  identityNames: Set<string>;
} {
  const exact = new Set<string>([objectKey(CAPV_NAMESPACE, CAPV_BOOTSTRAP_CREDENTIALS)]);
  for (const cluster of objects.clusters) {
    exact.add(objectKey(cluster.metadata.namespace, `${cluster.metadata.name}-kubeconfig`));
  }
  for (const vsphereCluster of objects.vsphereClusters) {
    const ref = vsphereCluster.spec?.['identityRef'] as { kind?: unknown; name?: unknown } | undefined;
    if (ref?.kind === 'Secret' && typeof ref.name === 'string' && ref.name !== '') {
      exact.add(objectKey(vsphereCluster.metadata.namespace, ref.name));
    }
  }
  const identityNames = new Set<string>();
  for (const identity of objects.vsphereClusterIdentities) {
    const secretName = identity.spec?.['secretName'];
    if (typeof secretName === 'string' && secretName !== '') identityNames.add(secretName);
  }
  return { exact, identityNames };
}
