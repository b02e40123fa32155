/**
 * The backup a Restore with `spec.scheduleName` (and no backupName) restores (drift semantics §7):
 * the newest Completed backup of that schedule, as Velero's restore controller picks it
 * (storage/backup-records.ts). Read from the API server's Backups where the service may list them;
 * else (no access, a failed call, or a backup it does not list yet) from the `velero-backup.json`
 * objects of the configured storage locations, where Velero's own sync finds them.
 */
import { backupRecordOf, newestOfSchedule, type BackupRecord } from '../storage/backup-records.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';

/** The Backup objects labelled velero.io/schedule-name=`schedule` in Velero's namespace (where the Restore is). */
export interface ScheduleBackups {
  list(namespace: string, schedule: string, signal: AbortSignal): Promise<unknown[]>;
}

/** The backups one storage location's bucket holds. */
export interface BucketBackups {
  newestOfSchedule(schedule: string, signal: AbortSignal): Promise<BackupRecord | undefined>;
}

export interface ScheduleSources {
  apiServer?: ScheduleBackups;
  /** By storage location name, as the service is configured. */
  buckets?: ReadonlyMap<string, BucketBackups>;
  logger: Logger;
}

export type ScheduleResolution =
  /** `storageLocation`: the configured location the backup was found in (none: the API server's, read from the default). */
  | { backup: string; storageLocation?: string }
  /** No backup: `failures` says why each source could not answer; empty when every source answered that there is none. */
  | { backup?: undefined; failures: string[] };

export async function scheduleBackup(
  sources: ScheduleSources,
  namespace: string,
  schedule: string,
  signal: AbortSignal,
): Promise<ScheduleResolution> {
  const failures: string[] = [];
  if (sources.apiServer) {
    try {
      const backups = await sources.apiServer.list(namespace, schedule, signal);
      const found = newestOfSchedule(backups.map(recordOfObject), schedule);
      if (found) return { backup: found.name };
    } catch (err) {
      if (signal.aborted) throw err;
      sources.logger.warn('the Backups of a schedule could not be listed', { schedule, error: errorMessage(err) });
      failures.push(`the API server: ${errorMessage(err)}`);
    }
  }
  let newest: { record: BackupRecord; location: string } | undefined;
  for (const [location, bucket] of sources.buckets ?? []) {
    try {
      const record = await bucket.newestOfSchedule(schedule, signal);
      if (record && (!newest || (newestOfSchedule([newest.record, record], schedule) ?? newest.record) === record))
        newest = { record, location };
    } catch (err) {
      if (signal.aborted) throw err;
      sources.logger.warn("a storage location's backups could not be read", { schedule, storageLocation: location, error: errorMessage(err) });
      failures.push(`storage location ${location}: ${errorMessage(err)}`);
    }
  }
  if (newest) {
    sources.logger.info("a schedule's backup found in its bucket", { schedule, backup: newest.record.name, storageLocation: newest.location });
    return { backup: newest.record.name, storageLocation: newest.location };
  }
  if (!sources.apiServer && !sources.buckets?.size) failures.push('no API server access and no storage location configured');
  return { failures };
}

function recordOfObject(backup: unknown): BackupRecord {
  const metadata = isMap(backup) && isMap(backup['metadata']) ? backup['metadata'] : {};
  return backupRecordOf(typeof metadata['name'] === 'string' ? metadata['name'] : '', backup);
}
