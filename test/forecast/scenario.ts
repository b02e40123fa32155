/**
 * A restored TKG management cluster for the unpause forecast, built step by step: the Cluster API
 * and CAPV objects as Velero leaves them (no status, no ownerReferences, no uid), the VMs and clone
 * resources of one vCenter (datacenter DC0, as vcsim models it), and each workload cluster's Nodes
 * and etcd Pods. `input()` projects it for the pure forecast; `seedDatacenters()`, `workloadNodes()`
 * and `etcdPods()` give the same state to the real peers (vcsim, API-server stand-ins).
 */
import type { KubeObject } from '../../src/model/kube.js';
import type { InventoryVM } from '../../src/model/inventory.js';
import type { CloneResources, ForecastAction, ForecastInput, ForecastNode, WorkloadState } from '../../src/forecast/model.js';
import { projectManagement, type LiveObjects } from '../../src/forecast/project.js';
import type { SeedDatacenter } from '../helpers/seed.js';

export const VCENTER = 'vc01.example.com';
export const NOW = '2026-12-05T18:00:00Z';
export const TEMPLATE = 'ubuntu-2204-kube-v1.28.7';
export const VERSION = 'v1.28.7+vmware.1';
const DC = 'DC0';
const CLUSTER_NAME = 'cluster.x-k8s.io/cluster-name';

export type VMCase = 'running' | 'powered-off' | 'gone' | 'not-cloned';
export type NodeCase = 'ready' | 'not-ready' | 'none';

export interface ClusterOptions {
  namespace?: string;
  paused?: boolean;
  /** KubeadmControlPlane replicas (default 1). */
  controlPlaneReplicas?: number;
  /** MHC `nodeStartupTimeout` (TKG: 20m0s), `maxUnhealthy` (TKG: 100%), `unhealthyRange`. */
  nodeStartupTimeout?: string;
  maxUnhealthy?: number | string;
  unhealthyRange?: string;
}

export interface MachineOptions {
  /** A control-plane Machine; otherwise a worker of `deployment`. */
  controlPlane?: boolean;
  deployment?: string;
  vm?: VMCase;
  node?: NodeCase;
  skipRemediation?: boolean;
  /** The Machine's Kubernetes version (default the cluster's). */
  version?: string;
}

interface Workload {
  namespace: string;
  cluster: string;
  nodes: ForecastNode[];
  etcdMembers: string[];
  unreachable?: string;
}

/** A deterministic BIOS UUID: `4200xxxx-0000-4000-8000-00000000xxxx`. */
export function biosUuid(n: number): string {
  const hex = n.toString(16).padStart(4, '0');
  return `4200${hex}-0000-4000-8000-00000000${hex}`;
}

export class Scenario {
  readonly live: LiveObjects = {
    source: 'restored-management',
    clusters: [],
    vsphereClusters: [],
    machines: [],
    machineSets: [],
    machineDeployments: [],
    kubeadmControlPlanes: [],
    machineHealthChecks: [],
    vsphereMachines: [],
    vsphereVMs: [],
    vsphereMachineTemplates: [],
    secrets: [],
  };
  readonly vms: InventoryVM[] = [];
  readonly resources: CloneResources = {
    vcenter: VCENTER,
    datastores: [`/${DC}/datastore/LocalDS_0`],
    networks: [`/${DC}/network/VM Network`],
    resourcePools: [`/${DC}/host/${DC}_C0/Resources`],
    folders: [`/${DC}/vm`, `/${DC}/vm/templates`],
  };
  readonly workloads = new Map<string, Workload>();
  private counter = 0;
  private morefs = 0;

  constructor() {
    this.vms.push({
      moref: 'vm-template',
      name: TEMPLATE,
      template: true,
      powerState: 'poweredOff',
      datacenter: DC,
      folder: `/${DC}/vm/templates`,
      capvMetadata: false,
      biosUuid: biosUuid(0xfff),
    });
  }

