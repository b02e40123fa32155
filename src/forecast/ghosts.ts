/**
 * Ghost VMs still present (docs/unpause-forecast.md#ghost-vm): the drift analysis of
 * docs/drift-rules.md run against the live objects instead of the backup. A VM or Node that
 * belongs to a cluster but that no live Machine accounts for is a Ghost; CAPI will never manage it.
 * Pure.
 */
import { analyzeDrift } from '../drift/analyze.js';
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import type { MachineReport } from '../model/report.js';
import type { WorkloadNodeListing } from '../model/workload.js';
import type { ClusterView, ForecastIndex } from './cluster-view.js';
import type { ForecastFinding } from './model.js';

/** The Ghost findings of every cluster, by `namespace/name`. */
export function ghostFindings(views: ClusterView[], index: ForecastIndex): Map<string, ForecastFinding[]> {
  const clusters = views.map(liveCluster);
  const workloads: WorkloadNodeListing[] = index.input.workloads.map((w) =>
    w.reached
      ? { namespace: w.namespace, cluster: w.cluster, reached: true, nodes: w.nodes }
      : { namespace: w.namespace, cluster: w.cluster, reached: false, nodes: [], error: w.reason },
  );
  const report = analyzeDrift({ clusters, vcenters: index.input.vsphere.listings, workloads: workloads.length > 0 ? workloads : undefined });
  const out = new Map<string, ForecastFinding[]>();
  for (const c of report.clusters) {
    const ghosts = [...c.controlPlane.machines, ...c.workers.machines].filter((m) => m.status === 'Ghost');
    out.set(
      `${c.namespace}/${c.name}`,
      ghosts.map((g) => ghostFinding(c.namespace, g, c.controlPlane.machines.includes(g))),
    );
  }
  return out;
}

function ghostFinding(namespace: string, g: MachineReport, controlPlane: boolean): ForecastFinding {
  const what = g.source === 'node' ? 'Node' : 'VirtualMachine';
  return {
    kind: 'ghost-vm',
    object: { kind: what, namespace, name: g.vmName ?? g.nodeName ?? g.name, ...(g.vcenter ? { vcenter: g.vcenter } : {}) },
    why: `${controlPlane ? 'control-plane ' : ''}Ghost, never managed or removed by Cluster API: ${liveWording(g.reason)}`,
    rule: 'ghost-vm',
  };
}

/** The drift analysis speaks of the backup; here the Machines it compared with are the live ones. */
function liveWording(reason: string): string {
  return reason.replaceAll('no Machine in the backup', 'no live Machine').replaceAll('before the restore ', 'before unpausing ');
}

/** A cluster view in the shape the drift analysis takes. */
function liveCluster(view: ClusterView): BackedUpCluster {
  const machines: BackedUpMachine[] = view.machines.map((f) => {
    const clone = f.vsphereVM?.clone;
    return {
      namespace: f.machine.namespace,
      name: f.machine.name,
      cluster: view.cluster.name,
      controlPlane: f.machine.controlPlane,
      biosUuid: f.vsphereVM?.biosUuid ?? uuidOfProviderID(f.machine.providerID),
      vmName: f.vsphereVM?.name ?? f.machine.name,
      placement: {
        vcenter: clone?.vcenter ?? view.vcenter,
        datacenter: clone?.datacenter,
        folder: clone?.folder,
        resourcePool: clone?.resourcePool,
      },
    };
  });
  return {
    namespace: view.cluster.namespace,
    name: view.cluster.name,
    controlPlaneName: view.controlPlane?.name,
    placement: { vcenter: view.vcenter },
    machines,
  };
}
