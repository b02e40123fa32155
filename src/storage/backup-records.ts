/**
 * What the service reads of Velero Backup objects, wherever they come from (the API server's
 * Backups, or the `velero-backup.json` Velero uploads to the bucket), and the two ways a backup is
 * picked from them: the newest Completed one (the readiness watch), and the one Velero's restore
 * controller restores for `--from-schedule` (docs/velero-facts.md). Pure.
 */
import { isMap } from '../util/values.js';

/** Velero's label on the Backups a Schedule made (and on `velero backup create --from-schedule`'s). */
export const SCHEDULE_LABEL = 'velero.io/schedule-name';

export interface BackupRecord {
  name: string;
  /** `status.phase`, e.g. Completed, PartiallyFailed, Failed. */
  phase: string;
  /** `status.completionTimestamp` in ms since the epoch, when set. */
  completedAt?: number;
  /** `status.startTimestamp` in ms since the epoch, when set. */
  startedAt?: number;
  /** The schedule that made it (label velero.io/schedule-name). */
  schedule?: string;
}

function timestamp(value: unknown): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/** The fields of a Backup object the service reads; anything else in it is ignored. */
export function backupRecordOf(name: string, backup: unknown): BackupRecord {
  const status = isMap(backup) && isMap(backup['status']) ? backup['status'] : {};
  const metadata = isMap(backup) && isMap(backup['metadata']) ? backup['metadata'] : {};
  const labels = isMap(metadata['labels']) ? metadata['labels'] : {};
  const completedAt = timestamp(status['completionTimestamp']);
  const startedAt = timestamp(status['startTimestamp']);
  const schedule = labels[SCHEDULE_LABEL];
  return {
    name,
    phase: typeof status['phase'] === 'string' ? status['phase'] : '',
    ...(completedAt !== undefined ? { completedAt } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(typeof schedule === 'string' && schedule !== '' ? { schedule } : {}),
  };
}

/** The newest Completed backup, with the completion of the Completed one before it. */
export type NewestRecord = BackupRecord & { previousCompletedAt?: number };

/**
 * The Completed backup that finished last (by completion, else start time; then by name), if any,
 * with the completion of the one before it (how far apart the schedule makes them).
 */
export function newestCompleted(records: Iterable<BackupRecord>): NewestRecord | undefined {
  let newest: BackupRecord | undefined;
  let previous: BackupRecord | undefined;
  for (const record of records) {
    if (record.phase !== 'Completed') continue;
    if (!newest || finishedLater(record, newest)) [newest, previous] = [record, newest];
    else if (!previous || finishedLater(record, previous)) previous = record;
  }
  if (!newest) return undefined;
  return previous?.completedAt !== undefined ? { ...newest, previousCompletedAt: previous.completedAt } : newest;
}

function finishedLater(a: BackupRecord, b: BackupRecord): boolean {
  return later(a.completedAt ?? a.startedAt, b.completedAt ?? b.startedAt, a.name, b.name);
}

/**
 * The backup `velero restore create --from-schedule S` restores, as Velero's restore controller
 * picks it (mostRecentCompletedBackup): of the backups labelled with the schedule, the Completed
 * one with the latest `status.startTimestamp` (none counts as the earliest; ties: the greater name).
 */
export function newestOfSchedule<R extends BackupRecord>(records: readonly R[], schedule: string): R | undefined {
  let newest: R | undefined;
  for (const r of records) {
    if (r.phase !== 'Completed' || r.schedule !== schedule) continue;
    if (!newest || later(r.startedAt, newest.startedAt, r.name, newest.name)) newest = r;
  }
  return newest;
}

function later(a: number | undefined, b: number | undefined, aName: string, bName: string): boolean {
  const at = a ?? -Infinity;
  const bt = b ?? -Infinity;
  return at !== bt ? at > bt : aName > bName;
}

/** A location's newest Completed backups, newest first, and those set aside for a completion in the future. */
export interface RecentCompleted {
  /** At most `depth`, newest first; each with the completion of the Completed one after it in age. */
  backups: NewestRecord[];
  /** Completed backups whose completion is past `notAfter`: a clock that runs ahead, never the newest. */
  future: BackupRecord[];
}

/**
 * The `depth` Completed backups that finished last (newestCompleted's order), each with the
 * completion of the one before it. A completion past `notAfter` (now plus the clock-skew allowance)
 * cannot be true: such a backup is reported apart, or it would stay "newest" until that date.
 */
export function recentCompleted(records: Iterable<BackupRecord>, depth: number, notAfter: number): RecentCompleted {
  const future: BackupRecord[] = [];
  const completed: BackupRecord[] = [];
  for (const r of records) {
    if (r.phase !== 'Completed') continue;
    if ((r.completedAt ?? r.startedAt ?? -Infinity) > notAfter) future.push(r);
    else completed.push(r);
  }
  completed.sort((a, b) => (finishedLater(a, b) ? -1 : finishedLater(b, a) ? 1 : 0));
  const backups = completed.slice(0, depth).map((r, i): NewestRecord => {
    const previous = completed[i + 1]?.completedAt;
    return previous !== undefined ? { ...r, previousCompletedAt: previous } : r;
  });
  return { backups, future };
}
