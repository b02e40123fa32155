/** One Ghost's Node and VM, removed with the state logged before and after each step. */
import type { MachinePlan } from '../remediate/plan.js';
import { errorMessage } from '../util/values.js';
import type { VimTarget } from '../vsphere/session.js';
import { withVimSession } from '../vsphere/session.js';
import { destroyVM, findVMByUuid, powerOffVM, readVMState, type VMState } from '../vsphere/vm-tasks.js';
import type { WorkloadNodeRequest } from '../workload/nodes.js';

const describe = (s: VMState | undefined) =>
  s ? `${s.name} (${s.moref}, BIOS ${s.biosUuid ?? '-'}, instance ${s.instanceUuid ?? '-'}, ${s.powerState ?? 'power unknown'})` : 'gone';

/** What acting on one Ghost needs of the remediation's options (remediate.ts's ApplyOptions has them all). */
export interface GhostActionOptions {
  log: (line: string) => void;
  insecureSkipVerify?: boolean;
  vcenterTimeoutMs?: number;
  apiserverTimeoutMs?: number;
  signal?: AbortSignal;
  taskTimeoutMs?: number;
  taskPollMs?: number;
}

/** The VM is found by both UUIDs first; then the Node (best effort: its API server may be gone too), then the VM. */
export async function actOnGhost(
  entry: MachinePlan,
  target: VimTarget,
  workload: WorkloadNodeRequest | undefined,
  options: GhostActionOptions,
): Promise<string> {
  const log = (line: string) => options.log(`${entry.cluster ?? ''} ${entry.machine}: ${line}`);
  const sessionOptions = { insecureSkipVerify: options.insecureSkipVerify, timeoutMs: options.vcenterTimeoutMs, signal: options.signal };
  return withVimSession(target, sessionOptions, async (session) => {
    const vm = await findVMByUuid(session, entry.biosUUID!, false);
    const byInstance = await findVMByUuid(session, entry.instanceUUID!, true);
    if (!vm || !byInstance || vm.value !== byInstance.value) {
      throw new RefusedError(
        `vCenter finds ${vm?.value ?? 'no VM'} by BIOS UUID and ${byInstance?.value ?? 'no VM'} by instance UUID, not one and the same`,
      );
    }
    const before = await readVMState(session, vm);
    if (!before || before.name !== entry.machine) throw new RefusedError(`the VM is now ${describe(before)}, not ${entry.machine}`);
    log(`VM before: ${describe(before)}`);
    const nodeNote = await deleteNode(entry, workload, options, log);
    const task = { timeoutMs: options.taskTimeoutMs, pollMs: options.taskPollMs };
    if (before.powerState !== 'poweredOff') {
      await powerOffVM(session, vm, task);
      log(`VM powered off: ${describe(await readVMState(session, vm))}`);
    }
    await destroyVM(session, vm, task);
    const after = await findVMByUuid(session, entry.instanceUUID!, true);
    log(`VM after: ${after ? `still there (${after.value})` : 'destroyed'}`);
    if (after) throw new Error('Destroy_Task succeeded but the VM is still found by its instance UUID');
    return `${nodeNote}; VM ${before.moref} powered off and destroyed`;
  });
}

/** A VM that no longer is the report's Ghost: nothing was done. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

async function deleteNode(
  entry: MachinePlan,
  workload: WorkloadNodeRequest | undefined,
  options: GhostActionOptions,
  log: (l: string) => void,
): Promise<string> {
  const node = entry.nodeName ?? entry.machine;
  if (!workload) return `Node ${node} not deleted: the backup holds no kubeconfig for ${entry.cluster ?? 'its cluster'}`;
  const { deleteWorkloadNode } = await import('../workload/nodes.js');
  try {
    const outcome = await deleteWorkloadNode(workload, node, {
      timeoutMs: options.apiserverTimeoutMs,
      insecureSkipVerify: options.insecureSkipVerify,
      signal: options.signal,
    });
    log(`Node ${node}: ${outcome === 'deleted' ? 'present -> deleted' : 'absent, nothing to delete'}`);
    return outcome === 'deleted' ? `Node ${node} deleted` : `Node ${node} absent`;
  } catch (err) {
    log(`Node ${node}: not deleted: ${errorMessage(err)}`);
    return `Node ${node} NOT deleted (${errorMessage(err)}): delete it by hand`;
  }
}
