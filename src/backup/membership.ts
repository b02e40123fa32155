/**
 * Which backed-up cluster an object belongs to (drift-semantics §2 and §7): the restore gate keeps
 * every object of a blocked cluster out, so it must tell, for any item Velero restores, whose it
 * is. Built once per backup from the objects the analysis read; each lookup is O(1) in the size
 * of the backup. Pure.
 *
 * An object belongs to cluster C of its namespace, in this order, when: its label
 * `cluster.x-k8s.io/cluster-name`, TKG's `tkg.tanzu.vmware.com/cluster-name` (the only one on a
 * cluster's vSphere credentials Secret) or its `spec.clusterName` names C; an owner is Cluster C, or an
 * object of C the backup holds; C's refs (infrastructureRef, controlPlaneRef), or the refs of a
 * Machine of C (infrastructure, bootstrap config, bootstrap data Secret), name it; it is a Secret
 * named `C-*` (the longest such C). Only clusters the backup holds count: a label naming a cluster
 * that is not in the backup makes no member, and objects of no cluster (ClusterClasses, shared
 * templates, VSphereClusterIdentities) belong to none.
 */
import { BACKUP_RESOURCES, type BackupObjects } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { CLUSTER_NAME_LABEL, text, TKG_CLUSTER_NAME_LABEL } from './object-fields.js';
import { machineClusterName } from './workload-clusters.js';

/** The slice of an item the membership reads (Velero's itemFromBackup, which still has its owners). */
export interface MemberObject {
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; ownerReferences?: unknown };
  spec?: unknown;
}

export interface ClusterKey {
  namespace: string;
  name: string;
}

/** An object of a cluster as a Restore's filters see it: its resource (`plural.group`) and labels. */
export interface MemberScope {
  resource: string;
  labels?: Record<string, string>;
}

type Objects = Pick<
  BackupObjects,
  'clusters' | 'kubeadmControlPlanes' | 'machineDeployments' | 'machineSets' | 'machines' | 'vsphereClusters' | 'vsphereMachines' | 'vsphereVMs'
>;

/** The resource (`plural.group`) of each kind the analysis reads. */
const RESOURCE_OF_KIND: Readonly<Record<string, string>> = {
  Cluster: BACKUP_RESOURCES.clusters,
  Machine: BACKUP_RESOURCES.machines,
  KubeadmControlPlane: BACKUP_RESOURCES.kubeadmControlPlanes,
  MachineDeployment: BACKUP_RESOURCES.machineDeployments,
  MachineSet: BACKUP_RESOURCES.machineSets,
  VSphereCluster: BACKUP_RESOURCES.vsphereClusters,
  VSphereMachine: BACKUP_RESOURCES.vsphereMachines,
  VSphereVM: BACKUP_RESOURCES.vsphereVMs,
};

