/**
 * The restore gate's three RestoreItemActions and what each applies to (drift-semantics §7): every
 * resource of the Cluster API and CAPV groups, listed by name (an action for every resource would
 * be called for every Pod of every restore), and the Secrets and ConfigMaps labelled with a
 * cluster's name, once per label (an action has one label selector, and TKG labels a cluster's
 * vSphere credentials Secret with its own label only). Field names as in Velero's ResourceSelector
 * message. Loads no gRPC code, so the plugin's entry can name the actions cheaply.
 */

/** The action for the Cluster API objects; the name Velero has always known the gate by. */
export const RESTORE_GATE_NAME = 'driftdetector.dev/restore-gate';
/** The action for a cluster's Secrets and ConfigMaps, selected by Cluster API's label. */
export const RESTORE_GATE_SECRETS_NAME = 'driftdetector.dev/restore-gate-secrets';
/** The action for the Secrets and ConfigMaps TKG labels with a cluster's name (its vSphere credentials). */
export const RESTORE_GATE_TKG_NAME = 'driftdetector.dev/restore-gate-tkg';
export const RESTORE_GATE_NAMES = [RESTORE_GATE_NAME, RESTORE_GATE_SECRETS_NAME, RESTORE_GATE_TKG_NAME] as const;

/** The label each Secret and ConfigMap action selects by (as a Kubernetes label selector: the key exists). */
const SECRET_SELECTORS: Readonly<Record<string, string>> = {
  [RESTORE_GATE_SECRETS_NAME]: 'cluster.x-k8s.io/cluster-name',
  [RESTORE_GATE_TKG_NAME]: 'tkg.tanzu.vmware.com/cluster-name',
};

/** The resources of Cluster API (core, kubeadm bootstrap and control plane, addons, IPAM) and CAPV that TKG installs. */
export const CLUSTER_API_RESOURCES: readonly string[] = [
  ...[
    'clusters',
    'clusterclasses',
    'machines',
    'machinesets',
    'machinedeployments',
    'machinepools',
    'machinehealthchecks',
    'machinedrainrules',
  ].map((r) => `${r}.cluster.x-k8s.io`),
  ...[
    'vsphereclusters',
    'vsphereclustertemplates',
    'vspheremachines',
    'vspheremachinetemplates',
    'vspherevms',
    'vsphereclusteridentities',
    'vspheredeploymentzones',
    'vspherefailuredomains',
    'haproxyloadbalancers',
  ].map((r) => `${r}.infrastructure.cluster.x-k8s.io`),
  ...['kubeadmconfigs', 'kubeadmconfigtemplates'].map((r) => `${r}.bootstrap.cluster.x-k8s.io`),
  ...['kubeadmcontrolplanes', 'kubeadmcontrolplanetemplates'].map((r) => `${r}.controlplane.cluster.x-k8s.io`),
  ...['clusterresourcesets', 'clusterresourcesetbindings'].map((r) => `${r}.addons.cluster.x-k8s.io`),
  ...['ipaddresses', 'ipaddressclaims', 'inclusterippools', 'globalinclusterippools'].map((r) => `${r}.ipam.cluster.x-k8s.io`),
];

/** What AppliesTo answers for the action `name` (the Cluster API selector for any other name). */
export function selectorOf(name: string): Record<string, unknown> {
  const label = Object.hasOwn(SECRET_SELECTORS, name) ? SECRET_SELECTORS[name] : undefined;
  return {
    includedNamespaces: [],
    excludedNamespaces: [],
    includedResources: label ? ['secrets', 'configmaps'] : [...CLUSTER_API_RESOURCES],
    excludedResources: [],
    selector: label ?? '',
  };
}
