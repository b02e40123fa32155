/** Velero Backup objects as the service reads them, and the backup Velero restores for `--from-schedule`. */
import test from 'ava';
import { backupRecordOf, newestCompleted, newestOfSchedule } from '../../src/storage/backup-records.js';

const backup = (name: string, schedule: string, phase: string, started?: string, created?: string) =>
  backupRecordOf(name, {
    metadata: { name, labels: { 'velero.io/schedule-name': schedule }, ...(created ? { creationTimestamp: created } : {}) },
    status: { phase, ...(started ? { startTimestamp: started, completionTimestamp: started } : {}) },
  });

test("a schedule's backup: the Completed one with the latest status.startTimestamp, as Velero's restore controller picks it", (t) => {
  const backups = [
    backup('daily-20260101', 'daily', 'Completed', '2026-01-01T00:00:00Z'),
    backup('daily-20260103', 'daily', 'PartiallyFailed', '2026-01-03T00:00:00Z'),
    // Created last, started earlier (a backup re-created from its bucket by Velero's sync): the start counts.
    backup('daily-20260102', 'daily', 'Completed', '2026-01-02T00:00:00Z', '2026-02-01T00:00:00Z'),
    backup('daily-old', 'daily', 'Completed', undefined, '2026-03-01T00:00:00Z'),
    backup('weekly-20260104', 'weekly', 'Completed', '2026-01-04T00:00:00Z'),
    backupRecordOf('not-an-object', 'nope'),
  ];
  t.is(newestOfSchedule(backups, 'daily')?.name, 'daily-20260102');
  t.is(newestOfSchedule(backups, 'weekly')?.name, 'weekly-20260104');
  t.is(newestOfSchedule(backups, 'hourly'), undefined);
  t.is(newestOfSchedule([backup('a', 's', 'Completed'), backup('b', 's', 'Completed')], 's')?.name, 'b', 'no start time: the greater name');
  t.is(newestCompleted(backups)?.name, 'weekly-20260104');
  t.deepEqual(backupRecordOf('x', { status: { phase: 'Completed', startTimestamp: 'garbage' } }), { name: 'x', phase: 'Completed' });
});
