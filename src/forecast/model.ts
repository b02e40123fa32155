/**
 * The unpause forecast's data (docs/unpause-forecast.md): what the live management cluster,
 * its vCenters and its workload clusters hold, and what Cluster API, the kubeadm control plane
 * and CAPV are predicted to do when each Cluster is unpaused. Plain data both ways; the readers
 * fill the projections below (src/forecast/project.ts turns live objects into them).
 * Field names of `Forecast` are a contract (`--format json`, gRPC): add, never rename.
 */
import type { VCenterListing } from '../model/inventory.js';

/** `namespace/name` of a namespaced object, with its kind. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
  /** For a VirtualMachine: its vCenter key (namespace is then the cluster's). */
  vcenter?: string;
}

/** A Kubernetes label selector (matchLabels AND every matchExpression). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** The fields of a Machine template that decide whether a Machine or MachineSet is up to date. */
export interface MachineTemplateFields {
  /** `spec.version` (Kubernetes version). */
  version?: string;
  /** Name of the infrastructure template or object (VSphereMachineTemplate). */
  infrastructureTemplate?: string;
  /** Name of the bootstrap config template (KubeadmConfigTemplate), when the template names one. */
  bootstrapTemplate?: string;
  failureDomain?: string;
}

export interface ForecastClusterObject {
  namespace: string;
  name: string;
  /** `spec.paused`, or the `cluster.x-k8s.io/paused` annotation. */
  paused: boolean;
  /** `spec.controlPlaneRef.name` when it is a KubeadmControlPlane. */
  controlPlaneName?: string;
  /** `spec.infrastructureRef.name` (the VSphereCluster). */
  infrastructureName?: string;
}

export interface ForecastVSphereCluster {
  namespace: string;
  name: string;
  /** vCenter key (vcenterKey) of `spec.server`. */
  vcenter?: string;
}

export interface ForecastMachine {
  namespace: string;
  name: string;
  cluster: string;
  controlPlane: boolean;
  /** All labels: selectors of MachineSets, MachineDeployments and MHCs are matched against them. */
  labels: Record<string, string>;
  /** Carries `cluster.x-k8s.io/skip-remediation`. */
  skipRemediation: boolean;
  /** `spec.infrastructureRef.name` (the VSphereMachine). */
  infrastructureName?: string;
  /** `spec.providerID`. */
  providerID?: string;
  /** `spec.version`, `spec.failureDomain`, and the template the VSphereMachine was cloned from. */
  template: MachineTemplateFields;
}

export interface ForecastMachineSet {
  namespace: string;
  name: string;
  cluster: string;
  /** `spec.replicas`; CAPI's default is 1. */
  replicas: number;
  selector: LabelSelector;
  labels: Record<string, string>;
  template: MachineTemplateFields;
}

export interface ForecastMachineDeployment {
  namespace: string;
  name: string;
  cluster: string;
  replicas: number;
  selector: LabelSelector;
  template: MachineTemplateFields;
  /** `spec.paused` of the MachineDeployment itself. */
  paused: boolean;
}

export interface ForecastControlPlane {
  namespace: string;
  name: string;
  cluster: string;
  replicas: number;
  version?: string;
  /** `spec.machineTemplate.infrastructureRef.name`. */
  infrastructureTemplate?: string;
}

export interface ForecastHealthCheck {
  namespace: string;
  name: string;
  cluster: string;
  selector: LabelSelector;
  /** `spec.nodeStartupTimeout` in seconds; undefined = CAPI's default (10m). 0 disables it. */
  nodeStartupTimeoutSeconds?: number;
  /** `spec.maxUnhealthy` (int or percentage string); undefined = 100%. */
  maxUnhealthy?: number | string;
  /** `spec.unhealthyRange`, e.g. `[1-3]`; takes precedence over maxUnhealthy. */
  unhealthyRange?: string;
  /** `spec.unhealthyConditions`: a Node whose condition has this status is unhealthy. */
  unhealthyConditions?: Array<{ type: string; status: string; timeoutSeconds: number }>;
}

/** Where CAPV clones a VM: from a VSphereMachine, VSphereVM or VSphereMachineTemplate spec. */
export interface CloneSpec {
  /** vCenter key of `server`, else the VSphereCluster's. */
  vcenter?: string;
  datacenter?: string;
  /** Template VM (name or inventory path). */
  template?: string;
  datastore?: string;
  /** `network.devices[].networkName`. */
  networks: string[];
  resourcePool?: string;
  folder?: string;
}

export interface ForecastVSphereMachine {
  namespace: string;
  name: string;
  providerID?: string;
  /** The `cluster.x-k8s.io/cloned-from-name` annotation (its VSphereMachineTemplate). */
  clonedFrom?: string;
  clone: CloneSpec;
}

export interface ForecastVSphereVM {
  namespace: string;
  name: string;
  /** `cluster.x-k8s.io/cluster-name` label. */
  cluster?: string;
  controlPlane: boolean;
  /** Lower-case `spec.biosUUID`. */
  biosUuid?: string;
  clone: CloneSpec;
}

export interface ForecastMachineTemplate {
  namespace: string;
  name: string;
  clone: CloneSpec;
}

