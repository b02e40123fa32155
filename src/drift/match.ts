/**
 * Stage 1 of the analysis, match: each backed-up machine paired with the VM of its vCenter that
 * carries its identity (docs/drift-rules.md §3). Pure.
 */
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import type { InventoryVM, VCenterListing } from '../model/inventory.js';
import type { ReportError } from '../model/report.js';
import { sameDatacenter, samePlace } from './paths.js';

/** The VMs of one listed vCenter, indexed the three ways §3 searches them. */
export class VCenterIndex {
  readonly byBios = new Map<string, InventoryVM[]>();
  readonly byInstance = new Map<string, InventoryVM[]>();
  readonly byName = new Map<string, InventoryVM[]>();

  constructor(
    readonly vcenter: string,
    readonly vms: InventoryVM[],
  ) {
    for (const vm of vms) {
      if (vm.template) continue;
      if (vm.biosUuid) push(this.byBios, vm.biosUuid, vm);
      if (vm.instanceUuid) push(this.byInstance, vm.instanceUuid, vm);
      push(this.byName, vm.name, vm);
    }
  }
}

export type Match =
  { kind: 'matched'; vm: InventoryVM; by: string } | { kind: 'ambiguous'; vms: InventoryVM[]; reason: string } | { kind: 'none' };

/** How the search for a machine's VM ended; `unsearched` when its vCenter could not be searched. */
export type Pairing = Match | { kind: 'unsearched'; reason: string };

export interface MachinePairing {
  cluster: BackedUpCluster;
  machine: BackedUpMachine;
  pairing: Pairing;
}

export interface Matching {
  /** Every backed-up machine, in the order of the clusters and their machines. */
  machines: MachinePairing[];
  /** The vCenters that were listed, in the order of their listings. */
  indexes: VCenterIndex[];
  /** Why each vCenter that could not be listed was not. */
  failures: Map<string, string>;
  /** One error per listing that failed. */
  errors: ReportError[];
  /** The VMs a machine matched, or that took part in an ambiguous match: no ghost candidates. */
  paired: Set<InventoryVM>;
}

export function matchMachines(clusters: BackedUpCluster[], vcenters: VCenterListing[]): Matching {
  const indexes = new Map<string, VCenterIndex>();
  const failures = new Map<string, string>();
  const errors: ReportError[] = [];
  for (const listing of vcenters) {
    if (listing.ok) indexes.set(listing.vcenter, new VCenterIndex(listing.vcenter, listing.vms));
    else {
      failures.set(listing.vcenter, listing.reason);
      errors.push({ scope: `vcenter:${listing.vcenter}`, message: listing.reason, severity: 'error' });
    }
  }

  // UUID matches are settled first for every machine, so that a name match (§3 step 3) can
  // never take a VM that another machine owns by UUID.
  const claimed = new Set<InventoryVM>();
  const ambiguous = new Set<InventoryVM>();
  const take = (pairing: Pairing) => {
    if (pairing.kind === 'matched') claimed.add(pairing.vm);
    else if (pairing.kind === 'ambiguous') for (const vm of pairing.vms) ambiguous.add(vm);
  };
  const machines: MachinePairing[] = [];
  const byName: { paired: MachinePairing; index: VCenterIndex }[] = [];
  for (const cluster of clusters) {
    for (const machine of cluster.machines) {
      const searched = searchByUuid(machine, cluster, indexes, failures);
      const paired: MachinePairing = { cluster, machine, pairing: searched.pairing };
      machines.push(paired);
      if (searched.pairing.kind === 'none') byName.push({ paired, index: searched.index! });
      else take(searched.pairing);
    }
  }
  for (const { paired, index } of byName) {
    paired.pairing = matchByName(paired.machine, index, claimed);
    take(paired.pairing);
  }
  return { machines, indexes: [...indexes.values()], failures, errors, paired: new Set([...claimed, ...ambiguous]) };
}

/** The machine's vCenter searched by UUID; `none` comes with the index a name search goes on in. */
function searchByUuid(
  machine: BackedUpMachine,
  cluster: BackedUpCluster,
  indexes: Map<string, VCenterIndex>,
  failures: Map<string, string>,
): { pairing: Pairing; index?: VCenterIndex } {
  const vcenter = machine.placement.vcenter ?? cluster.placement.vcenter;
  const unsearched = (reason: string) => ({ pairing: { kind: 'unsearched', reason } as const });
  if (!vcenter) {
    return unsearched('the backup names no vCenter for this machine (VSphereVM, VSphereMachine and VSphereCluster have no spec.server)');
  }
  const failure = failures.get(vcenter);
  // The cause is said once, in the vCenter's error; each of its machines refers to it (a cause can be long).
  if (failure !== undefined) return unsearched(`vCenter ${vcenter} could not be listed (the error for vcenter:${vcenter} says why)`);
  const index = indexes.get(vcenter);
  if (!index) return unsearched(`vCenter ${vcenter} was not listed`);
  return { pairing: matchByUuid(machine, index), index };
}

/** §3, steps 1 and 2: BIOS UUID, narrowed by instance UUID; then instance UUID alone. */
function matchByUuid(machine: BackedUpMachine, index: VCenterIndex): Match {
  const byBios = machine.biosUuid ? (index.byBios.get(machine.biosUuid) ?? []) : [];
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
  const byInstance = machine.instanceUuid ? (index.byInstance.get(machine.instanceUuid) ?? []) : [];
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

/** §3, step 3: the VM of that exact name in the same datacenter (and folder, when known). */
function matchByName(machine: BackedUpMachine, index: VCenterIndex, taken: Set<InventoryVM>): Match {
  const { datacenter, folder } = machine.placement;
  const named = (index.byName.get(machine.vmName) ?? []).filter(
    (vm) => !taken.has(vm) && sameDatacenter(vm.datacenter, datacenter) && (!folder || !vm.folder || samePlace(vm.folder, folder)),
  );
  if (named.length === 1) return { kind: 'matched', vm: named[0]!, by: 'name' };
  if (named.length > 1) {
    return { kind: 'ambiguous', vms: named, reason: `${named.length} VMs are named ${machine.vmName} in ${datacenter ?? 'the vCenter'}` };
  }
  return { kind: 'none' };
}

function vmNames(vms: InventoryVM[]): string {
  return vms.map((vm) => `${vm.name} ${vm.moref}`).join(', ');
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
