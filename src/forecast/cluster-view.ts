/**
 * What the controllers will see of one Cluster once it is unpaused: its objects, each Machine
 * with the VM CAPV will find for it and the Node CAPI will find for it, and its owner as the
 * controllers re-adopt it by selector (owner references are gone after a restore).
 * docs/unpause-forecast.md#vm-lookup and #owners. Pure.
 */
import { samePlace } from '../drift/paths.js';
import { VCenterIndex } from '../drift/match.js';
import type { InventoryVM } from '../model/inventory.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import type {
  ForecastClusterObject,
  ForecastControlPlane,
  ForecastHealthCheck,
  ForecastInput,
  ForecastMachine,
  ForecastMachineDeployment,
  ForecastMachineSet,
  ForecastNode,
  ForecastVSphereVM,
  ObjectRef,
  WorkloadState,
} from './model.js';
import { selects } from './selectors.js';

/** What CAPV finds for a Machine's VSphereVM (#vm-lookup). */
export type VMState =
  | { state: 'found'; vm: InventoryVM; vcenter: string; by: 'BIOS UUID' | 'inventory path' }
  /** `spec.biosUUID` names no VM: CAPV will not clone it again, the Machine never gets a Node. */
  | { state: 'stale'; biosUuid: string }
  /** No BIOS UUID and no VM at its path: CAPV clones a new VM. */
  | { state: 'clone' }
  | { state: 'unknown'; reason: string };

export type NodeState = { state: 'ready' | 'not-ready'; node: ForecastNode } | { state: 'none' } | { state: 'unknown'; reason: string };

export interface MachineFacts {
  machine: ForecastMachine;
  vsphereVM?: ForecastVSphereVM;
  vm: VMState;
  node: NodeState;
  /** The MachineSet or KubeadmControlPlane that will own it; undefined when none selects it. */
  owner?: ObjectRef;
}

export interface ClusterView {
  cluster: ForecastClusterObject;
  /** The VSphereCluster's vCenter key. */
  vcenter?: string;
  machines: MachineFacts[];
  machineSets: ForecastMachineSet[];
  machineDeployments: ForecastMachineDeployment[];
  controlPlane?: ForecastControlPlane;
  healthChecks: ForecastHealthCheck[];
  workload?: WorkloadState;
}

/** The input indexed once for every cluster. */
export interface ForecastIndex {
  input: ForecastInput;
  vcenters: Map<string, VCenterIndex>;
  /** Why a vCenter could not be listed. */
  failedVCenters: Map<string, string>;
  /** The management cluster's objects by the `namespace/cluster` they belong to. */
  byCluster: {
    machines: Map<string, ForecastMachine[]>;
    machineSets: Map<string, ForecastMachineSet[]>;
    machineDeployments: Map<string, ForecastMachineDeployment[]>;
    controlPlanes: Map<string, ForecastControlPlane[]>;
    healthChecks: Map<string, ForecastHealthCheck[]>;
  };
  /** VSphereVMs by `namespace/name`. */
  vsphereVMs: Map<string, ForecastVSphereVM>;
}

function groupBy<T extends { namespace: string; cluster: string }>(items: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = `${item.namespace}/${item.cluster}`;
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}

export function indexInput(input: ForecastInput): ForecastIndex {
  const vcenters = new Map<string, VCenterIndex>();
  const failedVCenters = new Map<string, string>();
  for (const l of input.vsphere.listings) {
    if (l.ok) vcenters.set(l.vcenter, new VCenterIndex(l.vcenter, l.vms));
    else failedVCenters.set(l.vcenter, l.reason);
  }
  const m = input.management;
  const byCluster = {
    machines: groupBy(m.machines),
    machineSets: groupBy(m.machineSets),
    machineDeployments: groupBy(m.machineDeployments),
    controlPlanes: groupBy(m.controlPlanes),
    healthChecks: groupBy(m.healthChecks),
  };
  return { input, vcenters, failedVCenters, byCluster, vsphereVMs: new Map(m.vsphereVMs.map((v) => [`${v.namespace}/${v.name}`, v])) };
}

