/**
 * The Cluster API and CAPV resources the unpause forecast reads and the unpause patches, by the
 * names the API server serves them under (cluster.x-k8s.io v1beta1, as TKG 2.x installs them).
 */

/** One custom resource: where the API serves it. */
export interface ApiResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Cluster-scoped (VSphereClusterIdentity). */
  clusterScoped?: boolean;
}

const capi = (plural: string, kind: string): ApiResource => ({ group: 'cluster.x-k8s.io', version: 'v1beta1', plural, kind });
const capv = (plural: string, kind: string, clusterScoped = false): ApiResource => ({
  group: 'infrastructure.cluster.x-k8s.io',
  version: 'v1beta1',
  plural,
  kind,
  ...(clusterScoped ? { clusterScoped } : {}),
});

export const CAPI_RESOURCES = {
  clusters: capi('clusters', 'Cluster'),
  machines: capi('machines', 'Machine'),
  machineSets: capi('machinesets', 'MachineSet'),
  machineDeployments: capi('machinedeployments', 'MachineDeployment'),
  machineHealthChecks: capi('machinehealthchecks', 'MachineHealthCheck'),
  kubeadmControlPlanes: {
    group: 'controlplane.cluster.x-k8s.io',
    version: 'v1beta1',
    plural: 'kubeadmcontrolplanes',
    kind: 'KubeadmControlPlane',
  } as ApiResource,
  vsphereClusters: capv('vsphereclusters', 'VSphereCluster'),
  vsphereMachines: capv('vspheremachines', 'VSphereMachine'),
  vsphereVMs: capv('vspherevms', 'VSphereVM'),
  vsphereMachineTemplates: capv('vspheremachinetemplates', 'VSphereMachineTemplate'),
  vsphereClusterIdentities: capv('vsphereclusteridentities', 'VSphereClusterIdentity', true),
} as const;

export type CapiResourceName = keyof typeof CAPI_RESOURCES;

/** The resource of a kind the table holds. */
export function resourceOfKind(kind: string): ApiResource | undefined {
  return Object.values(CAPI_RESOURCES).find((r) => r.kind === kind);
}
