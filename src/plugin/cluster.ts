/**
 * What the plugin reads and writes in the cluster Velero runs in, through Velero's own service
 * account (`velero install` binds it to cluster-admin; deploy/plugin/rbac.yaml lists what is used):
 * the plugin's ConfigMap, the Backup (for its storage location), the BackupStorageLocation and the
 * Secrets the settings name; the Restore's annotations and an Event on it. Every call is bounded
 * by a timeout, and errors name the object, never a Secret's content.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { readStorageLocationFromCluster } from '../storage/storage-location-cluster.js';
import type { StorageLocation } from '../storage/storage-location.js';
import { DEFAULTS } from '../config/defaults.js';
import { decodeSecretValue, kubeClient, type KubeClient } from '../kube/client.js';
import { recordEvent } from '../kube/events.js';
import { PLUGIN_CONFIG_SELECTOR } from './settings.js';

export interface PluginConfigMap {
  name: string;
  data: Record<string, string>;
}

export interface RestoreRef {
  name: string;
  namespace: string;
  uid?: string;
}

export interface RestoreEvent {
  restore: RestoreRef;
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. `ClusterRestoreBlocked`. */
  reason: string;
  message: string;
}

export interface VeleroCluster {
  /** Velero's namespace, where the plugin's objects live. */
  readonly namespace: string;
  /** The ConfigMap labelled for this plugin; undefined when there is none. */
  findPluginConfigMap(signal?: AbortSignal): Promise<PluginConfigMap | undefined>;
  /** `spec.storageLocation` of Backup `name`. */
  storageLocationNameOf(backupName: string, signal?: AbortSignal): Promise<string>;
  readStorageLocation(name: string, signal?: AbortSignal): Promise<StorageLocation>;
  /** The Secret's keys, decoded. Holds secrets: never log it. */
  readSecret(name: string, signal?: AbortSignal): Promise<Record<string, string>>;
  /** Merge-patches these annotations onto the Restore. */
  annotateRestore(restore: RestoreRef, annotations: Record<string, string>): Promise<void>;
  recordEvent(event: RestoreEvent): Promise<void>;
}

export class ClusterAccessError extends Error {
  override readonly name = 'ClusterAccessError';
}

export const DEFAULT_KUBE_TIMEOUT_MS = DEFAULTS.kube.requestTimeoutMs;
/** Kubernetes truncates nothing for us: an Event message beyond this is cut. */
/** What a 401 or 403 of Velero's own service account calls for. */
const RBAC_HINT = "check the RBAC of Velero's service account (deploy/plugin/rbac.yaml)";

/** Velero's cluster through `kc` (see loadKubeConfig in src/kube); every call bounded by `timeoutMs`. */
export async function kubeVeleroCluster(kc: KubeConfig, namespace: string, timeoutMs = DEFAULT_KUBE_TIMEOUT_MS): Promise<VeleroCluster> {
  const client = await kubeClient(kc, { timeoutMs, accessHint: RBAC_HINT });
  return {
    namespace,
    findPluginConfigMap: (signal) => findPluginConfigMap(client, namespace, signal),
    storageLocationNameOf: (backupName, signal) => storageLocationNameOf(client, namespace, backupName, signal),
    readStorageLocation: (name, signal) =>
      readStorageLocationFromCluster(name, namespace, { kubeConfig: kc, timeoutMs, accessHint: RBAC_HINT, ...(signal ? { signal } : {}) }),
    async readSecret(name, signal) {
      const data = await client.readSecretData(namespace, name, signal ? { signal } : {});
      return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, decodeSecretValue(value)]));
    },
    annotateRestore: (restore, annotations) =>
      client.patchVeleroObject('Restore', restore.namespace, restore.name, { metadata: { annotations } }),
    recordEvent: (event) => recordRestoreEvent(client, event),
  };
}

async function findPluginConfigMap(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<PluginConfigMap | undefined> {
  const list = await client.call(
    `ConfigMaps labelled ${PLUGIN_CONFIG_SELECTOR} in namespace ${namespace}`,
    'list',
    // Two tell "one" from "more than one"; the list never needs more.
    ({ core }, options) => core.listNamespacedConfigMap({ namespace, labelSelector: PLUGIN_CONFIG_SELECTOR, limit: 2 }, options),
    signal,
  );
  const items = list.items ?? [];
  if (items.length === 0) return undefined;
  if (items.length > 1 || list.metadata?._continue) {
    const names = items.map((i) => i.metadata?.name ?? '?').sort();
    throw new ClusterAccessError(
      `more than one ConfigMap in ${namespace} is labelled ${PLUGIN_CONFIG_SELECTOR}: ${names.join(', ')} (keep one)`,
    );
  }
  return { name: items[0]!.metadata?.name ?? '?', data: { ...(items[0]!.data ?? {}) } };
}

async function storageLocationNameOf(client: KubeClient, namespace: string, backupName: string, signal?: AbortSignal): Promise<string> {
  const backup = (await client.readVeleroObject('Backup', namespace, backupName, signal)) as { spec?: { storageLocation?: unknown } };
  const name = backup?.spec?.storageLocation;
  if (typeof name !== 'string' || name === '') throw new ClusterAccessError(`Backup ${namespace}/${backupName}: spec.storageLocation: not set`);
  return name;
}

async function recordRestoreEvent(client: KubeClient, event: RestoreEvent): Promise<void> {
  const { restore } = event;
  const involved = { apiVersion: 'velero.io/v1', kind: 'Restore', name: restore.name, namespace: restore.namespace };
  await recordEvent(client, restore.uid ? { ...involved, uid: restore.uid } : involved, {
    type: event.type,
    reason: event.reason,
    message: event.message,
    reporter: 'driftdetector.dev/restore-gate',
  });
}
