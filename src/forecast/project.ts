/**
 * Live Kubernetes objects as the forecast reads them (src/forecast/model.ts): each field read
 * where the controllers read it, nothing from `status` or `ownerReferences` (a restore drops
 * them). A value the controllers could not use either is an error naming the object and field.
 */
import { CLUSTER_NAME_LABEL, field, text } from '../backup/object-fields.js';
import type { KubeObject } from '../model/kube.js';
import { vcenterKey } from '../model/vcenter.js';
import type {
  CloneSpec,
  ForecastClusterObject,
  ForecastHealthCheck,
  ForecastMachine,
  ForecastMachineDeployment,
  ForecastMachineSet,
  ForecastVSphereMachine,
  ForecastVSphereVM,
  LabelSelector,
  MachineTemplateFields,
  ManagementState,
} from './model.js';
import { parseGoDuration } from './selectors.js';

export const PAUSED_ANNOTATION = 'cluster.x-k8s.io/paused';
export const SKIP_REMEDIATION_ANNOTATION = 'cluster.x-k8s.io/skip-remediation';
export const CLONED_FROM_ANNOTATION = 'cluster.x-k8s.io/cloned-from-name';
const CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane';

/** The management cluster's objects, one list per kind, as listed from its API server. */
export interface LiveObjects {
  source: string;
  clusters: KubeObject[];
  vsphereClusters: KubeObject[];
  machines: KubeObject[];
  machineSets: KubeObject[];
  machineDeployments: KubeObject[];
  kubeadmControlPlanes: KubeObject[];
  machineHealthChecks: KubeObject[];
  vsphereMachines: KubeObject[];
  vsphereVMs: KubeObject[];
  vsphereMachineTemplates: KubeObject[];
  /** Only names are read; values never. */
  secrets: Array<{ metadata: { namespace?: string; name: string } }>;
}

export class ForecastInputError extends Error {
  constructor(kind: string, object: KubeObject, fieldPath: string, problem: string) {
    super(`${kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}: ${fieldPath} ${problem}`);
    this.name = 'ForecastInputError';
  }
}

const ns = (o: KubeObject) => o.metadata.namespace ?? '';
const labelsOf = (o: KubeObject) => ({ ...(o.metadata.labels ?? {}) });
const annotated = (o: KubeObject, key: string) => Object.hasOwn(o.metadata.annotations ?? {}, key);

export function projectManagement(live: LiveObjects): ManagementState {
  const vsphereMachines = live.vsphereMachines.map(vsphereMachine);
  const vsphereMachineByKey = new Map(vsphereMachines.map((v) => [`${v.namespace}/${v.name}`, v]));
  const clusterOfControlPlane = new Map(
    live.clusters.flatMap((c) =>
      text(c.spec, 'controlPlaneRef', 'name') ? [[`${ns(c)}/${text(c.spec, 'controlPlaneRef', 'name')}`, c.metadata.name] as const] : [],
    ),
  );
  return {
    source: live.source,
    clusters: live.clusters.map(cluster),
    vsphereClusters: live.vsphereClusters.map((o) => ({
      namespace: ns(o),
      name: o.metadata.name,
      vcenter: server('VSphereCluster', o, o.spec),
    })),
    machines: live.machines.map((o) => machine(o, vsphereMachineByKey)),
    machineSets: live.machineSets.map(machineSet),
    machineDeployments: live.machineDeployments.map(machineDeployment),
    controlPlanes: live.kubeadmControlPlanes.map((o) => ({
      namespace: ns(o),
      name: o.metadata.name,
      cluster: o.metadata.labels?.[CLUSTER_NAME_LABEL] ?? clusterOfControlPlane.get(`${ns(o)}/${o.metadata.name}`) ?? '',
      replicas: replicas('KubeadmControlPlane', o),
      version: text(o.spec, 'version'),
      infrastructureTemplate: text(o.spec, 'machineTemplate', 'infrastructureRef', 'name'),
    })),
    healthChecks: live.machineHealthChecks.map(healthCheck),
    vsphereMachines,
    vsphereVMs: live.vsphereVMs.map(vsphereVM),
    machineTemplates: live.vsphereMachineTemplates.map((o) => ({
      namespace: ns(o),
      name: o.metadata.name,
      clone: cloneSpec('VSphereMachineTemplate', o, field(o.spec, 'template', 'spec')),
    })),
    secrets: secretNames(live.secrets),
  };
}

function cluster(o: KubeObject): ForecastClusterObject {
  return {
    namespace: ns(o),
    name: o.metadata.name,
    paused: field(o.spec, 'paused') === true || annotated(o, PAUSED_ANNOTATION),
    controlPlaneName: text(o.spec, 'controlPlaneRef', 'kind') === 'KubeadmControlPlane' ? text(o.spec, 'controlPlaneRef', 'name') : undefined,
    infrastructureName: text(o.spec, 'infrastructureRef', 'name'),
  };
}

function vsphereMachine(o: KubeObject): ForecastVSphereMachine {
  return {
    namespace: ns(o),
    name: o.metadata.name,
    providerID: text(o.spec, 'providerID'),
    clonedFrom: o.metadata.annotations?.[CLONED_FROM_ANNOTATION],
    clone: cloneSpec('VSphereMachine', o, o.spec),
  };
}