/** The live management cluster, as projections of its objects (no status, no owner references). */
export interface ManagementState {
  /** Names the management cluster in messages (its kubeconfig context or server). */
  source: string;
  clusters: ForecastClusterObject[];
  vsphereClusters: ForecastVSphereCluster[];
  machines: ForecastMachine[];
  machineSets: ForecastMachineSet[];
  machineDeployments: ForecastMachineDeployment[];
  controlPlanes: ForecastControlPlane[];
  healthChecks: ForecastHealthCheck[];
  vsphereMachines: ForecastVSphereMachine[];
  vsphereVMs: ForecastVSphereVM[];
  machineTemplates: ForecastMachineTemplate[];
  /** Names of the Secrets present, by namespace (values are never read). */
  secrets: Array<{ namespace: string; names: string[] }>;
}

/** What a vCenter has that a clone needs; inventory paths (e.g. `/DC0/datastore/LocalDS_0`). */
export interface CloneResources {
  vcenter: string;
  datastores: string[];
  networks: string[];
  resourcePools: string[];
  folders: string[];
}

/** VMs (templates included, `template: true`) per vCenter, as `detect` lists them, plus resources. */
export interface VSphereState {
  listings: VCenterListing[];
  /** One per vCenter listed `ok`; a vCenter without an entry cannot judge clones. */
  resources: CloneResources[];
}

export interface ForecastNode {
  name: string;
  providerID?: string;
  controlPlane: boolean;
  /** The Node's `Ready` condition is True. */
  ready: boolean;
}

/** One workload cluster: its Nodes and etcd members, or why they are unknown. */
export type WorkloadState =
  | {
      namespace: string;
      cluster: string;
      reached: true;
      nodes: ForecastNode[];
      /** Names of the etcd members: the nodes of the kube-system Pods labelled `component=etcd`. */
      etcdMembers: string[];
    }
  | { namespace: string; cluster: string; reached: false; reason: string };

export interface ForecastInput {
  management: ManagementState;
  vsphere: VSphereState;
  /** Per workload cluster; a cluster without an entry is unknown (API-server access skipped). */
  workloads: WorkloadState[];
  /** Clusters to forecast (`namespace/name`); all when absent. */
  only?: string[];
  /** The forecast's time (ISO 8601): written to `generatedAt`, never part of the digest. */
  now: string;
}

// ---- output ----

export type ActionKind = 'clone' | 'delete' | 'etcd-member-removed' | 'adopt' | 'rollout' | 'new-certificates' | 'clone-fails';

export type FindingKind = 'ghost-vm' | 'powered-off-vm' | 'duplicate-bios-uuid' | 'mhc-short-circuit';

/** The rule of docs/unpause-forecast.md an action, finding or verdict reason rests on (its anchor). */
export type RuleId =
  | 'stale-machine'
  | 'mhc-remediation'
  | 'skip-remediation'
  | 'mhc-short-circuit'
  | 'replica-delta'
  | 'vspherevm-clone'
  | 'etcd-member-removal'
  | 'selector-overlap'
  | 'rollout'
  | 'certificates'
  | 'clone-prerequisites'
  | 'ghost-vm'
  | 'powered-off-vm'
  | 'duplicate-bios-uuid'
  | 'healthy-machine-deleted'
  | 'already-running'
  | 'unknown';

export type Verdict = 'SafeToUnpause' | 'ReviewBeforeUnpause' | 'UnsafeToUnpause';

/** `at unpause`, or `after nodeStartupTimeout <duration>` (e.g. `20m`). */
export type ActionWhen = 'at unpause' | `after nodeStartupTimeout ${string}`;

export interface ForecastAction {
  kind: ActionKind;
  /** What is cloned for (its owner), deleted, adopted, rolled out, or the missing Secret / member. */
  object: ObjectRef;
  when: ActionWhen;
  why: string;
  rule: RuleId;
  /** For a replacement clone: the Machine it replaces. For a delete: the Machine's owner. */
  related?: ObjectRef;
}

export interface ForecastFinding {
  kind: FindingKind;
  object: ObjectRef;
  why: string;
  rule: RuleId;
}

export interface ClusterForecast {
  namespace: string;
  name: string;
  /** False: the cluster is already running (not paused); the forecast is what is under way. */
  paused: boolean;
  /** Sorted by kind order, object, rule. */
  actions: ForecastAction[];
  findings: ForecastFinding[];
  /** What could not be judged (e.g. Nodes of an unreachable workload cluster). */
  unknowns: string[];
  verdict: Verdict;
  /** Why the verdict, each with its rule; for Unsafe, what to fix. */
  reasons: Array<{ rule: RuleId; message: string }>;
  /** `on unpause: +2 VMs cloned, −2 Machines deleted after 20m, 1 etcd member removed`. */
  summary: string;
}

export interface ForecastError {
  /** `vcenter:<key>`, `cluster:<ns>/<name>` or `workload:<ns>/<name>`. */
  scope: string;
  message: string;
}

export const FORECAST_KIND = 'DriftDetectorUnpauseForecast';
export const FORECAST_VERSION = 1;

export interface Forecast {
  kind: typeof FORECAST_KIND;
  version: typeof FORECAST_VERSION;
  /** The management cluster (ManagementState.source). */
  source: string;
  generatedAt: string;
  clusters: ClusterForecast[];
  errors: ForecastError[];
  /** SHA-256 (hex) of the canonical form of everything above except `generatedAt`. */
  digest: string;
}
