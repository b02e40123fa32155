/**
 * The drift analysis of drift-semantics.md sections 2 to 5: plain data in, a report out.
 * No I/O, no clock, no randomness: every rule is a table-driven unit test.
 */
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import type { InventoryVM, VCenterListing } from '../model/inventory.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import {
  MACHINE_ROLLUP,
  worst,
  type ClusterReport,
  type DriftReport,
  type InfraMachineReport,
  type ListingReport,
  type MachineReport,
  type ReportError,
  type RollupStatus,
} from '../model/report.js';
import type { WorkloadNode, WorkloadNodeListing } from '../model/workload.js';
import { sameDatacenter, samePlace } from './paths.js';

export interface DriftInput {
  clusters: BackedUpCluster[];
  /** One listing per vCenter the backup names. */
  vcenters: VCenterListing[];
  /** Node listings per cluster; undefined when API-server access was skipped. */
  workloads?: WorkloadNodeListing[];
  /** Errors found before the analysis (reading the backup, resolving credentials). */
  errors?: ReportError[];
}

/** The VMs of one listed vCenter, indexed the three ways section 3 searches them. */
class VCenterIndex {
  readonly byBios = new Map<string, InventoryVM[]>();
  readonly byInstance = new Map<string, InventoryVM[]>();
  readonly byName = new Map<string, InventoryVM[]>();

  constructor(readonly vcenter: string, readonly vms: InventoryVM[]) {
    for (const vm of vms) {
      if (vm.template) continue;
      if (vm.biosUuid) push(this.byBios, vm.biosUuid, vm);
      if (vm.instanceUuid) push(this.byInstance, vm.instanceUuid, vm);
      push(this.byName, vm.name, vm);
    }
  }
}

type Match =
  | { kind: 'matched'; vm: InventoryVM; by: string }
  | { kind: 'ambiguous'; vms: InventoryVM[]; reason: string }
  | { kind: 'none' };

/** Section 3, steps 1 and 2: BIOS UUID, narrowed by instance UUID; then instance UUID alone. */
function matchByUuid(machine: BackedUpMachine, index: VCenterIndex): Match {
  const byBios = machine.biosUuid ? index.byBios.get(machine.biosUuid) ?? [] : [];
  if (byBios.length === 1) return { kind: 'matched', vm: byBios[0]!, by: 'BIOS UUID' };
  if (byBios.length > 1) {
    const narrowed = byBios.filter((vm) => machine.instanceUuid && vm.instanceUuid === machine.instanceUuid);
    if (narrowed.length === 1) return { kind: 'matched', vm: narrowed[0]!, by: 'BIOS and instance UUID' };
    return {
      kind: 'ambiguous',
      vms: byBios,
      reason: `duplicate BIOS UUID ${machine.biosUuid}: ${byBios.length} VMs carry it (${vmNames(byBios)})`,
    };
  }
  const byInstance = machine.instanceUuid ? index.byInstance.get(machine.instanceUuid) ?? [] : [];
  if (byInstance.length === 1) return { kind: 'matched', vm: byInstance[0]!, by: 'instance UUID' };
  if (byInstance.length > 1) {
    return {
      kind: 'ambiguous',
      vms: byInstance,
      reason: `duplicate instance UUID ${machine.instanceUuid}: ${byInstance.length} VMs carry it (${vmNames(byInstance)})`,
    };
  }
  return { kind: 'none' };
}

/** Section 3, step 3: the VM of that exact name in the same datacenter (and folder, when known). */
function matchByName(machine: BackedUpMachine, index: VCenterIndex, taken: Set<InventoryVM>): Match {
  const { datacenter, folder } = machine.placement;
  const named = (index.byName.get(machine.vmName) ?? []).filter(
    (vm) =>
      !taken.has(vm) &&
      sameDatacenter(vm.datacenter, datacenter) &&
      (!folder || !vm.folder || samePlace(vm.folder, folder)),
  );
  if (named.length === 1) return { kind: 'matched', vm: named[0]!, by: 'name' };
  if (named.length > 1) {
    return { kind: 'ambiguous', vms: named, reason: `${named.length} VMs are named ${machine.vmName} in ${datacenter ?? 'the vCenter'}` };
  }
  return { kind: 'none' };
}

