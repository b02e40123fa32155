/**
 * The backup a restore restores, found and analysed by one rule for every door that gates a
 * restore (the admission webhook, the RestoreItemAction of serve and of the plugin; docs/restore-gate.md §3):
 *
 * - in the storage location the caller names, else the one the Velero Backup object names
 *   (`spec.storageLocation`, read from the API server), else — no access to Backups — in every
 *   configured location, the default first;
 * - a backup with no Cluster API objects is analysed into a report with no cluster: nothing to judge;
 * - a backup absent from every location looked in, each bucket having answered normally (the listing
 *   works, the object is not there): `absent`, allowed with a warning (Velero's sync may not have run);
 * - a location that cannot be used (bucket missing, access denied, an endpoint that answers errors
 *   or a web page, network, timeout), or a name the service is not configured with: `failed`,
 *   and failurePolicy decides. A missing bucket is a misconfiguration, never a missing backup.
 */
import type { DriftReport } from '../model/report.js';
import { errorMessage } from '../util/values.js';
import type { CacheUse } from './analysis-cache.js';
import type { AnalyzeOptions, DriftService } from './drift-service.js';
import { DomainError } from './errors.js';
import { failureKind, failureMessage } from './failures.js';

export type RestoreBackupAnalysis =
  | { outcome: 'analysed'; report: DriftReport; storageLocation: string; use: CacheUse }
  /** Not in any location looked in, each bucket having answered: allowed, not checked. */
  | { outcome: 'absent'; warning: string }
  /** A location could not be used: failurePolicy decides. `message` names each location and its cause. */
  | { outcome: 'failed'; error: unknown; message: string };

export interface RestoreBackupRequest {
  backup: string;
  /** The Restore's namespace, Velero's, where its Backup object is. */
  namespace: string;
  /** The location the caller knows the backup is in (a remote-mode plugin, a schedule's bucket). */
  storageLocation?: string;
  /** The caller's: an abort is thrown, never an outcome. */
  signal: AbortSignal;
  /** How to analyse (the Check call's choices). */
  analysis?: Pick<AnalyzeOptions, 'skipAccessApiServer' | 'refresh'>;
}

export async function analyzeRestoreBackup(service: DriftService, request: RestoreBackupRequest): Promise<RestoreBackupAnalysis> {
  const { backup, signal } = request;
  const named = request.storageLocation ?? (await namedByBackup(service, request));
  const configured = service.options.locations.names();
  if (named !== undefined && !configured.includes(named)) {
    const message =
      `storage location "${named.slice(0, 80)}" is not configured (configured: ${configured.join(', ')}): ` +
      `the Backup of ${backup} names it; add it to the service's storageLocations`;
    return { outcome: 'failed', error: new DomainError('misconfigured', message), message };
  }
  const candidates = named !== undefined ? [named] : configured;
  const failures: { location: string; error: unknown }[] = [];
  for (const location of candidates) {
    try {
      const { report, use } = await service.analyze(backup, { ...request.analysis, storageLocation: location, signal });
      return { outcome: 'analysed', report, storageLocation: location, use };
    } catch (err) {
      if (signal.aborted) throw err;
      if (failureKind(err) !== 'not-found') failures.push({ location, error: err });
    }
  }
  const unnamed = service.options.locations.unnamed === true;
  if (failures.length > 0) {
    const message = failures.map((f) => `${unnamed ? '' : `storage location ${f.location}: `}${failureMessage(f.error)}`).join('; ');
    return { outcome: 'failed', error: failures[0]!.error, message };
  }
  const where = unnamed
    ? 'the storage location its Backup names'
    : candidates.length === 1
      ? `storage location ${candidates[0]}`
      : `storage locations ${candidates.join(', ')}`;
  return {
    outcome: 'absent',
    warning:
      `drift-detector did not check this restore: backup ${backup} is not in ${where} (the bucket answered; ` +
      "Velero's backup sync may not have run yet)",
  };
}

/** The Backup object's location, when the service can read it; a failed read is logged and every location looked in. */
async function namedByBackup(service: DriftService, request: RestoreBackupRequest): Promise<string | undefined> {
  const lookup = service.options.backupStorageLocationOf;
  if (!lookup) return undefined;
  try {
    return await lookup(request.namespace, request.backup, request.signal);
  } catch (err) {
    if (request.signal.aborted) throw err;
    service.options.logger.warn("the Backup's storage location could not be read; looking in every configured location", {
      backup: request.backup,
      error: errorMessage(err),
    });
    return undefined;
  }
}