function machine(o: KubeObject, vsphereMachines: Map<string, ForecastVSphereMachine>): ForecastMachine {
  const infra = text(o.spec, 'infrastructureRef', 'name');
  const vsm = infra === undefined ? undefined : vsphereMachines.get(`${ns(o)}/${infra}`);
  return {
    namespace: ns(o),
    name: o.metadata.name,
    cluster: text(o.spec, 'clusterName') ?? o.metadata.labels?.[CLUSTER_NAME_LABEL] ?? '',
    controlPlane: Object.hasOwn(o.metadata.labels ?? {}, CONTROL_PLANE_LABEL),
    labels: labelsOf(o),
    skipRemediation: annotated(o, SKIP_REMEDIATION_ANNOTATION),
    infrastructureName: infra,
    providerID: text(o.spec, 'providerID') ?? vsm?.providerID,
    template: { version: text(o.spec, 'version'), infrastructureTemplate: vsm?.clonedFrom, failureDomain: text(o.spec, 'failureDomain') },
  };
}

/** What a MachineSet and a MachineDeployment share: replicas, selector, Machine template. */
function replicaSet(kind: string, o: KubeObject) {
  return {
    namespace: ns(o),
    name: o.metadata.name,
    cluster: text(o.spec, 'clusterName') ?? '',
    replicas: replicas(kind, o),
    selector: selector(kind, o),
    template: templateFields(field(o.spec, 'template', 'spec')),
  };
}

function machineSet(o: KubeObject): ForecastMachineSet {
  return { ...replicaSet('MachineSet', o), labels: labelsOf(o) };
}

function machineDeployment(o: KubeObject): ForecastMachineDeployment {
  return { ...replicaSet('MachineDeployment', o), paused: field(o.spec, 'paused') === true };
}

function vsphereVM(o: KubeObject): ForecastVSphereVM {
  return {
    namespace: ns(o),
    name: o.metadata.name,
    cluster: o.metadata.labels?.[CLUSTER_NAME_LABEL],
    controlPlane: Object.hasOwn(o.metadata.labels ?? {}, CONTROL_PLANE_LABEL),
    biosUuid: text(o.spec, 'biosUUID')?.toLowerCase(),
    clone: cloneSpec('VSphereVM', o, o.spec),
  };
}

function secretNames(secrets: LiveObjects['secrets']): ManagementState['secrets'] {
  const byNamespace = new Map<string, string[]>();
  for (const s of secrets) {
    const n = s.metadata.namespace ?? '';
    byNamespace.set(n, [...(byNamespace.get(n) ?? []), s.metadata.name]);
  }
  return [...byNamespace].map(([namespace, names]) => ({ namespace, names: names.sort() }));
}

function replicas(kind: string, o: KubeObject): number {
  const value = field(o.spec, 'replicas');
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ForecastInputError(kind, o, 'spec.replicas', 'is not a non-negative integer');
  return value;
}

function selector(kind: string, o: KubeObject): LabelSelector {
  const s = field(o.spec, 'selector');
  if (s === undefined) return {};
  if (typeof s !== 'object' || s === null || Array.isArray(s))
    throw new ForecastInputError(kind, o, 'spec.selector', 'is not a label selector');
  return s;
}

function templateFields(spec: unknown): MachineTemplateFields {
  return {
    version: text(spec, 'version'),
    infrastructureTemplate: text(spec, 'infrastructureRef', 'name'),
    bootstrapTemplate: text(spec, 'bootstrap', 'configRef', 'name'),
    failureDomain: text(spec, 'failureDomain'),
  };
}

function healthCheck(o: KubeObject): ForecastHealthCheck {
  const timeout = field(o.spec, 'nodeStartupTimeout');
  const seconds = typeof timeout === 'string' ? parseGoDuration(timeout) : undefined;
  if (timeout !== undefined && seconds === undefined)
    throw new ForecastInputError('MachineHealthCheck', o, 'spec.nodeStartupTimeout', `${JSON.stringify(timeout)} is not a duration`);
  const max = field(o.spec, 'maxUnhealthy');
  if (max !== undefined && typeof max !== 'number' && typeof max !== 'string')
    throw new ForecastInputError('MachineHealthCheck', o, 'spec.maxUnhealthy', 'is neither a count nor a percentage');
  const conditions = field(o.spec, 'unhealthyConditions');
  return {
    namespace: ns(o),
    name: o.metadata.name,
    cluster: text(o.spec, 'clusterName') ?? '',
    selector: selector('MachineHealthCheck', o),
    nodeStartupTimeoutSeconds: seconds,
    maxUnhealthy: max,
    unhealthyRange: text(o.spec, 'unhealthyRange'),
    unhealthyConditions: Array.isArray(conditions)
      ? conditions.map((c) => ({
          type: text(c, 'type') ?? '',
          status: text(c, 'status') ?? '',
          timeoutSeconds: parseGoDuration(text(c, 'timeout') ?? '0s') ?? 0,
        }))
      : undefined,
  };
}

function server(kind: string, o: KubeObject, spec: unknown): string | undefined {
  const s = text(spec, 'server');
  if (s === undefined) return undefined;
  try {
    return vcenterKey(s);
  } catch {
    throw new ForecastInputError(kind, o, 'spec.server', `${JSON.stringify(s)} is not a vCenter address`);
  }
}

function cloneSpec(kind: string, o: KubeObject, spec: unknown): CloneSpec {
  const devices = field(spec, 'network', 'devices');
  return {
    vcenter: server(kind, o, spec),
    datacenter: text(spec, 'datacenter'),
    template: text(spec, 'template'),
    datastore: text(spec, 'datastore'),
    networks: Array.isArray(devices) ? devices.flatMap((d) => (text(d, 'networkName') ? [text(d, 'networkName')!] : [])) : [],
    resourcePool: text(spec, 'resourcePool'),
    folder: text(spec, 'folder'),
  };
}