interface MachineOutcome {
  cluster: BackedUpCluster;
  machine: BackedUpMachine;
  report: MachineReport;
  vm?: InventoryVM;
}

export function analyzeDrift(input: DriftInput): DriftReport {
  const errors: ReportError[] = [...(input.errors ?? [])];
  const indexes = new Map<string, VCenterIndex>();
  const failures = new Map<string, string>();
  for (const listing of input.vcenters) {
    if (listing.ok) indexes.set(listing.vcenter, new VCenterIndex(listing.vcenter, listing.vms));
    else {
      failures.set(listing.vcenter, listing.reason);
      errors.push({ scope: `vcenter:${listing.vcenter}`, message: listing.reason, severity: 'error' });
    }
  }

  // Section 3. UUID matches are settled first for every machine, so that a name match
  // (step 3) can never take a VM that another machine owns by UUID.
  const claimed = new Set<InventoryVM>();
  const ambiguous = new Set<InventoryVM>();
  const outcomes: MachineOutcome[] = [];
  const pendingByName: { outcome: MachineOutcome; index: VCenterIndex }[] = [];
  for (const cluster of input.clusters) {
    for (const machine of cluster.machines) {
      const outcome: MachineOutcome = { cluster, machine, report: backedUpMachineReport(machine, cluster) };
      outcomes.push(outcome);
      const vcenter = machine.placement.vcenter ?? cluster.placement.vcenter;
      if (!vcenter) {
        setStatus(outcome, 'Unknown', 'the backup names no vCenter for this machine (VSphereVM, VSphereMachine and VSphereCluster have no spec.server)');
        continue;
      }
      const failure = failures.get(vcenter);
      if (failure !== undefined) {
        setStatus(outcome, 'Unknown', `vCenter ${vcenter} could not be listed: ${failure}`);
        continue;
      }
      const index = indexes.get(vcenter);
      if (!index) {
        setStatus(outcome, 'Unknown', `vCenter ${vcenter} was not listed`);
        continue;
      }
      const match = matchByUuid(machine, index);
      if (match.kind === 'none') pendingByName.push({ outcome, index });
      else settle(outcome, match, claimed, ambiguous);
    }
  }
  for (const { outcome, index } of pendingByName) {
    const match = matchByName(outcome.machine, index, claimed);
    if (match.kind === 'none') {
      setStatus(outcome, 'Stale', staleReason(outcome.machine));
    } else settle(outcome, match, claimed, ambiguous);
  }

  // Section 4: node evidence, per cluster, keyed by BIOS UUID.
  const listings = new Map<string, WorkloadNodeListing>();
  for (const listing of input.workloads ?? []) listings.set(clusterId(listing.namespace, listing.cluster), listing);
  const nodesByUuid = new Map<string, { cluster: BackedUpCluster; node: WorkloadNode }>();
  for (const cluster of input.clusters) {
    const listing = listings.get(clusterId(cluster.namespace, cluster.name));
    if (!listing?.reached) continue;
    for (const node of listing.nodes) {
      const uuid = uuidOfProviderID(node.providerID);
      if (uuid && !nodesByUuid.has(uuid)) nodesByUuid.set(uuid, { cluster, node });
    }
  }
  for (const outcome of outcomes) {
    const uuid = outcome.vm?.biosUuid ?? outcome.machine.biosUuid;
    const seen = uuid ? nodesByUuid.get(uuid) : undefined;
    if (seen && seen.cluster === outcome.cluster) outcome.report.nodeName = seen.node.name;
  }

  const ghosts = new Map<BackedUpCluster, Ghost[]>();
  const infraMachines: InfraMachineReport[] = [];
  let outOfScopeVMs = 0;
  const usedFolders = placementsOf(input.clusters, (m) => m.folder);
  const usedPools = placementsOf(input.clusters, (m) => m.resourcePool);
  const places = new Map(input.clusters.map((c) => [c, machinePlaces(c)] as const));
  const vmUuids = new Set<string>();
  for (const index of indexes.values()) {
    for (const vm of index.vms) {
      if (vm.template) continue;
      if (vm.biosUuid) vmUuids.add(vm.biosUuid);
      if (claimed.has(vm) || ambiguous.has(vm)) continue;
      const owner = ownerOf(vm, index.vcenter, input.clusters, places, nodesByUuid);
      if (owner) {
        push(ghosts, owner.cluster, ghost(vm, index.vcenter, owner));
      } else if (vm.capvMetadata || usedFolders.has(index.vcenter, vm.folder) || usedPools.has(index.vcenter, vm.resourcePool)) {
        infraMachines.push(infraMachineReport(vm, index.vcenter));
      } else {
        outOfScopeVMs++;
      }
    }
  }

  // Section 4, last rule: Nodes whose VM the detector could not see.
  for (const cluster of input.clusters) {
    const listing = listings.get(clusterId(cluster.namespace, cluster.name));
    if (!listing?.reached) continue;
    const backedUp = new Set(cluster.machines.map((m) => m.biosUuid).filter((u): u is string => !!u));
    for (const node of listing.nodes) {
      const uuid = uuidOfProviderID(node.providerID);
      if (!uuid || backedUp.has(uuid) || vmUuids.has(uuid)) continue;
      push(ghosts, cluster, {
        controlPlane: node.controlPlane,
        report: {
          name: node.name,
          status: 'Ghost',
          source: 'node',
          nodeName: node.name,
          biosUUID: uuid,
          reason:
            `Node ${node.name} (providerID vsphere://${uuid}) has no Machine in the backup and no VM in any listed vCenter; ` +
            remediation(node.controlPlane, node.name),
        },
      });
    }
  }

  for (const listing of input.workloads ?? []) {
    if (!listing.reached && listing.error) {
      errors.push({
        scope: `cluster:${clusterId(listing.namespace, listing.cluster)}`,
        message: `workload API server not read: ${listing.error}; ghosts of this cluster are found by VM name only`,
        severity: 'warning',
      });
    }
  }

  const clusters = input.clusters.map((cluster) =>
    clusterReport(cluster, outcomes, ghosts.get(cluster) ?? [], failures, listings, input.workloads !== undefined),
  );
  clusters.sort((a, b) => clusterId(a.namespace, a.name).localeCompare(clusterId(b.namespace, b.name)));
  infraMachines.sort((a, b) => a.vcenter.localeCompare(b.vcenter) || a.name.localeCompare(b.name));

  const clusterWorst = worst(clusters.map((c) => c.status));
  const summaryStatus: RollupStatus =
    infraMachines.length > 0 ? worst([clusterWorst, 'NeedFurtherConfirmationInfraMachines']) : clusterWorst;
  const count = (s: RollupStatus) => clusters.filter((c) => c.status === s).length;
  return {
    summary: {
      status: summaryStatus,
      clusters: {
        total: clusters.length,
        Healthy: count('Healthy'),
        ManualRemediationNotRequired: count('ManualRemediationNotRequired'),
        ManualRemediationRequired: count('ManualRemediationRequired'),
        NeedFurtherConfirmation: count('NeedFurtherConfirmation'),
      },
      infraMachinesNeedFurtherConfirmation: infraMachines.length,
      outOfScopeVMs,
      hasErrors: errors.some((e) => e.severity === 'error'),
    },
    clusters,
    infraMachines,
    errors,
  };
}

