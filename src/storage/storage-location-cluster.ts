/**
 * A storage location read from a live cluster: the BackupStorageLocation object, and the Secrets
 * it names (`caCertRef` for the CA, `spec.credential` for the credentials), through src/kube.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import { KubeCallError } from '../kube/call.js';
import { decodeSecretValue, kubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { credentialsFromIni } from './aws-credentials.js';
import { StorageLocationError } from './errors.js';
import { parseBackupStorageLocation, type StorageLocation } from './storage-location.js';
import { checkPem, type SecretKeyRef } from './storage-location-fields.js';

export interface ClusterReadOptions {
  /** A loaded KubeConfig; default: loadKubeConfig() (KUBECONFIG, in-cluster, ~/.kube/config). */
  kubeConfig?: KubeConfig;
  /** Bound on each read (the BSL and each Secret it names), in ms; default DEFAULTS.kube.requestTimeoutMs. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Said after a 401 or 403; default: check the kubeconfig's user and its RBAC. */
  accessHint?: string;
}

const DEFAULT_CLUSTER_TIMEOUT_MS = DEFAULTS.kube.requestTimeoutMs;
const DEFAULT_ACCESS_HINT = "check the kubeconfig's user and its RBAC";

/**
 * Reads the BackupStorageLocation `namespace/name` (default namespace DEFAULTS.velero.namespace) from the cluster
 * and follows its Secret references: `caCertRef` gives the CA, and `spec.credential` gives the
 * credentials (kept in memory, behind credentialsProvider).
 */
export async function readStorageLocationFromCluster(
  name: string,
  namespace = DEFAULTS.velero.namespace,
  options: ClusterReadOptions = {},
): Promise<StorageLocation> {
  const origin = `BackupStorageLocation ${namespace}/${name}`;
  const reader = await clusterReader(origin, namespace, options);
  const parsed = parseBackupStorageLocation(await reader.bsl(name), origin);
  const location = parsed.location;
  if (parsed.caCertRef) {
    const ref = parsed.caCertRef;
    const pem = await reader.secretValue(ref, 'spec.objectStorage.caCertRef');
    location.caCert = checkPem(pem, 'spec.objectStorage.caCertRef', (key, detail) => {
      throw new StorageLocationError(origin, key, `Secret ${namespace}/${ref.name} key ${ref.key} ${detail}`);
    });
  }
  if (parsed.credential) {
    const ref = parsed.credential;
    const credentialsOrigin = `Secret ${namespace}/${ref.name} key ${ref.key}`;
    const ini = await reader.secretValue(ref, 'spec.credential');
    // Parsed now so that a bad Secret fails here; the provider only hands the values out.
    const credentials = credentialsFromIni(ini, location.profile ?? 'default', credentialsOrigin);
    location.credentialsProvider = async () => ({ ...credentials });
    location.credentialsOrigin = credentialsOrigin;
  }
  return location;
}

interface ClusterReader {
  bsl(name: string): Promise<unknown>;
  /** The value of `ref`, named by the BSL's `key`. */
  secretValue(ref: SecretKeyRef, key: string): Promise<string>;
}

/** The reads a BSL needs; every failure becomes a StorageLocationError naming the BSL. */
async function clusterReader(origin: string, namespace: string, options: ClusterReadOptions): Promise<ClusterReader> {
  const kc =
    options.kubeConfig ??
    (await loadKubeConfig().catch((err: Error) => {
      throw new StorageLocationError(origin, undefined, `cannot read it from the cluster: ${err.message}`, { cause: err });
    }));
  const client = await kubeClient(kc, {
    timeoutMs: options.timeoutMs ?? DEFAULT_CLUSTER_TIMEOUT_MS,
    accessHint: options.accessHint ?? DEFAULT_ACCESS_HINT,
  });
  const failed = (err: unknown): never => {
    if (!(err instanceof KubeCallError)) throw err;
    // The BSL's own failure reads `BackupStorageLocation velero/x: not found (404)`.
    throw new StorageLocationError(origin, undefined, err.object === origin ? err.detail : err.message, { cause: err });
  };
  const signal = options.signal ? { signal: options.signal } : {};
  return {
    bsl: (name) => client.readVeleroObject('BackupStorageLocation', namespace, name, options.signal).catch(failed),
    async secretValue(ref, key) {
      const what = `Secret ${namespace}/${ref.name}`;
      const data = await client.readSecretData(namespace, ref.name, { ...signal, object: `${what} (named by ${key})` }).catch(failed);
      const value = data[ref.key];
      if (value === undefined) throw new StorageLocationError(origin, key, `${what} has no key "${ref.key}"`);
      return decodeSecretValue(value);
    },
  };
}
