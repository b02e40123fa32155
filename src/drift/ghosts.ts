/**
 * Stage 3 of the analysis, classify, for what the backup does not hold (docs/drift-rules.md §4):
 * a VM no machine matched is a Ghost of a backed-up cluster, an infrastructure machine that needs
 * confirmation, or out of scope; a Node whose VM is nowhere to be seen is a Ghost too. Pure.
 */
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import type { InventoryVM } from '../model/inventory.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import type { InfraMachineReport, MachineReport, ReportError } from '../model/report.js';
import type { WorkloadNode } from '../model/workload.js';
import { clusterId, reachedNodes, type NodeEvidence } from './evidence.js';
import { ignoringRule, type IgnoreRules } from './ignore.js';
import { infraMachineReport, nodeGhostReport, vmGhostReport } from './machine-reports.js';
import type { Matching } from './match.js';
import { isRootResourcePool, isRootVMFolder, sameDatacenter, samePlace } from './paths.js';

export interface Ghost {
  report: MachineReport;
  controlPlane: boolean;
}

export interface Unmatched {
  /** Every backed-up cluster, with its ghosts (none for most). */
  ghosts: Map<BackedUpCluster, Ghost[]>;
  /** Sorted by vCenter and name. */
  infraMachines: InfraMachineReport[];
  outOfScopeVMs: number;
  /** VMs the ignore file took out of scope (not counted in outOfScopeVMs). */
  ignoredVMs: number;
  /** A pattern of the ignore file that matches a Ghost, which stays a Ghost. */
  warnings: ReportError[];
}

export function classifyUnmatched(clusters: BackedUpCluster[], matching: Matching, evidence: NodeEvidence, ignore?: IgnoreRules): Unmatched {
  const ghosts = new Map(clusters.map((c) => [c, [] as Ghost[]] as const));
  const infraMachines: InfraMachineReport[] = [];
  const warnings: ReportError[] = [];
  let outOfScopeVMs = 0;
  let ignoredVMs = 0;
  const used: UsedPlaces = { folders: placementsOf(clusters, (m) => m.folder), pools: placementsOf(clusters, (m) => m.resourcePool) };
  const places = new Map(clusters.map((c) => [c, machinePlaces(c)] as const));
  const vmUuids = new Set<string>();
  for (const { vcenter, vms } of matching.indexes) {
    for (const vm of vms) {
      if (vm.template) continue;
      if (vm.biosUuid) vmUuids.add(vm.biosUuid);
      if (matching.paired.has(vm)) continue;
      const owner = ownerOf(vm, vcenter, clusters, places, evidence);
      if (owner) {
        ghosts.get(owner.cluster)!.push(vmGhost(vm, vcenter, owner));
        warnings.push(...neverIgnored(ignore, owner.cluster, vm.name, vm.folder));
        continue;
      }
      if (ignoringRule(ignore, vm.name, vm.folder)) {
        ignoredVMs++;
        continue;
      }
      const looks = machineLook(vm, vcenter, used);
      if (looks) infraMachines.push(infraMachineReport(vm, vcenter, looks));
      else outOfScopeVMs++;
    }
  }
  for (const cluster of clusters) {
    const found = nodeGhosts(cluster, evidence, vmUuids);
    ghosts.get(cluster)!.push(...found);
    for (const g of found) warnings.push(...neverIgnored(ignore, cluster, g.report.name));
  }
  infraMachines.sort((a, b) => a.vcenter.localeCompare(b.vcenter) || a.name.localeCompare(b.name));
  return { ghosts, infraMachines, outOfScopeVMs, ignoredVMs, warnings };
}

/** §4: a Ghost of a backed-up cluster is never ignored; a pattern that would ignore one is worth a warning. */
function neverIgnored(ignore: IgnoreRules | undefined, cluster: BackedUpCluster, name: string, folder?: string): ReportError[] {
  const rule = ignoringRule(ignore, name, folder);
  if (!rule) return [];
  return [
    {
      scope: `cluster:${clusterId(cluster.namespace, cluster.name)}`,
      message:
        `${ignore!.source} line ${rule.line}: pattern ${JSON.stringify(rule.pattern)} matches ${name}, a Ghost of this cluster; ` +
        'a Ghost of a backed-up cluster is never ignored',
      severity: 'warning',
    },
  ];
}