interface Ghost {
  report: MachineReport;
  controlPlane: boolean;
}

function settle(outcome: MachineOutcome, match: Exclude<Match, { kind: 'none' }>, claimed: Set<InventoryVM>, ambiguous: Set<InventoryVM>): void {
  if (match.kind === 'ambiguous') {
    for (const vm of match.vms) ambiguous.add(vm);
    setStatus(outcome, 'Unknown', match.reason);
    return;
  }
  const { vm } = match;
  claimed.add(vm);
  outcome.vm = vm;
  const report = outcome.report;
  report.vmName = vm.name;
  report.powerState = vm.powerState;
  report.datacenter = vm.datacenter ?? report.datacenter;
  if (vm.biosUuid) report.biosUUID = vm.biosUuid;
  if (vm.powerState && vm.powerState !== 'poweredOn') {
    report.warnings = [`VM ${vm.name} is ${vm.powerState}`];
  }
  setStatus(outcome, 'Healthy', `VM ${vm.name} (${vm.moref}) found by ${match.by}`);
}

function setStatus(outcome: MachineOutcome, status: MachineReport['status'], reason: string): void {
  outcome.report.status = status;
  outcome.report.reason = reason;
}

function staleReason(machine: BackedUpMachine): string {
  const keys = [machine.biosUuid && `BIOS UUID ${machine.biosUuid}`, machine.instanceUuid && `instance UUID ${machine.instanceUuid}`]
    .filter(Boolean)
    .join(', ');
  return `no VM found by ${keys ? `${keys} or ` : ''}name ${machine.vmName}; Cluster API replaces this machine after the restore`;
}

