/**
 * The newest Completed backup of a location, whichever source lists the Backup objects: phases
 * other than Completed never count, completion orders them (start time when there is none), and
 * the one before gives the schedule's cadence.
 */
import test from 'ava';
import { backupRecordOf, newestCompleted } from '../../src/storage/backup-records.js';

const backup = (phase: string, completion?: string, start?: string) => ({
  status: { phase, ...(completion ? { completionTimestamp: completion } : {}), ...(start ? { startTimestamp: start } : {}) },
});

test('the newest Completed backup, and the completion of the Completed one before it', (t) => {
  const records = [
    backupRecordOf('daily-1', backup('Completed', '2026-11-28T02:00:00Z')),
    backupRecordOf('daily-3', backup('Completed', '2026-11-30T02:00:00Z')),
    backupRecordOf('failed', backup('Failed', '2026-11-30T05:00:00Z')),
    backupRecordOf('partial', backup('PartiallyFailed', '2026-11-30T04:00:00Z')),
    backupRecordOf('running', backup('InProgress', undefined, '2026-11-30T06:00:00Z')),
    backupRecordOf('daily-2', backup('Completed', '2026-11-29T02:00:00Z')),
  ];
  t.deepEqual(newestCompleted(records), {
    name: 'daily-3',
    phase: 'Completed',
    completedAt: Date.parse('2026-11-30T02:00:00Z'),
    previousCompletedAt: Date.parse('2026-11-29T02:00:00Z'),
  });
  t.is(newestCompleted(records.reverse())?.previousCompletedAt, Date.parse('2026-11-29T02:00:00Z'), 'whatever the listing order');
});

test('one Completed backup has no previous; none, no newest; no completion time: the start time orders', (t) => {
  t.is(newestCompleted([backupRecordOf('only', backup('Completed', '2026-11-30T02:00:00Z'))])?.previousCompletedAt, undefined);
  t.is(newestCompleted([backupRecordOf('x', backup('Failed', '2026-11-30T02:00:00Z'))]), undefined);
  t.is(newestCompleted([]), undefined);
  const undated = [
    backupRecordOf('early', backup('Completed', undefined, '2026-11-30T01:00:00Z')),
    backupRecordOf('late', backup('Completed', undefined, '2026-11-30T03:00:00Z')),
  ];
  t.is(newestCompleted(undated)?.name, 'late');
  t.deepEqual(backupRecordOf('junk', 'not an object'), { name: 'junk', phase: '' });
});