/** `Kind/namespace/name`: how objects and owners are indexed. */
function indexKey(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * The cluster an object names itself (label, spec.clusterName, a Cluster owner), without a backup
 * to check it against: what is known of an object when the analysis of its backup failed.
 */
export function claimedCluster(object: MemberObject): ClusterKey | undefined {
  const namespace = typeof object.metadata?.namespace === 'string' ? object.metadata.namespace : '';
  if (namespace === '') return undefined;
  const owners = Array.isArray(object.metadata?.ownerReferences) ? (object.metadata.ownerReferences as unknown[]) : [];
  const name =
    text(object.metadata?.labels, CLUSTER_NAME_LABEL) ??
    text(object.metadata?.labels, TKG_CLUSTER_NAME_LABEL) ??
    text(object.spec, 'clusterName') ??
    owners.filter((o) => text(o, 'kind') === 'Cluster').map((o) => text(o, 'name'))[0];
  return name === undefined ? undefined : { namespace, name };
}

export class ClusterMembership {
  /** `namespace/name` of every cluster the backup holds (a Cluster, or Machines naming one). */
  private readonly clusters = new Set<string>();
  /** Cluster names by namespace, longest first, for `<cluster>-*` Secret names. */
  private readonly namesByNamespace = new Map<string, string[]>();
  /** Objects of the backup, and objects their refs name, by `Kind/namespace/name`: their cluster's name. */
  private readonly members = new Map<string, string>();
  /** Each cluster's objects of the backup, by resource and labels (one entry per distinct pair); unset without a backup. */
  private scopes: Map<string, Map<string, MemberScope>> | undefined;

  constructor(clusters: ClusterKey[]) {
    for (const c of clusters) this.addCluster(c.namespace, c.name);
  }

  /** The clusters of the backup and what its objects say of their members. */
  static fromBackup(objects: Objects): ClusterMembership {
    const membership = new ClusterMembership([]);
    for (const cluster of objects.clusters) membership.addClusterObject(cluster);
    for (const machine of objects.machines) {
      const name = machineClusterName(machine);
      if (name !== undefined) membership.addCluster(machine.metadata.namespace ?? '', name);
    }
    for (const machine of objects.machines) membership.addMachine(machine);
    const rest = [
      ['KubeadmControlPlane', objects.kubeadmControlPlanes],
      ['MachineDeployment', objects.machineDeployments],
      ['MachineSet', objects.machineSets],
      ['VSphereCluster', objects.vsphereClusters],
      ['VSphereMachine', objects.vsphereMachines],
      ['VSphereVM', objects.vsphereVMs],
    ] as const;
    // Owner chains are short (VSphereVM -> VSphereMachine -> Machine -> MachineSet): a few passes resolve them.
    for (let pass = 0; pass < 4; pass++) {
      for (const [kind, list] of rest) {
        for (const object of list) {
          const key = indexKey(kind, object.metadata.namespace ?? '', object.metadata.name);
          if (!membership.members.has(key)) {
            const cluster = membership.clusterOf({ ...object, kind });
            if (cluster) membership.members.set(key, cluster.name);
          }
        }
      }
    }
    membership.scopes = new Map<string, Map<string, MemberScope>>();
    for (const [kind, list] of [['Cluster', objects.clusters], ['Machine', objects.machines], ...rest] as const) {
      for (const object of list) membership.addScope({ ...object, kind });
    }
    return membership;
  }

  /**
   * The cluster's objects, each distinct resource and label set once, as a Restore's filters see
   * them; undefined when this membership knows only the clusters' names (no backup was read).
   */
  objectsOf(namespace: string, name: string): MemberScope[] | undefined {
    if (!this.scopes) return undefined;
    return [...(this.scopes.get(objectKey(namespace, name))?.values() ?? [])];
  }

  private addScope(object: KubeObject & { kind: string }): void {
    const cluster = this.clusterOf(object);
    if (!cluster) return;
    const resource = RESOURCE_OF_KIND[object.kind];
    if (resource === undefined) return;
    const labels = object.metadata.labels ?? {};
    const key = objectKey(cluster.namespace, cluster.name);
    let scopes = this.scopes!.get(key);
    if (!scopes) this.scopes!.set(key, (scopes = new Map<string, MemberScope>()));
    const entry = JSON.stringify([resource, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
    if (!scopes.has(entry)) scopes.set(entry, { resource, labels });
  }

  /** The cluster `object` belongs to, or undefined when it belongs to none the backup holds. */
  clusterOf(object: MemberObject): ClusterKey | undefined {
    const metadata = object.metadata;
    const namespace = typeof metadata?.namespace === 'string' ? metadata.namespace : '';
    const name = typeof metadata?.name === 'string' ? metadata.name : '';
    // Cluster API objects are namespaced: a cluster-scoped object (a VSphereClusterIdentity) is nobody's.
    if (namespace === '') return undefined;
    const kind = typeof object.kind === 'string' ? object.kind : '';
    const candidates = [
      text(metadata?.labels, CLUSTER_NAME_LABEL),
      text(metadata?.labels, TKG_CLUSTER_NAME_LABEL),
      text(object.spec, 'clusterName'),
      ...this.ownerClusters(metadata?.ownerReferences, namespace),
      kind === 'Cluster' ? name : undefined,
      this.members.get(indexKey(kind, namespace, name)),
      kind === 'Secret' ? this.prefixCluster(namespace, name) : undefined,
    ];
    for (const candidate of candidates) {
      if (candidate !== undefined && this.clusters.has(objectKey(namespace, candidate))) return { namespace, name: candidate };
    }
    return undefined;
  }

  private ownerClusters(owners: unknown, namespace: string): Array<string | undefined> {
    if (!Array.isArray(owners)) return [];
    return owners.map((owner) => {
      const kind = text(owner, 'kind');
      const name = text(owner, 'name');
      if (!kind || !name) return undefined;
      return kind === 'Cluster' ? name : this.members.get(indexKey(kind, namespace, name));
    });
  }

  /** `<cluster>-*`: the longest cluster name of the namespace that prefixes the Secret's name. */
  private prefixCluster(namespace: string, name: string): string | undefined {
    return this.namesByNamespace.get(namespace)?.find((cluster) => name.startsWith(`${cluster}-`));
  }

  private addCluster(namespace: string, name: string): void {
    const key = objectKey(namespace, name);
    if (this.clusters.has(key)) return;
    this.clusters.add(key);
    const names = [...(this.namesByNamespace.get(namespace) ?? []), name].sort((a, b) => b.length - a.length || a.localeCompare(b));
    this.namesByNamespace.set(namespace, names);
  }

  private addClusterObject(cluster: KubeObject): void {
    const namespace = cluster.metadata.namespace ?? '';
    const name = cluster.metadata.name;
    this.addCluster(namespace, name);
    this.members.set(indexKey('Cluster', namespace, name), name);
    for (const ref of ['infrastructureRef', 'controlPlaneRef']) this.addRef(cluster.spec?.[ref], namespace, name);
  }

  /** A Machine, and what it refers to: its infrastructure, bootstrap config and bootstrap data Secret. */
  private addMachine(machine: KubeObject): void {
    const namespace = machine.metadata.namespace ?? '';
    const cluster = machineClusterName(machine);
    if (cluster === undefined) return;
    this.members.set(indexKey('Machine', namespace, machine.metadata.name), cluster);
    this.addRef(machine.spec?.['infrastructureRef'], namespace, cluster);
    this.addRef((machine.spec?.['bootstrap'] as Record<string, unknown> | undefined)?.['configRef'], namespace, cluster);
    const dataSecret = text(machine.spec, 'bootstrap', 'dataSecretName');
    if (dataSecret) this.members.set(indexKey('Secret', namespace, dataSecret), cluster);
  }

  private addRef(ref: unknown, namespace: string, cluster: string): void {
    const kind = text(ref, 'kind');
    const name = text(ref, 'name');
    if (!kind || !name) return;
    const key = indexKey(kind, text(ref, 'namespace') ?? namespace, name);
    if (!this.members.has(key)) this.members.set(key, cluster);
  }
}