  /** A paused TKG cluster: Cluster, VSphereCluster, KubeadmControlPlane, templates, certificate Secrets, two MHCs. */
  cluster(name: string, o: ClusterOptions = {}): this {
    const namespace = o.namespace ?? 'default';
    const labels = { [CLUSTER_NAME]: name };
    const paused = o.paused ?? true;
    this.live.clusters.push(
      obj(
        'cluster.x-k8s.io/v1beta1',
        'Cluster',
        namespace,
        name,
        {},
        {
          paused,
          controlPlaneRef: { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'KubeadmControlPlane', name: `${name}-cp` },
          infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'VSphereCluster', name },
        },
      ),
    );
    this.live.vsphereClusters.push(
      obj('infrastructure.cluster.x-k8s.io/v1beta1', 'VSphereCluster', namespace, name, labels, { server: VCENTER }),
    );
    this.live.kubeadmControlPlanes.push(
      obj('controlplane.cluster.x-k8s.io/v1beta1', 'KubeadmControlPlane', namespace, `${name}-cp`, labels, {
        replicas: o.controlPlaneReplicas ?? 1,
        version: VERSION,
        machineTemplate: { infrastructureRef: { kind: 'VSphereMachineTemplate', name: `${name}-control-plane` } },
      }),
    );
    this.machineTemplate(namespace, `${name}-control-plane`, name);
    for (const suffix of ['ca', 'etcd', 'sa', 'proxy', 'kubeconfig'])
      this.live.secrets.push({ metadata: { namespace, name: `${name}-${suffix}` } });
    for (const [mhc, selector] of [
      [`${name}-control-plane`, { 'cluster.x-k8s.io/control-plane': '' }],
      [`${name}-md-0`, { [CLUSTER_NAME]: name, 'cluster.x-k8s.io/deployment-name': `${name}-md-0` }],
    ] as const) {
      this.live.machineHealthChecks.push(
        obj('cluster.x-k8s.io/v1beta1', 'MachineHealthCheck', namespace, mhc, labels, {
          clusterName: name,
          selector: { matchLabels: { ...selector } },
          nodeStartupTimeout: o.nodeStartupTimeout ?? '20m0s',
          ...(o.unhealthyRange ? { unhealthyRange: o.unhealthyRange } : { maxUnhealthy: o.maxUnhealthy ?? '100%' }),
          unhealthyConditions: [
            { type: 'Ready', status: 'Unknown', timeout: '5m0s' },
            { type: 'Ready', status: 'False', timeout: '12m0s' },
          ],
        }),
      );
    }
    this.resources.folders.push(`/${DC}/vm/${name}`);
    this.resources.resourcePools.push(`/${DC}/host/${DC}_C0/Resources/${name}`);
    this.workloads.set(`${namespace}/${name}`, { namespace, cluster: name, nodes: [], etcdMembers: [] });
    return this;
  }

  /** A MachineDeployment `<cluster>-<md>` with its MachineSet `<cluster>-<md>-7d9f`. `selector` replaces its matchLabels. */
  deployment(
    cluster: string,
    md: string,
    replicas: number,
    o: { selector?: Record<string, string>; setReplicas?: number; template?: string } = {},
  ): this {
    const namespace = this.namespaceOf(cluster);
    const name = `${cluster}-${md}`;
    const labels = { [CLUSTER_NAME]: cluster, 'cluster.x-k8s.io/deployment-name': name };
    const template = {
      spec: {
        clusterName: cluster,
        version: VERSION,
        bootstrap: { configRef: { kind: 'KubeadmConfigTemplate', name: `${name}-bootstrap` } },
        infrastructureRef: { kind: 'VSphereMachineTemplate', name: o.template ?? `${name}-worker` },
      },
    };
    const setTemplate = { spec: { ...template.spec, infrastructureRef: { kind: 'VSphereMachineTemplate', name: `${name}-worker` } } };
    this.live.machineDeployments.push(
      obj('cluster.x-k8s.io/v1beta1', 'MachineDeployment', namespace, name, labels, {
        clusterName: cluster,
        replicas,
        selector: { matchLabels: o.selector ?? { ...labels } },
        template,
      }),
    );
    this.live.machineSets.push(
      obj('cluster.x-k8s.io/v1beta1', 'MachineSet', namespace, `${name}-7d9f`, labels, {
        clusterName: cluster,
        replicas: o.setReplicas ?? replicas,
        selector: { matchLabels: { ...labels } },
        template: setTemplate,
      }),
    );
    this.machineTemplate(namespace, `${name}-worker`, cluster);
    if (o.template) this.machineTemplate(namespace, o.template, cluster);
    return this;
  }

  /** A Machine with its VSphereMachine, VSphereVM, VM (per `vm`) and Node (per `node`). */
  machine(cluster: string, name: string, o: MachineOptions = {}): this {
    const namespace = this.namespaceOf(cluster);
    const vm = o.vm ?? 'running';
    const node = o.node ?? (vm === 'running' ? 'ready' : vm === 'powered-off' ? 'not-ready' : 'none');
    const uuid = biosUuid(++this.counter);
    const labels: Record<string, string> = { [CLUSTER_NAME]: cluster };
    if (o.controlPlane) Object.assign(labels, { 'cluster.x-k8s.io/control-plane': '', 'cluster.x-k8s.io/control-plane-name': `${cluster}-cp` });
    else
      Object.assign(labels, {
        'cluster.x-k8s.io/deployment-name': `${cluster}-${o.deployment ?? 'md-0'}`,
        'cluster.x-k8s.io/set-name': `${cluster}-${o.deployment ?? 'md-0'}-7d9f`,
      });
    const template = o.controlPlane ? `${cluster}-control-plane` : `${cluster}-${o.deployment ?? 'md-0'}-worker`;
    const hasUuid = vm !== 'not-cloned';
    this.live.machines.push(
      obj(
        'cluster.x-k8s.io/v1beta1',
        'Machine',
        namespace,
        name,
        labels,
        {
          clusterName: cluster,
          version: o.version ?? VERSION,
          infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'VSphereMachine', name },
          ...(hasUuid ? { providerID: `vsphere://${uuid}` } : {}),
        },
        o.skipRemediation ? { 'cluster.x-k8s.io/skip-remediation': '' } : {},
      ),
    );
    const clone = this.cloneSpec(cluster);
    this.live.vsphereMachines.push(
      obj(
        'infrastructure.cluster.x-k8s.io/v1beta1',
        'VSphereMachine',
        namespace,
        name,
        labels,
        { ...clone, ...(hasUuid ? { providerID: `vsphere://${uuid}` } : {}) },
        { 'cluster.x-k8s.io/cloned-from-name': template },
      ),
    );
    this.live.vsphereVMs.push(
      obj('infrastructure.cluster.x-k8s.io/v1beta1', 'VSphereVM', namespace, name, labels, {
        ...clone,
        ...(hasUuid ? { biosUUID: uuid } : {}),
      }),
    );
    if (vm === 'running' || vm === 'powered-off') this.addVM(cluster, name, uuid, vm === 'running');
    if (node !== 'none') this.addNode(cluster, name, uuid, !!o.controlPlane, node === 'ready');
    return this;
  }

  /** A VM (and Node, and etcd member for a control-plane one) that no Machine accounts for. */
  ghost(cluster: string, name: string, o: { controlPlane?: boolean; node?: boolean } = {}): this {
    const uuid = biosUuid(++this.counter);
    this.addVM(cluster, name, uuid, true);
    if (o.node ?? true) this.addNode(cluster, name, uuid, !!o.controlPlane, true);
    return this;
  }

  /** The workload cluster's API server cannot be read. */
  unreachable(cluster: string, reason: string): this {
    this.workloads.get(`${this.namespaceOf(cluster)}/${cluster}`)!.unreachable = reason;
    return this;
  }

  unpaused(cluster: string): this {
    const c = this.live.clusters.find((x) => x.metadata.name === cluster)!;
    (c.spec as Record<string, unknown>)['paused'] = false;
    return this;
  }

  /** Removes the Secret `<name>` of the cluster's namespace (e.g. `wc1-ca`). */
  withoutSecret(cluster: string, name: string): this {
    const namespace = this.namespaceOf(cluster);
    this.live.secrets = this.live.secrets.filter((s) => !(s.metadata.namespace === namespace && s.metadata.name === name));
    return this;
  }

  /** The template VM is deleted from vCenter. */
  withoutTemplateVM(): this {
    const at = this.vms.findIndex((v) => v.template);
    if (at >= 0) this.vms.splice(at, 1);
    return this;
  }

  /** Sets a field of an object's spec, e.g. `set('MachineHealthCheck', 'wc1-md-0', ['maxUnhealthy'], 1)`. */
  set(kind: keyof typeof KIND_LISTS, name: string, path: string[], value: unknown): this {
    const o = this.live[KIND_LISTS[kind]].find((x) => x.metadata.name === name);
    if (!o) throw new Error(`no ${kind} ${name} in the scenario`);
    let at = (o.spec ??= {});
    for (const key of path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[path[path.length - 1]!] = value;
    return this;
  }

  input(now = NOW): ForecastInput {
    const workloads: WorkloadState[] = [...this.workloads.values()].map((w) =>
      w.unreachable
        ? { namespace: w.namespace, cluster: w.cluster, reached: false, reason: w.unreachable }
        : { namespace: w.namespace, cluster: w.cluster, reached: true, nodes: [...w.nodes], etcdMembers: [...w.etcdMembers] },
    );
    return {
      management: projectManagement(structuredClone(this.live)),
      vsphere: { listings: [{ ok: true, vcenter: VCENTER, vms: structuredClone(this.vms) }], resources: [structuredClone(this.resources)] },
      workloads,
      now,
    };
  }

  /** The VMs as vcsim seeds them (datacenter DC0, a folder and a resource pool per cluster). */
  seedDatacenters(): SeedDatacenter[] {
    const clusters = this.live.clusters.map((c) => c.metadata.name);
    return [
      {
        name: DC,
        folders: ['templates', ...clusters],
        resourcePools: clusters,
        vms: this.vms.map((v) => ({
          name: v.name,
          uuid: v.biosUuid!,
          instanceUuid: v.instanceUuid ?? v.biosUuid!.replace(/^4200/, '5000'),
          folder: v.folder!.replace(`/${DC}/vm/`, ''),
          ...(v.resourcePool ? { resourcePool: v.resourcePool.replace(`/${DC}/host/${DC}_C0/Resources/`, '') } : {}),
          powerState: v.powerState as 'poweredOn' | 'poweredOff',
          ...(v.template ? { template: true } : {}),
        })),
      },
    ];
  }

  /** The workload cluster's Nodes as its API server returns them. */
  workloadNodes(namespace: string, cluster: string): KubeObject[] {
    const roleLabels = (controlPlane: boolean): Record<string, string> => (controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {});
    return (this.workloads.get(`${namespace}/${cluster}`)?.nodes ?? []).map((n) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels: roleLabels(n.controlPlane) },
      spec: { providerID: n.providerID },
      status: { conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False' }] },
    }));
  }

  /** The kube-system etcd Pods (`component=etcd`), one per member, named as kubeadm names them. */
  etcdPods(namespace: string, cluster: string): KubeObject[] {
    return (this.workloads.get(`${namespace}/${cluster}`)?.etcdMembers ?? []).map((member) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `etcd-${member}`, namespace: 'kube-system', labels: { component: 'etcd', tier: 'control-plane' } },
      spec: { nodeName: member },
    }));
  }

  private namespaceOf(cluster: string): string {
    const c = this.live.clusters.find((x) => x.metadata.name === cluster);
    if (!c) throw new Error(`add cluster ${cluster} to the scenario first`);
    return c.metadata.namespace!;
  }

  private cloneSpec(cluster: string) {
    return {
      server: VCENTER,
      datacenter: DC,
      template: TEMPLATE,
      datastore: 'LocalDS_0',
      folder: `/${DC}/vm/${cluster}`,
      resourcePool: `/${DC}/host/${DC}_C0/Resources/${cluster}`,
      network: { devices: [{ networkName: 'VM Network', dhcp4: true }] },
    };
  }

  private machineTemplate(namespace: string, name: string, cluster: string): void {
    this.live.vsphereMachineTemplates.push(
      obj(
        'infrastructure.cluster.x-k8s.io/v1beta1',
        'VSphereMachineTemplate',
        namespace,
        name,
        { [CLUSTER_NAME]: cluster },
        { template: { spec: this.cloneSpec(cluster) } },
      ),
    );
  }

  private addVM(cluster: string, name: string, uuid: string, on: boolean): void {
    this.vms.push({
      moref: `vm-${++this.morefs}`,
      name,
      biosUuid: uuid,
      instanceUuid: uuid.replace(/^4200/, '5000'),
      template: false,
      powerState: on ? 'poweredOn' : 'poweredOff',
      datacenter: DC,
      folder: `/${DC}/vm/${cluster}`,
      resourcePool: `/${DC}/host/${DC}_C0/Resources/${cluster}`,
      capvMetadata: true,
    });
  }

  private addNode(cluster: string, name: string, uuid: string, controlPlane: boolean, ready: boolean): void {
    const w = this.workloads.get(`${this.namespaceOf(cluster)}/${cluster}`)!;
    w.nodes.push({ name, providerID: `vsphere://${uuid}`, controlPlane, ready });
    if (controlPlane) w.etcdMembers.push(name);
  }
}