function backedUpMachineReport(machine: BackedUpMachine, cluster: BackedUpCluster): MachineReport {
  const vcenter = machine.placement.vcenter ?? cluster.placement.vcenter;
  const datacenter = machine.placement.datacenter ?? cluster.placement.datacenter;
  return {
    name: machine.name,
    status: 'Unknown',
    reason: '',
    source: 'backup',
    ...(vcenter ? { vcenter } : {}),
    ...(datacenter ? { datacenter } : {}),
    vmName: machine.vmName,
    ...(machine.biosUuid ? { biosUUID: machine.biosUuid } : {}),
    ...(machine.instanceUuid ? { instanceUUID: machine.instanceUuid } : {}),
  };
}

interface Owner {
  cluster: BackedUpCluster;
  node?: WorkloadNode;
  evidence: string;
}

/** Section 4: the backed-up cluster a ghost candidate belongs to, by node evidence, else by name. */
function ownerOf(
  vm: InventoryVM,
  vcenter: string,
  clusters: BackedUpCluster[],
  places: Map<BackedUpCluster, Place[]>,
  nodesByUuid: Map<string, { cluster: BackedUpCluster; node: WorkloadNode }>,
): Owner | undefined {
  const seen = vm.biosUuid ? nodesByUuid.get(vm.biosUuid) : undefined;
  if (seen) return { cluster: seen.cluster, node: seen.node, evidence: `Node ${seen.node.name} has its providerID` };
  let best: BackedUpCluster | undefined;
  for (const cluster of clusters) {
    if (!vm.name.startsWith(`${cluster.name}-`)) continue;
    if (best && best.name.length >= cluster.name.length) continue;
    const sitsWith = places.get(cluster)!.some(
      (p) => p.vcenter === vcenter && sameDatacenter(vm.datacenter, p.datacenter),
    );
    if (!sitsWith) continue;
    best = cluster;
  }
  return best && { cluster: best, evidence: `its name starts with ${best.name}-` };
}

interface Place {
  vcenter?: string;
  datacenter?: string;
}

/** Where the cluster's backed-up machines sit (its own placement when it has none), deduplicated. */
function machinePlaces(cluster: BackedUpCluster): Place[] {
  const places = new Map<string, Place>();
  const add = (vcenter?: string, datacenter?: string) => places.set(`${vcenter}\u0000${datacenter}`, { vcenter, datacenter });
  for (const m of cluster.machines) {
    add(m.placement.vcenter ?? cluster.placement.vcenter, m.placement.datacenter ?? cluster.placement.datacenter);
  }
  if (places.size === 0) add(cluster.placement.vcenter, cluster.placement.datacenter);
  return [...places.values()];
}

function ghost(vm: InventoryVM, vcenter: string, owner: Owner): Ghost {
  const controlPlane =
    owner.node?.controlPlane === true ||
    (owner.cluster.controlPlaneName !== undefined && vm.name.startsWith(`${owner.cluster.controlPlaneName}-`));
  const report: MachineReport = {
    name: vm.name,
    status: 'Ghost',
    source: 'vm',
    reason: `VM ${vm.name} (${vm.moref}) has no Machine in the backup (${owner.evidence}); ${remediation(controlPlane, owner.node?.name ?? vm.name)}`,
    vcenter,
    ...(vm.datacenter ? { datacenter: vm.datacenter } : {}),
    vmName: vm.name,
    ...(vm.biosUuid ? { biosUUID: vm.biosUuid } : {}),
    ...(vm.instanceUuid ? { instanceUUID: vm.instanceUuid } : {}),
    ...(vm.powerState ? { powerState: vm.powerState } : {}),
    ...(owner.node ? { nodeName: owner.node.name } : {}),
  };
  return { report, controlPlane };
}

