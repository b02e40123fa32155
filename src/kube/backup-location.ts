/**
 * The storage location a Velero Backup names (`spec.storageLocation`), read from the cluster
 * `serve` runs in, so the restore gate reads a restore's backup from its own bucket. A Backup's
 * spec does not change, so an answer is kept (DEFAULTS.kube.backupLocationTtlMs); a failure briefly.
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
  /** How long a failed read is answered with its failure (every item of a restore asks). */
  failureTtlMs?: number;
  now?: () => number;
  loadConfig?: () => Promise<KubeConfig>;
}

/** `(namespace, backup, signal) => spec.storageLocation`; undefined for a Backup that names none. */
export function clusterBackupLocations(
  options: BackupLocationLookupOptions,
): (namespace: string, backup: string, signal: AbortSignal) => Promise<string | undefined> {
  const {
    timeoutMs = DEFAULTS.kube.requestTimeoutMs,
    ttlMs = DEFAULTS.kube.backupLocationTtlMs,
    failureTtlMs = DEFAULTS.analysis.failureCacheTtlMs,
    now = Date.now,
  } = options;
  const client = lazyKubeClient(options.loadConfig ?? (() => loadKubeConfig(options.env)), { timeoutMs, accessHint: BACKUP_GET_RBAC_HINT });
  // One read per Backup at a time; an answer kept for ttlMs, a failure for failureTtlMs, so that the
  // hundreds of items of one restore do not each wait on a refusing or hanging API server.
  const kept = new Map<string, { answer: Promise<string | undefined>; until: number }>();
  const read = async (namespace: string, backup: string, signal: AbortSignal) => {
    const object = await (await client()).readVeleroObject('Backup', namespace, backup, signal);
    const spec = isMap(object) && isMap(object['spec']) ? object['spec'] : {};
    return typeof spec['storageLocation'] === 'string' && spec['storageLocation'] !== '' ? spec['storageLocation'] : undefined;
  };
  return (namespace, backup, signal) => {
    const key = `${namespace}/${backup}`;
    const hit = kept.get(key);
    if (hit && hit.until > now()) return hit.answer;
    if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
    // The first caller's signal bounds the shared read only as far as the call's own timeout does.
    const answer = read(namespace, backup, AbortSignal.timeout(timeoutMs));
    const entry = { answer, until: Number.POSITIVE_INFINITY };
    kept.set(key, entry);
    answer.then(
      () => (entry.until = now() + ttlMs),
      () => (entry.until = now() + failureTtlMs),
    );
    return untilAborted(answer, signal);
  };
}

/** The shared answer, or the caller's abort if that comes first. */
function untilAborted<T>(answer: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
