/**
 * The readiness watch over a location's newest `depth` backups: the newest re-analysed every
 * interval, the older ones at their own interval, a backup finishing in the future set aside with
 * a warning, each analysis recorded, and nothing announced that the Backup's recorded verdict
 * already said. The clock is the test's; the detection is faked (the watch is about scheduling).
 */
import test from 'ava';
import { ReadinessWatch, type AnalysisOutcome, type RestorabilityChange } from '../../src/app/readiness.js';
import { recentCompleted } from '../../src/storage/backup-records.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { FakeDetection, pollUntil, standardReport } from '../grpc/helpers.js';

const HOUR = 3_600_000;

function setup(options: { recorded?: (backup: string) => Promise<boolean | undefined> } = {}) {
  let now = Date.parse('2026-12-05T12:00:00Z');
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const fake = new FakeDetection();
  const records = [
    { name: 'b1', phase: 'Completed', completedAt: now - 3 * HOUR },
    { name: 'b2', phase: 'Completed', completedAt: now - 2 * HOUR },
    { name: 'b3', phase: 'Completed', completedAt: now - HOUR },
    { name: 'b0', phase: 'Completed', completedAt: now - 4 * HOUR },
    { name: 'skewed', phase: 'Completed', completedAt: now + 48 * HOUR },
  ];
  for (const r of records) fake.reports.set(r.name, standardReport(r.name));
  const logs: string[] = [];
  const logger = jsonLogger({ level: 'debug', write: (l) => logs.push(l) });
  const service = fake.service(logger, {
    words: { overridesFrom: '', credentialsHint: '', certificateHints: { untrusted: '', 'thumbprint-mismatch': '' }, trustHint: () => '' },
    now: clock.now,
  });
  const recorded: Array<[string, AnalysisOutcome]> = [];
  const announced: RestorabilityChange[] = [];
  let listings = 0;
  const watch = new ReadinessWatch({
    service,
    catalogs: new Map([
      [
        'default',
        {
          recentCompleted: async (depth: number, notAfter: number) => {
            listings++;
            return recentCompleted(records, depth, notAfter);
          },
        },
      ],
    ]),
    intervalMs: 10 * 60_000,
    olderIntervalMs: HOUR,
    depth: 3,
    clockSkewMs: 5 * 60_000,
    logger,
    now: clock.now,
    record: async (_location, backup, outcome) => void recorded.push([backup, outcome]),
    announce: async (change) => void announced.push(change),
    ...(options.recorded ? { recorded: options.recorded } : {}),
  });
  return { watch, clock, fake, recorded, announced, logs, listings: () => listings };
}

/** Waits until `read` reaches `n` (a bounded poll). */
const reach = (read: () => number, n: number, what: string) =>
  pollUntil(
    async () => read(),
    (v) => v >= n,
    10_000,
    what,
  );

const analysed = (fake: FakeDetection) => fake.calls.map((c) => /backups\/([^/]+)\//.exec(c.source)![1]);

test('the newest three backups are analysed and recorded; the future one is a warning, never the newest', async (t) => {
  const { watch, fake, recorded, announced, logs } = setup();
  watch.start();
  t.teardown(() => watch.stop());
  await reach(() => recorded.length, 3, 'three verdicts');
  t.deepEqual(analysed(fake), ['b3', 'b2', 'b1']);
  t.deepEqual(
    recorded.map(([b, o]) => [b, 'readiness' in o && o.readiness.restorable]),
    [
      ['b3', false],
      ['b2', false],
      ['b1', false],
    ],
  );
  t.is(watch.snapshot()[0]!.backup!.name, 'b3');
  t.is(announced.length, 1, 'the newest backup only is announced');
  t.is(logs.filter((l) => l.includes('a Completed backup finishes in the future') && l.includes('"backup":"skewed"')).length, 1);
});

test('the newest is re-analysed every interval, the older ones only at theirs', async (t) => {
  const { watch, fake, clock, listings } = setup();
  watch.start();
  t.teardown(() => watch.stop());
  await reach(() => fake.calls.length, 3, 'first round');
  await watch.suspend();
  clock.advance(11 * 60_000);
  const seen = listings();
  watch.start();
  await reach(() => fake.calls.length, 4, 'the newest again');
  await reach(() => listings(), seen + 1, 'a listing');
  await watch.suspend();
  t.deepEqual(analysed(fake).slice(3), ['b3'], 'resumed: the newest is due, the older ones are not');
  clock.advance(HOUR);
  watch.start();
  await reach(() => fake.calls.length, 7, 'all again');
  t.deepEqual(analysed(fake).slice(4), ['b3', 'b2', 'b1']);
});

test('a watch that starts on a new leader does not announce what the Backup already records', async (t) => {
  const asked: string[] = [];
  const { watch, recorded, announced } = setup({ recorded: async (b) => (asked.push(b), false) });
  watch.start();
  t.teardown(() => watch.stop());
  await reach(() => recorded.length, 1, 'first verdict');
  t.deepEqual(asked, ['b3']);
  t.deepEqual(announced, [], 'recorded as not restorable, analysed not restorable: nothing new');
});

test('a failed analysis is recorded as such, with its cause', async (t) => {
  const { watch, fake, recorded } = setup();
  fake.failWith = new Error('vCenter vc01.example.com: login refused');
  watch.start();
  t.teardown(() => watch.stop());
  await reach(() => recorded.length, 3, 'three outcomes');
  t.deepEqual(
    recorded.map(([b, o]) => [b, 'error' in o ? o.error : 'readiness']),
    [
      ['b3', 'vCenter vc01.example.com: login refused'],
      ['b2', 'vCenter vc01.example.com: login refused'],
      ['b1', 'vCenter vc01.example.com: login refused'],
    ],
  );
});