function remediation(controlPlane: boolean, nodeName: string): string {
  return controlPlane
    ? `before the restore remove etcd member ${nodeName}, delete Node ${nodeName} and delete the VM`
    : `before the restore delete Node ${nodeName} and delete the VM`;
}

function infraMachineReport(vm: InventoryVM, vcenter: string): InfraMachineReport {
  const why = vm.capvMetadata
    ? 'carries CAPV guestinfo.metadata but belongs to no cluster in the backup'
    : 'sits in a folder or resource pool used by backed-up machines but belongs to no cluster in the backup';
  return {
    name: vm.name,
    vcenter,
    biosUUID: vm.biosUuid ?? '',
    reason: `VM ${vm.name} (${vm.moref}) ${why}; confirm whether it is still needed`,
    ...(vm.datacenter ? { datacenter: vm.datacenter } : {}),
    ...(vm.folder ? { folder: vm.folder } : {}),
    ...(vm.resourcePool ? { resourcePool: vm.resourcePool } : {}),
    ...(vm.powerState ? { powerState: vm.powerState } : {}),
  };
}

function clusterReport(
  cluster: BackedUpCluster,
  outcomes: MachineOutcome[],
  ghosts: Ghost[],
  failures: Map<string, string>,
  listings: Map<string, WorkloadNodeListing>,
  apiServerAccess: boolean,
): ClusterReport {
  const own = outcomes.filter((o) => o.cluster === cluster);
  const controlPlane = listing([
    ...own.filter((o) => o.machine.controlPlane).map((o) => o.report),
    ...ghosts.filter((g) => g.controlPlane).map((g) => g.report),
  ]);
  const workers = listing([
    ...own.filter((o) => !o.machine.controlPlane).map((o) => o.report),
    ...ghosts.filter((g) => !g.controlPlane).map((g) => g.report),
  ]);
  const vcenters = new Set([cluster.placement.vcenter, ...cluster.machines.map((m) => m.placement.vcenter)]);
  const vcenterFailed = [...vcenters].some((v) => v !== undefined && failures.has(v));
  const status = worst([controlPlane.status, workers.status, ...(vcenterFailed ? (['NeedFurtherConfirmation'] as const) : [])]);
  const workload = listings.get(clusterId(cluster.namespace, cluster.name));
  return {
    namespace: cluster.namespace,
    name: cluster.name,
    status,
    controlPlane,
    workers,
    apiServer: !apiServerAccess
      ? { reached: false, skipped: true }
      : workload
        ? { reached: workload.reached, ...(workload.reached ? { nodes: workload.nodes.length } : {}), ...(workload.error ? { error: workload.error } : {}) }
        : { reached: false, error: `no ${cluster.name}-kubeconfig Secret in the backup` },
  };
}

function listing(machines: MachineReport[]): ListingReport {
  machines.sort((a, b) => a.name.localeCompare(b.name));
  return { status: worst(machines.map((m) => MACHINE_ROLLUP[m.status])), machines };
}

/** vCenter-scoped sets of the folders or pools that backed-up machines use. */
function placementsOf(clusters: BackedUpCluster[], pick: (p: BackedUpMachine['placement']) => string | undefined) {
  // Few distinct paths exist (one folder per cluster at most), so dedupe before matching VMs.
  const distinct = new Map<string, { vcenter: string; path: string }>();
  for (const cluster of clusters) {
    for (const m of cluster.machines) {
      const vcenter = m.placement.vcenter ?? cluster.placement.vcenter;
      const path = pick(m.placement) ?? pick(cluster.placement);
      if (vcenter && path) distinct.set(`${vcenter}\u0000${path}`, { vcenter, path });
    }
  }
  const specs = [...distinct.values()];
  return {
    has: (vcenter: string, inventoryPath: string | undefined) =>
      specs.some((s) => s.vcenter === vcenter && samePlace(inventoryPath, s.path)),
  };
}

function clusterId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function vmNames(vms: InventoryVM[]): string {
  return vms.map((vm) => `${vm.name} ${vm.moref}`).join(', ');
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