const KIND_LISTS = {
  Cluster: 'clusters',
  Machine: 'machines',
  MachineSet: 'machineSets',
  MachineDeployment: 'machineDeployments',
  KubeadmControlPlane: 'kubeadmControlPlanes',
  MachineHealthCheck: 'machineHealthChecks',
  VSphereMachineTemplate: 'vsphereMachineTemplates',
  VSphereVM: 'vsphereVMs',
} as const;

/** An object as Velero restores it: no status, no ownerReferences, no uid. */
function obj(
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
  labels: Record<string, string>,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace, labels: { ...labels }, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec,
  };
}

/** Each action as one line, `kind Kind/name (when) #rule`, for compact assertions. */
export function brief(actions: ForecastAction[]): string[] {
  return actions.map((a) => `${a.kind} ${a.object.kind}/${a.object.name} (${a.when}) #${a.rule}`);
}

/** A healthy paused cluster `wc1`: 1 control-plane Machine, 2 workers, all VMs running and Nodes Ready. */
export function healthyCluster(name = 'wc1', o: ClusterOptions = {}): Scenario {
  return new Scenario()
    .cluster(name, o)
    .deployment(name, 'md-0', 2)
    .machine(name, `${name}-cp-a`, { controlPlane: true })
    .machine(name, `${name}-md-0-a`)
    .machine(name, `${name}-md-0-b`);
}

