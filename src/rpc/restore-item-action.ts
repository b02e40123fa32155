/**
 * Velero's generated.RestoreItemAction (v1) and v2.RestoreItemAction services over the restore
 * gate, for each of its actions (restore-gate-actions.ts; the request names the action). The gate
 * starts no asynchronous operation and asks for no additional items, so v2's Progress has nothing
 * to report, Cancel nothing to stop, and additional items are always ready.
 */
import { status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary, type CallContext, type CallEnvironment } from './calls.js';
import { selectorOf } from './restore-gate-actions.js';
import { ServiceError } from './service-error.js';
import { storageLocationOf } from './storage-location-metadata.js';
import type { ExecuteInput, RestoreGate } from '../app/restore-gate.js';

/** Velero's request, with the storage location a remote-mode plugin names in the call's metadata. */
function executeInput(request: ExecuteRequest, ctx: CallContext): ExecuteInput {
  const storageLocation = storageLocationOf(ctx.metadata);
  return storageLocation === undefined ? request : { ...request, storageLocation };
}

interface AppliesToRequest {
  plugin: string;
}

interface ExecuteRequest {
  plugin: string;
  item: Buffer;
  restore: Buffer;
  itemFromBackup: Buffer;
}

export function restoreItemActionV1(env: CallEnvironment, gate: Pick<RestoreGate, 'execute'>): UntypedServiceImplementation {
  return {
    AppliesTo: unary<AppliesToRequest, unknown>(env, 'RestoreItemAction/AppliesTo', async (request) => ({
      ResourceSelector: selectorOf(request.plugin),
    })),
    Execute: unary<ExecuteRequest, unknown>(env, 'RestoreItemAction/Execute', async (request, ctx) => {
      const { item, skipRestore } = await gate.execute(executeInput(request, ctx), ctx);
      return { item, additionalItems: [], skipRestore: skipRestore === true };
    }),
  };
}

export function restoreItemActionV2(env: CallEnvironment, gate: Pick<RestoreGate, 'execute'>): UntypedServiceImplementation {
  return {
    AppliesTo: unary<AppliesToRequest, unknown>(env, 'v2.RestoreItemAction/AppliesTo', async (request) => ({
      ResourceSelector: selectorOf(request.plugin),
    })),
    Execute: unary<ExecuteRequest, unknown>(env, 'v2.RestoreItemAction/Execute', async (request, ctx) => {
      const { item, skipRestore } = await gate.execute(executeInput(request, ctx), ctx);
      return { item, additionalItems: [], skipRestore: skipRestore === true, operationID: '', waitForAdditionalItems: false };
    }),
    Progress: unary(env, 'v2.RestoreItemAction/Progress', async () => {
      throw new ServiceError(status.UNIMPLEMENTED, 'drift-detector starts no asynchronous operations');
    }),
    Cancel: unary(env, 'v2.RestoreItemAction/Cancel', async () => ({})),
    AreAdditionalItemsReady: unary(env, 'v2.RestoreItemAction/AreAdditionalItemsReady', async () => ({ ready: true })),
  };
}
