/**
 * The Check use case without a door: verdicts from the shared analysis, and DomainErrors that
 * name the fields in the words of whichever door asks (here a REST-like door's camelCase).
 */
import test from 'ava';
import { checkBackup, type CheckAnswer, type CheckFieldNames } from '../../src/app/check.js';
import { DomainError } from '../../src/app/errors.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { FakeDetection, standardReport } from '../grpc/helpers.js';

/** The answer of an analysed backup (a test of a backup that was not checked fails here). */
function analysed(answer: CheckAnswer): Exclude<CheckAnswer, { notChecked: string }> {
  if ('notChecked' in answer) throw new Error(`not checked: ${answer.notChecked}`);
  return answer;
}

const REST_FIELDS: CheckFieldNames = { backupName: 'backupName', overrideReason: 'overrideReason', overrideClusters: 'overrideClusters' };

function setup() {
  const detection = new FakeDetection();
  detection.reports.set('b1', standardReport('b1'));
  const service = detection.service(jsonLogger({ level: 'error', write: () => {} }));
  const counted: string[] = [];
  const metrics = { verdicts: { inc: (l: { verdict: string; source: string }) => counted.push(`${l.verdict}/${l.source}`) } };
  return { detection, service, counted, options: { fields: REST_FIELDS, metrics } };
}

test('a backup with ghosts is BLOCKed cluster by cluster, each decision counted as a check', async (t) => {
  const { service, counted, options } = setup();
  t.teardown(() => service.close());
  const answer = analysed(await checkBackup(service, { backupName: 'b1' }, options));
  t.is(answer.verdict, 'BLOCK');
  const byName = Object.fromEntries(answer.decisions.map((d) => [d.name, d.verdict]));
  t.deepEqual(byName, { 'wc-ghost': 'BLOCK', 'wc-ok': 'ALLOW', 'wc-stale': 'ALLOW', 'wc-unknown': 'BLOCK' });
  t.false(answer.cached);
  t.deepEqual(counted.sort(), ['ALLOW/check', 'ALLOW/check', 'BLOCK/check', 'BLOCK/check']);
  t.true(analysed(await checkBackup(service, { backupName: 'b1' }, options)).cached, 'the second check reuses the analysis');
});

test('an override of the blocked clusters and failurePolicy Ignore turn the verdict to ALLOW', async (t) => {
  const { service, options } = setup();
  t.teardown(() => service.close());
  const answer = analysed(
    await checkBackup(
      service,
      { backupName: 'b1', overrideReason: 'INC-42', overrideClusters: ['default/wc-ghost'], failurePolicy: 'Ignore' },
      options,
    ),
  );
  t.is(answer.verdict, 'ALLOW');
  t.true(answer.decisions.find((d) => d.name === 'wc-ghost')!.overridden);
});

test('failOnBlock raises the blocked clusters as a DomainError', async (t) => {
  const { service, options } = setup();
  t.teardown(() => service.close());
  const err = await t.throwsAsync(checkBackup(service, { backupName: 'b1', failOnBlock: true }, options), { instanceOf: DomainError });
  t.is(err.kind, 'blocked');
  t.regex(err.message, /Cluster default\/wc-ghost: /);
  t.regex(err.message, /Cluster default\/wc-unknown: /);
});

test("bad requests are invalid-argument in the door's field names, before any analysis", async (t) => {
  const { detection, service, options } = setup();
  t.teardown(() => service.close());
  const refused = async (request: Parameters<typeof checkBackup>[1]) => {
    const err = await t.throwsAsync(checkBackup(service, request, options), { instanceOf: DomainError });
    t.is(err.kind, 'invalid-argument');
    return err.message;
  };
  t.is(
    await refused({ backupName: 'B_1' }),
    `backupName: "B_1" is not a Velero backup name (lower-case letters, digits, '-' and '.', at most 253)`,
  );
  t.is(
    await refused({ backupName: 'b1', overrideClusters: ['default/wc-ghost'], overrideReason: ' ' }),
    'overrideClusters: given without overrideReason (a blank reason is no override)',
  );
  t.is(
    await refused({ backupName: 'b1', overrideClusters: ['wc-ghost'], overrideReason: 'INC-1' }),
    'overrideClusters: "wc-ghost" is not namespace/name',
  );
  t.is(await refused({ backupName: 'b1', overrideReason: 'x'.repeat(5000) }), 'overrideReason: longer than 1024 characters');
  t.is(detection.calls.length, 0);
});
