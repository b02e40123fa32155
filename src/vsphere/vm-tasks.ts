/**
 * Finding one VM by both its UUIDs and acting on it through vim25 tasks (PowerOffVM_Task,
 * Destroy_Task), each awaited with WaitForTask-style polling of `info.state` under a deadline.
 */
import { DEFAULTS } from '../config/defaults.js';
import { VimError } from './errors.js';
import type { ObjectContent, VimSession } from './session.js';
import type { MoRef } from './wire.js';

/** What the VM looks like right now, for the before/after log. */
export interface VMState {
  moref: string;
  name: string;
  biosUuid?: string;
  instanceUuid?: string;
  powerState?: string;
}

export interface TaskOptions {
  /** Bound on one task (default DEFAULTS.remediate.taskTimeoutMs). */
  timeoutMs?: number;
  /** Pause between two reads of the task's state (default DEFAULTS.remediate.taskPollMs). */
  pollMs?: number;
}

const VM_STATE = ['name', 'config.uuid', 'config.instanceUuid', 'runtime.powerState'];

function searchIndexOf(session: VimSession): MoRef {
  const index = session.searchIndex;
  if (!index) throw new VimError('protocol', `${session.address} names no SearchIndex in its ServiceContent`);
  return index;
}

/**
 * SearchIndex.FindByUuid over VMs, by BIOS (`config.uuid`) or instance UUID: the VM, or none.
 * (FindAllByUuid would also show duplicates, but not every vim25 endpoint implements it; callers
 * learn of duplicates from the inventory walk.)
 */
export async function findVMByUuid(session: VimSession, uuid: string, instance: boolean): Promise<MoRef | undefined> {
  const [vm] = await session.callMethod('FindByUuid', searchIndexOf(session), [
    ['uuid', uuid],
    ['vmSearch', 'true'],
    ['instanceUuid', String(instance)],
  ]);
  return vm;
}

export async function readVMState(session: VimSession, vm: MoRef): Promise<VMState | undefined> {
  const content = await session.retrieveObject(vm, VM_STATE);
  return content ? toState(vm, content) : undefined;
}

function toState(vm: MoRef, content: ObjectContent): VMState {
  const text = (name: string) => {
    const val = content.propSet.find((p) => p.name === name)?.val;
    return val?.kind === 'text' ? val.text : undefined;
  };
  const bios = text('config.uuid');
  const instance = text('config.instanceUuid');
  const power = text('runtime.powerState');
  return {
    moref: vm.value,
    name: text('name') ?? '',
    ...(bios ? { biosUuid: bios.toLowerCase() } : {}),
    ...(instance ? { instanceUuid: instance.toLowerCase() } : {}),
    ...(power ? { powerState: power } : {}),
  };
}

export async function powerOffVM(session: VimSession, vm: MoRef, options: TaskOptions = {}): Promise<void> {
  await runTask(session, 'PowerOffVM_Task', vm, options);
}

export async function destroyVM(session: VimSession, vm: MoRef, options: TaskOptions = {}): Promise<void> {
  await runTask(session, 'Destroy_Task', vm, options);
}

async function runTask(session: VimSession, method: string, vm: MoRef, options: TaskOptions): Promise<void> {
  const [task] = await session.callMethod(method, vm);
  if (!task) throw new VimError('protocol', `${method} on ${vm.value} returned no task`);
  await waitForTask(session, task, method, options);
}

/** Polls the task until success or error, or fails once the deadline passes (the task may still finish in vCenter). */
export async function waitForTask(session: VimSession, task: MoRef, what: string, options: TaskOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.remediate.taskTimeoutMs;
  const pollMs = options.pollMs ?? DEFAULTS.remediate.taskPollMs;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const content = await session.retrieveObject(task, ['info.state', 'info.error.localizedMessage']);
    const prop = (name: string) => {
      const val = content?.propSet.find((p) => p.name === name)?.val;
      return val?.kind === 'text' ? val.text : undefined;
    };
    const state = prop('info.state');
    if (state === 'success') return;
    if (state === 'error') throw new VimError('fault', `${what} failed: ${prop('info.error.localizedMessage') ?? 'vCenter gives no reason'}`);
    if (!content) throw new VimError('protocol', `task ${task.value} of ${what} vanished before it finished`);
    if (Date.now() >= deadline)
      throw new VimError('timeout', `${what} did not finish within ${timeoutMs / 1000}s (task ${task.value}); check it in vCenter`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
