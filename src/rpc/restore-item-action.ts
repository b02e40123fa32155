/**
 * Velero's generated.RestoreItemAction (v1) and v2.RestoreItemAction services over the restore
 * gate. The gate starts no asynchronous operation and asks for no additional items, so v2's
 * Progress has nothing to report, Cancel nothing to stop, and additional items are always ready.
 */
import { status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary, type CallEnvironment } from './calls.js';
import { ServiceError } from './service-error.js';
import type { RestoreGate } from '../app/restore-gate.js';

export const CLUSTER_RESOURCE = 'clusters.cluster.x-k8s.io';

/** What AppliesTo answers: Cluster API Clusters (field names as in Velero's ResourceSelector message). */
export function clusterSelector(): Record<string, unknown> {
  return {
    includedNamespaces: [],
    excludedNamespaces: [],
    includedResources: [CLUSTER_RESOURCE],
    excludedResources: [],
    selector: '',
  };
}

interface ExecuteRequest {
  plugin: string;
  item: Buffer;
  restore: Buffer;
  itemFromBackup: Buffer;
}

export function restoreItemActionV1(env: CallEnvironment, gate: Pick<RestoreGate, 'execute'>): UntypedServiceImplementation {
  return {
    AppliesTo: unary(env, 'RestoreItemAction/AppliesTo', async () => ({ ResourceSelector: clusterSelector() })),
    Execute: unary<ExecuteRequest, unknown>(env, 'RestoreItemAction/Execute', async (request, ctx) => {
      const { item } = await gate.execute(request, ctx);
      return { item, additionalItems: [], skipRestore: false };
    }),
  };
}

export function restoreItemActionV2(env: CallEnvironment, gate: Pick<RestoreGate, 'execute'>): UntypedServiceImplementation {
  return {
    AppliesTo: unary(env, 'v2.RestoreItemAction/AppliesTo', async () => ({ ResourceSelector: clusterSelector() })),
    Execute: unary<ExecuteRequest, unknown>(env, 'v2.RestoreItemAction/Execute', async (request, ctx) => {
      const { item } = await gate.execute(request, ctx);
      return { item, additionalItems: [], skipRestore: false, operationID: '', waitForAdditionalItems: false };
    }),
    Progress: unary(env, 'v2.RestoreItemAction/Progress', async () => {
      throw new ServiceError(status.UNIMPLEMENTED, 'drift-detector starts no asynchronous operations');
    }),
    Cancel: unary(env, 'v2.RestoreItemAction/Cancel', async () => ({})),
    AreAdditionalItemsReady: unary(env, 'v2.RestoreItemAction/AreAdditionalItemsReady', async () => ({ ready: true })),
  };
}