/**
 * Five clusters covering most rules: wc1 Unsafe (Ghost control-plane VM and its etcd member,
 * Stale Machines, a powered-off VM, a missing CA Secret), wc2 Safe, wc3 Review (scale-up,
 * rollout, a short-circuited MachineHealthCheck), wc4 Unsafe (overlapping selectors, a missing
 * VSphereMachineTemplate), wc5 already running with its workload cluster unreachable.
 */
export function restoredManagementCluster(): Scenario {
  const s = new Scenario()
    .cluster('wc1', { controlPlaneReplicas: 3 })
    .deployment('wc1', 'md-0', 3)
    .machine('wc1', 'wc1-cp-a', { controlPlane: true })
    .machine('wc1', 'wc1-cp-b', { controlPlane: true })
    .machine('wc1', 'wc1-cp-c', { controlPlane: true, vm: 'gone' })
    .ghost('wc1', 'wc1-cp-d', { controlPlane: true })
    .machine('wc1', 'wc1-md-0-a')
    .machine('wc1', 'wc1-md-0-b', { vm: 'gone' })
    .machine('wc1', 'wc1-md-0-c', { vm: 'powered-off' })
    .withoutSecret('wc1', 'wc1-ca');
  s.cluster('wc2').deployment('wc2', 'md-0', 1).machine('wc2', 'wc2-cp-a', { controlPlane: true }).machine('wc2', 'wc2-md-0-a');
  s.cluster('wc3', { maxUnhealthy: 0 })
    .deployment('wc3', 'md-0', 2)
    .deployment('wc3', 'md-1', 1, { template: 'wc3-md-1-worker-v2' })
    .machine('wc3', 'wc3-cp-a', { controlPlane: true })
    .machine('wc3', 'wc3-md-0-a', { vm: 'gone' })
    .machine('wc3', 'wc3-md-1-a', { deployment: 'md-1' })
    .set('MachineDeployment', 'wc3-md-0', ['replicas'], 3);
  s.cluster('wc4', { namespace: 'team-b' })
    .deployment('wc4', 'md-0', 2, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc4' } })
    .deployment('wc4', 'md-1', 1, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc4' } })
    .machine('wc4', 'wc4-cp-a', { controlPlane: true })
    .machine('wc4', 'wc4-md-0-a')
    .machine('wc4', 'wc4-md-1-a', { deployment: 'md-1' });
  s.live.vsphereMachineTemplates = s.live.vsphereMachineTemplates.filter((t) => t.metadata.name !== 'wc4-md-0-worker');
  s.cluster('wc5')
    .machine('wc5', 'wc5-cp-a', { controlPlane: true })
    .unpaused('wc5')
    .unreachable('wc5', 'dial tcp 10.0.5.10:6443: connect: connection refused');
  return s;
}
