/**
 * What the plugin reads and writes in the cluster Velero runs in, through Velero's own service
 * account (`velero install` binds it to cluster-admin; deploy/plugin/rbac.yaml lists what is used):
 * the plugin's ConfigMap, the Backup (for its storage location), the BackupStorageLocation and the
 * Secrets the settings name; the Restore's annotations and an Event on it. Every call is bounded
 * by a timeout, and errors name the object, never a Secret's content.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { KubeConfig, ObservableMiddleware } from '@kubernetes/client-node';
import { readStorageLocationFromCluster } from '../backup/storage-location-cluster.js';
import type { StorageLocation } from '../backup/storage-location.js';
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

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
export const DEFAULT_KUBE_TIMEOUT_MS = 10_000;
/** Kubernetes truncates nothing for us: an Event message beyond this is cut. */
const MAX_EVENT_MESSAGE = 1024;

/**
 * Velero's pod: the in-cluster service account. Elsewhere (a developer's machine) KUBECONFIG or
 * ~/.kube/config. Which one failed is said without quoting the kubeconfig.
 */
export async function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  const inPod = Boolean(env['KUBERNETES_SERVICE_HOST']) && existsSync(SERVICE_ACCOUNT_TOKEN);
  try {
    if (!env['KUBECONFIG'] && inPod) kc.loadFromCluster();
    else if (env['KUBECONFIG']) kc.loadFromFile(env['KUBECONFIG']);
    else throw new ClusterAccessError('not running in a pod (KUBERNETES_SERVICE_HOST unset or no service-account token) and no KUBECONFIG');
  } catch (err) {
    if (err instanceof ClusterAccessError) throw err;
    throw new ClusterAccessError(`cannot load ${env['KUBECONFIG'] ? `KUBECONFIG=${env['KUBECONFIG']}` : 'the in-cluster service account'}`, { cause: err });
  }
  return kc;
}

export async function kubeVeleroCluster(kc: KubeConfig, namespace: string, timeoutMs = DEFAULT_KUBE_TIMEOUT_MS): Promise<VeleroCluster> {
  const k8s = await import('@kubernetes/client-node');
  const server = kc.getCurrentCluster()?.server ?? 'the Kubernetes API server';
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  /** One bounded call; `what` names the object in errors (`Backup velero/b1`). */
  async function call<T>(what: string, verb: string, run: (options: { middleware: ObservableMiddleware[]; middlewareMergeStrategy: 'append' }) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const withSignal: ObservableMiddleware = {
      pre: (context) => {
        context.setSignal(controller.signal);
        return new k8s.Observable(Promise.resolve(context));
      },
      post: (context) => new k8s.Observable(Promise.resolve(context)),
    };
    try {
      return await run({ middleware: [withSignal], middlewareMergeStrategy: 'append' });
    } catch (err) {
      if (signal?.aborted) throw new ClusterAccessError(`${verb} ${what}: cancelled`, { cause: err });
      if (controller.signal.aborted) throw new ClusterAccessError(`${verb} ${what} at ${server}: timed out after ${timeoutMs} ms`, { cause: err });
      // An ApiException's message quotes the response body and headers: only its code is used.
      if (err instanceof k8s.ApiException) {
        const code = err.code;
        if (code === 404) throw new ClusterAccessError(`${what} not found`, { cause: err });
        if (code === 401 || code === 403) {
          throw new ClusterAccessError(`not allowed to ${verb} ${what} (HTTP ${code}): check the RBAC of Velero's service account (deploy/plugin/rbac.yaml)`, { cause: err });
        }
        throw new ClusterAccessError(`${verb} ${what} at ${server} failed with HTTP ${code}`, { cause: err });
      }
      const code = (err as { code?: string }).code;
      throw new ClusterAccessError(`cannot reach ${server} to ${verb} ${what}${code ? ` (${code})` : ''}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  return {
    namespace,

    async findPluginConfigMap(signal) {
      const list = await call(
        `ConfigMaps labelled ${PLUGIN_CONFIG_SELECTOR} in namespace ${namespace}`,
        'list',
        (options) => core.listNamespacedConfigMap({ namespace, labelSelector: PLUGIN_CONFIG_SELECTOR }, options),
        signal,
      );
      const items = list.items ?? [];
      if (items.length === 0) return undefined;
      if (items.length > 1) {
        const names = items.map((i) => i.metadata?.name ?? '?').sort();
        throw new ClusterAccessError(`more than one ConfigMap in ${namespace} is labelled ${PLUGIN_CONFIG_SELECTOR}: ${names.join(', ')} (keep one)`);
      }
      return { name: items[0]!.metadata?.name ?? '?', data: { ...(items[0]!.data ?? {}) } };
    },

    async storageLocationNameOf(backupName, signal) {
      const what = `Backup ${namespace}/${backupName}`;
      const backup = (await call(what, 'read', (options) =>
        custom.getNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace, plural: 'backups', name: backupName }, options),
      signal)) as { spec?: { storageLocation?: unknown } };
      const name = backup?.spec?.storageLocation;
      if (typeof name !== 'string' || name === '') throw new ClusterAccessError(`${what}: spec.storageLocation: not set`);
      return name;
    },

    async readStorageLocation(name, signal) {
      return readStorageLocationFromCluster(name, namespace, { kubeConfig: kc, timeoutMs, ...(signal ? { signal } : {}) });
    },

    async readSecret(name, signal) {
      const secret = await call(`Secret ${namespace}/${name}`, 'read', (options) => core.readNamespacedSecret({ name, namespace }, options), signal);
      return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    },

    async annotateRestore(restore, annotations) {
      await call(`Restore ${restore.namespace}/${restore.name}`, 'patch', (options) =>
        custom.patchNamespacedCustomObject(
          { group: 'velero.io', version: 'v1', namespace: restore.namespace, plural: 'restores', name: restore.name, body: { metadata: { annotations } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, options),
        ),
      );
    },

    async recordEvent(event) {
      const now = new Date();
      const { restore } = event;
      await call(`an Event on Restore ${restore.namespace}/${restore.name}`, 'create', (options) =>
        core.createNamespacedEvent(
          {
            namespace: restore.namespace,
            body: {
              metadata: { generateName: `${restore.name}.`, namespace: restore.namespace },
              involvedObject: { apiVersion: 'velero.io/v1', kind: 'Restore', name: restore.name, namespace: restore.namespace, ...(restore.uid ? { uid: restore.uid } : {}) },
              type: event.type,
              reason: event.reason,
              message: event.message.length > MAX_EVENT_MESSAGE ? `${event.message.slice(0, MAX_EVENT_MESSAGE - 3)}...` : event.message,
              source: { component: 'drift-detector' },
              reportingComponent: 'driftdetector.dev/restore-gate',
              reportingInstance: hostname(),
              firstTimestamp: now,
              lastTimestamp: now,
              count: 1,
            },
          },
          options,
        ),
      );
    },
  };
}
