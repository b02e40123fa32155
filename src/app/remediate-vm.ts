/**
 * One verified Ghost's Node and VM, removed with the state logged before and after each step. The
 * VM is found by both UUIDs first; then its Node is found by that VM's BIOS UUID (providerID or
 * systemUUID), never by a name, and its role checked once more (label, etcd Pod); then the Node
 * goes (best effort: its API server may be gone too), then the VM.
 */
import { uuidOfProviderID } from '../model/provider-id.js';
import type { WorkloadNode } from '../model/workload.js';
import { errorMessage } from '../util/values.js';
import type { VMState } from '../vsphere/vm-tasks.js';
import type { ApplyRules, GhostCluster, GhostVCenter, VerifiedGhost } from './remediate-peers.js';

const describe = (s: VMState | undefined) =>
  s ? `${s.name} (${s.moref}, BIOS ${s.biosUuid ?? '-'}, instance ${s.instanceUuid ?? '-'}, ${s.powerState ?? 'power unknown'})` : 'gone';

/** A VM or Node that no longer is the verified Ghost's: nothing was done. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

export async function actOnGhost(
  ghost: VerifiedGhost,
  vc: GhostVCenter,
  cluster: GhostCluster | undefined,
  rules: ApplyRules,
): Promise<string> {
  const log = (line: string) => rules.log(`${ghost.cluster} ${ghost.machine}: ${line}`);
  const vm = await vc.findVM(ghost.biosUUID, false);
  const byInstance = await vc.findVM(ghost.instanceUUID, true);
  if (!vm || !byInstance || vm.value !== byInstance.value) {
    throw new RefusedError(
      `vCenter finds ${vm?.value ?? 'no VM'} by BIOS UUID and ${byInstance?.value ?? 'no VM'} by instance UUID, not one and the same`,
    );
  }
  const before = await vc.state(vm);
  if (!before || before.name !== ghost.machine || before.biosUuid !== ghost.biosUUID || before.instanceUuid !== ghost.instanceUUID) {
    throw new RefusedError(`the VM is now ${describe(before)}, not ${ghost.machine}`);
  }
  log(`VM before: ${describe(before)}`);
  const node = cluster ? await nodeOfGhost(ghost, cluster, log) : undefined;
  const nodeNote = cluster ? await deleteNode(node, cluster, log) : `Node not deleted: the backup holds no kubeconfig for ${ghost.cluster}`;
  if (before.powerState !== 'poweredOff') {
    await vc.powerOff(vm);
    log(`VM powered off: ${describe(await vc.state(vm))}`);
  }
  await vc.destroy(vm);
  const after = await vc.findVM(ghost.instanceUUID, true);
  log(`VM after: ${after ? `still there (${after.value})` : 'destroyed'}`);
  if (after) throw new Error('Destroy_Task succeeded but the VM is still found by its instance UUID');
  return `${nodeNote}; VM ${before.moref} powered off and destroyed`;
}

type NodeFinding = { node: WorkloadNode } | { none: string };

/**
 * The Node that carries the Ghost's BIOS UUID, checked against the report and for an etcd member;
 * RefusedError when they disagree. `none` when there is no such Node, or the Nodes cannot be read.
 */
async function nodeOfGhost(ghost: VerifiedGhost, cluster: GhostCluster, log: (line: string) => void): Promise<NodeFinding> {
  const listing = await cluster.nodes();
  if (!listing.reached) return { none: `its Nodes could not be read (${listing.error ?? 'no reason given'})` };
  const carries = (n: WorkloadNode) => uuidOfProviderID(n.providerID) === ghost.biosUUID || n.systemUUID?.toLowerCase() === ghost.biosUUID;
  const found = listing.nodes.filter(carries);
  if (found.length > 1) throw new RefusedError(`Nodes ${found.map((n) => n.name).join(', ')} all carry BIOS UUID ${ghost.biosUUID}`);
  const node = found[0];
  if (ghost.reportedNode && node?.name !== ghost.reportedNode) {
    const actual = node ? `Node ${node.name} carries its BIOS UUID` : 'no Node carries its BIOS UUID';
    throw new RefusedError(`the report names Node ${ghost.reportedNode} for it, but ${actual}: the report was changed`);
  }
  if (!node) return { none: `no Node of ${cluster.id} carries BIOS UUID ${ghost.biosUUID}` };
  log(`Node ${node.name} carries its BIOS UUID`);
  if (!ghost.controlPlane) await refuseControlPlane(node, cluster);
  return { node };
}

/** A worker Ghost whose Node says control plane (its role label, an etcd Pod on it) is refused. */
async function refuseControlPlane(node: WorkloadNode, cluster: GhostCluster): Promise<void> {
  if (node.controlPlane) throw new RefusedError(`Node ${node.name} carries the control-plane role label: not a worker`);
  let etcd: Set<string>;
  try {
    etcd = await cluster.etcdNodes();
  } catch (err) {
    throw new RefusedError(`cannot tell whether an etcd member runs on Node ${node.name}: ${errorMessage(err)}`);
  }
  if (etcd.has(node.name)) throw new RefusedError(`an etcd Pod runs on Node ${node.name}: not a worker`);
}

async function deleteNode(found: NodeFinding | undefined, cluster: GhostCluster, log: (l: string) => void): Promise<string> {
  if (!found || 'none' in found) {
    const why = found && 'none' in found ? found.none : 'not looked for';
    log(`Node: none deleted: ${why}`);
    return `no Node deleted (${why})`;
  }
  const { node } = found;
  try {
    const outcome = await cluster.deleteNode({ name: node.name, ...(node.uid ? { uid: node.uid } : {}) });
    log(`Node ${node.name}: ${outcome === 'deleted' ? 'present -> deleted' : 'absent, nothing to delete'}`);
    return outcome === 'deleted' ? `Node ${node.name} deleted` : `Node ${node.name} absent`;
  } catch (err) {
    log(`Node ${node.name}: not deleted: ${errorMessage(err)}`);
    return `Node ${node.name} NOT deleted (${errorMessage(err)}): delete it by hand`;
  }
}