export function clusterView(index: ForecastIndex, cluster: ForecastClusterObject): ClusterView {
  const m = index.input.management;
  const key = `${cluster.namespace}/${cluster.name}`;
  const of = <T>(map: Map<string, T[]>) => map.get(key) ?? [];
  const vsphereCluster = m.vsphereClusters.find((v) => v.namespace === cluster.namespace && v.name === cluster.infrastructureName);
  const controlPlane = of(index.byCluster.controlPlanes).find(
    (k) => cluster.controlPlaneName === undefined || k.name === cluster.controlPlaneName,
  );
  const machineSets = of(index.byCluster.machineSets);
  const workload = index.input.workloads.find((w) => w.namespace === cluster.namespace && w.cluster === cluster.name);
  const view: ClusterView = {
    cluster,
    vcenter: vsphereCluster?.vcenter,
    machines: [],
    machineSets,
    machineDeployments: of(index.byCluster.machineDeployments),
    controlPlane,
    healthChecks: of(index.byCluster.healthChecks),
    workload,
  };
  for (const machine of of(index.byCluster.machines)) {
    const vsphereVM = index.vsphereVMs.get(`${machine.namespace}/${machine.name}`);
    const vm = vmState(index, machine, vsphereVM, view.vcenter);
    view.machines.push({ machine, vsphereVM, vm, node: nodeState(workload, machine, vm), owner: ownerOf(machine, machineSets, controlPlane) });
  }
  return view;
}

/**
 * CAPV's lookup: by `spec.biosUUID`; then by instance UUID = the VSphereVM's uid, which the restore
 * changed, so never; then by inventory path `<folder>/<name>`. A Machine without a VSphereVM
 * gets one from its VSphereMachine, carrying the providerID's BIOS UUID when there is one.
 */
function vmState(index: ForecastIndex, machine: ForecastMachine, vsphereVM: ForecastVSphereVM | undefined, clusterVCenter?: string): VMState {
  const vcenter = vsphereVM?.clone.vcenter ?? clusterVCenter;
  if (!vcenter) return { state: 'unknown', reason: 'no vCenter named by its VSphereVM or VSphereCluster' };
  const vms = index.vcenters.get(vcenter);
  if (!vms) return { state: 'unknown', reason: `vCenter ${vcenter} not listed${reasonOf(index.failedVCenters.get(vcenter))}` };
  const biosUuid = vsphereVM?.biosUuid ?? uuidOfProviderID(machine.providerID);
  if (biosUuid) {
    const found = vms.byBios.get(biosUuid);
    return found?.length ? { state: 'found', vm: found[0]!, vcenter, by: 'BIOS UUID' } : { state: 'stale', biosUuid };
  }
  const name = vsphereVM?.name ?? machine.name;
  const atPath = (vms.byName.get(name) ?? []).find((vm) => !vsphereVM?.clone.folder || samePlace(vm.folder, vsphereVM.clone.folder));
  return atPath ? { state: 'found', vm: atPath, vcenter, by: 'inventory path' } : { state: 'clone' };
}

const reasonOf = (reason: string | undefined) => (reason ? `: ${reason}` : '');

/** CAPI's Node lookup: the Node whose providerID is the Machine's, i.e. `vsphere://<BIOS UUID>` of its VM. */
function nodeState(workload: WorkloadState | undefined, machine: ForecastMachine, vm: VMState): NodeState {
  if (vm.state === 'stale' || vm.state === 'clone') return { state: 'none' };
  if (!workload) return { state: 'unknown', reason: 'workload cluster not read' };
  if (!workload.reached) return { state: 'unknown', reason: `workload cluster not read: ${workload.reason}` };
  const uuid = vm.state === 'found' ? vm.vm.biosUuid : uuidOfProviderID(machine.providerID);
  const node = uuid ? workload.nodes.find((n) => uuidOfProviderID(n.providerID) === uuid) : undefined;
  if (!node) return vm.state === 'unknown' ? { state: 'unknown', reason: vm.reason } : { state: 'none' };
  return { state: node.ready ? 'ready' : 'not-ready', node };
}

/** Control-plane Machines go to the KubeadmControlPlane; workers to the first MachineSet (by name) whose selector matches. */
function ownerOf(machine: ForecastMachine, machineSets: ForecastMachineSet[], controlPlane?: ForecastControlPlane): ObjectRef | undefined {
  if (machine.controlPlane) return controlPlane && { kind: 'KubeadmControlPlane', namespace: controlPlane.namespace, name: controlPlane.name };
  const set = [...machineSets].sort((a, b) => a.name.localeCompare(b.name)).find((s) => selects(s.selector, machine.labels));
  return set && { kind: 'MachineSet', namespace: set.namespace, name: set.name };
}

export function machineRef(m: ForecastMachine): ObjectRef {
  return { kind: 'Machine', namespace: m.namespace, name: m.name };
}

/** The Machines a MachineSet selects (its own and orphans it will adopt). */
export function machinesOfSet(view: ClusterView, set: ForecastMachineSet): MachineFacts[] {
  return view.machines.filter((f) => !f.machine.controlPlane && selects(set.selector, f.machine.labels));
}
