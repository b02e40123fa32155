/**
 * The namespaced Cluster API, kubeadm and CAPV resources that make up a cluster, with every name
 * Velero resolves to them through discovery (docs/restore-gate.md §10): plural, singular (the kind,
 * lower-cased), short names, each alone or followed by `.group`. The one table of these names;
 * test/gate/capi-resources.test.ts checks it against the CRDs' published manifests
 * (test/fixtures/capi-crd-names.json: kubernetes-sigs/cluster-api and
 * kubernetes-sigs/cluster-api-provider-vsphere, config/crd/bases).
 */

export interface CapiResource {
  group: string;
  kind: string;
  plural: string;
  /** `spec.names.shortNames` of the CRD. */
  shortNames: readonly string[];
}

const CORE = 'cluster.x-k8s.io';
const INFRASTRUCTURE = 'infrastructure.cluster.x-k8s.io';
const BOOTSTRAP = 'bootstrap.cluster.x-k8s.io';
const CONTROL_PLANE = 'controlplane.cluster.x-k8s.io';
const ADDONS = 'addons.cluster.x-k8s.io';
const IPAM = 'ipam.cluster.x-k8s.io';

export const CAPI_RESOURCES: readonly CapiResource[] = [
  { group: CORE, kind: 'Cluster', plural: 'clusters', shortNames: ['cl'] },
  { group: CORE, kind: 'ClusterClass', plural: 'clusterclasses', shortNames: ['cc'] },
  { group: CORE, kind: 'Machine', plural: 'machines', shortNames: ['ma'] },
  { group: CORE, kind: 'MachineSet', plural: 'machinesets', shortNames: ['ms'] },
  { group: CORE, kind: 'MachineDeployment', plural: 'machinedeployments', shortNames: ['md'] },
  { group: CORE, kind: 'MachineHealthCheck', plural: 'machinehealthchecks', shortNames: ['mhc', 'mhcs'] },
  { group: CORE, kind: 'MachinePool', plural: 'machinepools', shortNames: ['mp'] },
  { group: CORE, kind: 'MachineDrainRule', plural: 'machinedrainrules', shortNames: [] },
  { group: CONTROL_PLANE, kind: 'KubeadmControlPlane', plural: 'kubeadmcontrolplanes', shortNames: ['kcp'] },
  { group: CONTROL_PLANE, kind: 'KubeadmControlPlaneTemplate', plural: 'kubeadmcontrolplanetemplates', shortNames: [] },
  { group: BOOTSTRAP, kind: 'KubeadmConfig', plural: 'kubeadmconfigs', shortNames: [] },
  { group: BOOTSTRAP, kind: 'KubeadmConfigTemplate', plural: 'kubeadmconfigtemplates', shortNames: [] },
  { group: INFRASTRUCTURE, kind: 'VSphereCluster', plural: 'vsphereclusters', shortNames: [] },
  { group: INFRASTRUCTURE, kind: 'VSphereClusterTemplate', plural: 'vsphereclustertemplates', shortNames: [] },
  { group: INFRASTRUCTURE, kind: 'VSphereMachine', plural: 'vspheremachines', shortNames: [] },
  { group: INFRASTRUCTURE, kind: 'VSphereMachineTemplate', plural: 'vspheremachinetemplates', shortNames: [] },
  { group: INFRASTRUCTURE, kind: 'VSphereVM', plural: 'vspherevms', shortNames: [] },
  { group: ADDONS, kind: 'ClusterResourceSet', plural: 'clusterresourcesets', shortNames: [] },
  { group: ADDONS, kind: 'ClusterResourceSetBinding', plural: 'clusterresourcesetbindings', shortNames: [] },
  { group: IPAM, kind: 'IPAddressClaim', plural: 'ipaddressclaims', shortNames: [] },
  { group: IPAM, kind: 'IPAddress', plural: 'ipaddresses', shortNames: [] },
];

/** `plural.group`: how Velero names a resource once resolved (and the backup's directory for it). */
export function qualifiedName(resource: CapiResource): string {
  return `${resource.plural}.${resource.group}`;
}

/** The resource of a kind (`Machine`), as Velero restores it; undefined for a kind not in the table. */
export function resourceOfKind(kind: string): CapiResource | undefined {
  return CAPI_RESOURCES.find((r) => r.kind === kind);
}

/**
 * Whether a name of a Restore's resource list resolves to `resource`, as discovery resolves it
 * (client-go's RESTMapper behind its shortcut expander): case-insensitive; the plural or singular
 * alone or with exactly its group; a short name alone, with its group, or with a prefix of its
 * group (the expander's "autoscal matches autoscaling"); `*` is every resource.
 */
export function namesResource(name: string, resource: CapiResource): boolean {
  const text = name.trim().toLowerCase();
  if (text === '*') return true;
  const dot = text.indexOf('.');
  const head = dot < 0 ? text : text.slice(0, dot);
  const group = dot < 0 ? undefined : text.slice(dot + 1);
  if (head === resource.plural || head === resource.kind.toLowerCase()) return group === undefined || group === resource.group;
  if (resource.shortNames.includes(head)) return group === undefined || resource.group.startsWith(group);
  return false;
}
