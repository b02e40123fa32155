import type { KubeObject } from './kube.js';

/**
 * The resource directories of a Velero tarball the detector reads (docs/drift-rules.md §1.1).
 * Everything else in the tarball is skipped without being parsed.
 */
export const BACKUP_RESOURCES = {
  clusters: 'clusters.cluster.x-k8s.io',
  kubeadmControlPlanes: 'kubeadmcontrolplanes.controlplane.cluster.x-k8s.io',
  machineDeployments: 'machinedeployments.cluster.x-k8s.io',
  machineSets: 'machinesets.cluster.x-k8s.io',
  machines: 'machines.cluster.x-k8s.io',
  vsphereClusters: 'vsphereclusters.infrastructure.cluster.x-k8s.io',
  vsphereMachines: 'vspheremachines.infrastructure.cluster.x-k8s.io',
  vsphereVMs: 'vspherevms.infrastructure.cluster.x-k8s.io',
  vsphereClusterIdentities: 'vsphereclusteridentities.infrastructure.cluster.x-k8s.io',
  secrets: 'secrets',
} as const;

export type BackupResourceKind = keyof typeof BACKUP_RESOURCES;

/** The objects read from one backup, one list per kind, each object once. */
export type BackupObjects = { [K in BackupResourceKind]: KubeObject[] } & {
  /** Where the backup came from (a path or an s3:// URL), for messages. */
  source: string;
  /** Contents of `metadata/version`, when present. */
  formatVersion?: string;
};

export function emptyBackupObjects(source: string): BackupObjects {
  return {
    source,
    clusters: [],
    kubeadmControlPlanes: [],
    machineDeployments: [],
    machineSets: [],
    machines: [],
    vsphereClusters: [],
    vsphereMachines: [],
    vsphereVMs: [],
    vsphereClusterIdentities: [],
    secrets: [],
  };
}

/** Where a machine's VM is expected to be, from its VSphereVM / VSphereMachine / VSphereCluster. */
export interface Placement {
  /** The vCenter key (see vcenterKey), or undefined when no object names one. */
  vcenter?: string;
  datacenter?: string;
  folder?: string;
  resourcePool?: string;
}

/** One backed-up Machine with the identity of its VM (docs/drift-rules.md §2). */
export interface BackedUpMachine {
  namespace: string;
  name: string;
  /** Name of the Cluster the machine belongs to. */
  cluster: string;
  controlPlane: boolean;
  /** Lower-case BIOS UUID (VSphereVM.spec.biosUUID, else the providerID UUID). */
  biosUuid?: string;
  /** Lower-case instance UUID (VSphereVM.metadata.uid). */
  instanceUuid?: string;
  /** The VM name: the VSphereVM name, else the Machine name. */
  vmName: string;
  placement: Placement;
}

/** One backed-up Cluster and its machines. */
export interface BackedUpCluster {
  namespace: string;
  name: string;
  /** Name of its KubeadmControlPlane, when the backup has one. */
  controlPlaneName?: string;
  /** Its VSphereCluster's vCenter key and placement defaults. */
  placement: Placement;
  machines: BackedUpMachine[];
  /** True when the backup has Machines of this cluster but no Cluster object. */
  synthetic?: boolean;
  /** The Cluster object's labels, for a Restore's label selector (docs/restore-gate.md). */
  labels?: Record<string, string>;
}
