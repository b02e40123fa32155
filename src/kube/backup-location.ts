/**
 * The storage location a Velero Backup names (`spec.storageLocation`), read from the cluster
 * `serve` runs in, so the restore gate reads a restore's backup from its own bucket. A Backup's
 * spec does not change, so an answer is kept (DEFAULTS.kube.backupLocationTtlMs); a failure is not.
 * Without a cluster, or a failing read, the lookup throws and the caller looks in every location.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import { isMap } from '../util/values.js';
import { lazyKubeClient } from './client.js';
import { loadKubeConfig } from './config.js';

export const BACKUP_GET_RBAC_HINT =
  "the service account of drift-detector serve needs get on backups.velero.io in Velero's namespace (deploy/service)";

/** Answers kept at most: the Backups of the restores of the last while. */
const MAX_KEPT = 1000;

export interface BackupLocationLookupOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  ttlMs?: number;
  now?: () => number;
  loadConfig?: () => Promise<KubeConfig>;
}

/** `(namespace, backup, signal) => spec.storageLocation`; undefined for a Backup that names none. */
export function clusterBackupLocations(
  options: BackupLocationLookupOptions,
): (namespace: string, backup: string, signal: AbortSignal) => Promise<string | undefined> {
  const { timeoutMs = DEFAULTS.kube.requestTimeoutMs, ttlMs = DEFAULTS.kube.backupLocationTtlMs, now = Date.now } = options;
  const client = lazyKubeClient(options.loadConfig ?? (() => loadKubeConfig(options.env)), { timeoutMs, accessHint: BACKUP_GET_RBAC_HINT });
  const kept = new Map<string, { location: string | undefined; until: number }>();
  return async (namespace, backup, signal) => {
    const key = `${namespace}/${backup}`;
    const hit = kept.get(key);
    if (hit && hit.until > now()) return hit.location;
    const object = await (await client()).readVeleroObject('Backup', namespace, backup, signal);
    const spec = isMap(object) && isMap(object['spec']) ? object['spec'] : {};
    const location = typeof spec['storageLocation'] === 'string' && spec['storageLocation'] !== '' ? spec['storageLocation'] : undefined;
    if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(key, { location, until: now() + ttlMs });
    return location;
  };
}