/** §4.4: Nodes of the cluster whose VM the detector could not see. */
function nodeGhosts(cluster: BackedUpCluster, evidence: NodeEvidence, vmUuids: Set<string>): Ghost[] {
  const backedUp = new Set(cluster.machines.map((m) => m.biosUuid).filter((u): u is string => !!u));
  const found: Ghost[] = [];
  for (const node of reachedNodes(evidence, cluster)) {
    const uuid = uuidOfProviderID(node.providerID);
    if (!uuid || backedUp.has(uuid) || vmUuids.has(uuid)) continue;
    found.push({ controlPlane: node.controlPlane, report: nodeGhostReport(node, uuid) });
  }
  return found;
}

interface Owner {
  cluster: BackedUpCluster;
  node?: WorkloadNode;
  evidence: string;
}

/** §4: the backed-up cluster a ghost candidate belongs to, by node evidence, else by name. */
function ownerOf(
  vm: InventoryVM,
  vcenter: string,
  clusters: BackedUpCluster[],
  places: Map<BackedUpCluster, Place[]>,
  evidence: NodeEvidence,
): Owner | undefined {
  const seen = vm.biosUuid ? evidence.byUuid.get(vm.biosUuid) : undefined;
  if (seen) return { cluster: seen.cluster, node: seen.node, evidence: `Node ${seen.node.name} has its providerID` };
  let best: BackedUpCluster | undefined;
  for (const cluster of clusters) {
    if (!vm.name.startsWith(`${cluster.name}-`)) continue;
    if (best && best.name.length >= cluster.name.length) continue;
    const sitsWith = places.get(cluster)!.some((p) => p.vcenter === vcenter && sameDatacenter(vm.datacenter, p.datacenter));
    if (!sitsWith) continue;
    best = cluster;
  }
  return best && { cluster: best, evidence: `its name starts with ${best.name}-` };
}

/** Control plane by its Node's role, else by the name of the cluster's KubeadmControlPlane. */
function vmGhost(vm: InventoryVM, vcenter: string, owner: Owner): Ghost {
  const controlPlane =
    owner.node?.controlPlane === true ||
    (owner.cluster.controlPlaneName !== undefined && vm.name.startsWith(`${owner.cluster.controlPlaneName}-`));
  return { report: vmGhostReport(vm, vcenter, controlPlane, owner.evidence, owner.node), controlPlane };
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

interface UsedPlaces {
  folders: PlaceSet;
  pools: PlaceSet;
}

/**
 * §4: why a VM that belongs to no backed-up cluster looks like a Cluster API machine, or undefined.
 * A place counts only when it is dedicated: the root VM folder and a compute resource's root pool
 * hold every VM there, a jumpbox or a vCenter appliance as much as a cluster's machines.
 */
function machineLook(vm: InventoryVM, vcenter: string, used: UsedPlaces): string | undefined {
  if (vm.capvMetadata) return 'carries CAPV guestinfo.metadata';
  if (!isRootVMFolder(vm.folder, vm.datacenter) && used.folders.has(vcenter, vm.folder)) {
    return `sits in folder ${vm.folder} that backed-up machines use`;
  }
  if (!isRootResourcePool(vm.resourcePool, vm.datacenter) && used.pools.has(vcenter, vm.resourcePool)) {
    return `sits in resource pool ${vm.resourcePool} that backed-up machines use`;
  }
  return undefined;
}

interface PlaceSet {
  has(vcenter: string, inventoryPath: string | undefined): boolean;
}

/** vCenter-scoped sets of the folders or pools that backed-up machines use. */
function placementsOf(clusters: BackedUpCluster[], pick: (p: BackedUpMachine['placement']) => string | undefined): PlaceSet {
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
    has: (vcenter: string, inventoryPath: string | undefined) => specs.some((s) => s.vcenter === vcenter && samePlace(inventoryPath, s.path)),
  };
}
