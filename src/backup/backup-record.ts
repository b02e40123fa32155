/**
 * What the readiness watch reads of a Velero Backup object, wherever the object comes from: the
 * bucket's `velero-backup.json` or the Backup in Velero's namespace (docs/velero-facts.md).
 */
import { isMap } from '../util/values.js';

export interface BackupRecord {
  name: string;
  /** `status.phase`, e.g. Completed, PartiallyFailed, Failed. */
  phase: string;
  /** `status.completionTimestamp` in ms since the epoch, when set. */
  completedAt?: number;
  /** `status.startTimestamp`, which orders backups that have no completion time. */
  startedAt?: number;
}

/** The newest Completed backup, with the completion of the Completed one before it. */
export type NewestRecord = BackupRecord & { previousCompletedAt?: number };

/** The fields of a Backup object the watch reads; anything else in it is ignored. */
export function backupRecordOf(name: string, object: unknown): BackupRecord {
  const status = isMap(object) && isMap(object['status']) ? object['status'] : {};
  const phase = typeof status['phase'] === 'string' ? status['phase'] : '';
  const time = (key: string) => (typeof status[key] === 'string' ? Date.parse(status[key]) : NaN);
  const completed = time('completionTimestamp');
  const started = time('startTimestamp');
  return {
    name,
    phase,
    ...(Number.isFinite(completed) ? { completedAt: completed } : {}),
    ...(Number.isFinite(started) ? { startedAt: started } : {}),
  };
}

/**
 * The Completed backup that finished last (by completion, else start time; then by name), if any,
 * with the completion of the one before it (how far apart the schedule makes them).
 */
export function newestCompleted(records: Iterable<BackupRecord>): NewestRecord | undefined {
  let newest: BackupRecord | undefined;
  let previous: BackupRecord | undefined;
  for (const record of records) {
    if (record.phase !== 'Completed') continue;
    if (!newest || isNewer(record, newest)) [newest, previous] = [record, newest];
    else if (!previous || isNewer(record, previous)) previous = record;
  }
  if (!newest) return undefined;
  return previous?.completedAt !== undefined ? { ...newest, previousCompletedAt: previous.completedAt } : newest;
}

function isNewer(a: BackupRecord, b: BackupRecord): boolean {
  const at = a.completedAt ?? a.startedAt ?? 0;
  const bt = b.completedAt ?? b.startedAt ?? 0;
  return at !== bt ? at > bt : a.name > b.name;
}
