/**
 * When the verdict on a Backup decides a Restore alone, and what a denial points to. The Backup
 * objects are held in memory here; test/webhook/replicas.test.ts runs the same through the API
 * server, s3rver and vcsim.
 */
import test from 'ava';
import { verdictPatch, type BackupVerdict } from '../../src/app/backup-verdict.js';
import { BackupVerdicts, type BackupObjects } from '../../src/app/backup-verdicts.js';
import { VerdictAdmission } from '../../src/app/verdict-admission.js';
import type { GateConfig } from '../../src/gate/decide.js';
import { silentLogger } from '../../src/util/jsonlog.js';

const KEY = Buffer.alloc(32, 3);
const NOW = Date.parse('2026-12-05T12:00:00Z');
const MIN = 60_000;
const BLOCK: GateConfig = { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false };

class Backups implements BackupObjects {
  objects = new Map<string, any>();
  add(name: string, completed: number, verdict?: BackupVerdict, extra: { schedule?: string; location?: string; key?: Buffer } = {}) {
    const uid = `uid-${name}`;
    const patch: any = verdict ? verdictPatch(extra.key ?? KEY, uid, verdict) : { metadata: {} };
    this.objects.set(name, {
      metadata: {
        name,
        uid,
        labels: { ...patch.metadata.labels, ...(extra.schedule ? { 'velero.io/schedule-name': extra.schedule } : {}) },
        annotations: patch.metadata.annotations ?? {},
      },
      spec: { storageLocation: extra.location ?? 'default' },
      status: { phase: 'Completed', completionTimestamp: new Date(completed).toISOString() },
    });
  }
  async read(name: string) {
    const o = this.objects.get(name);
    if (!o) throw new Error(`Backup velero/${name}: not found (404)`);
    return o;
  }
  async list(selector: string) {
    const [key, value] = selector.split('=');
    return [...this.objects.values()].filter((o) => o.metadata.labels[key!] === value);
  }
  async patch() {}
}

function admission(backups: Backups, gate: GateConfig = BLOCK) {
  return new VerdictAdmission({
    verdicts: new BackupVerdicts(backups, async () => KEY, silentLogger),
    gate,
    maxAgeMs: 10 * MIN,
    pointerMaxAgeMs: 120 * MIN,
    clockSkewMs: 5 * MIN,
    defaultLocation: 'default',
    logger: silentLogger,
    now: () => NOW,
  });
}

const blocked = (at = NOW - MIN): BackupVerdict => ({ verdict: 'Blocked', summary: '1 cluster blocked: tkg/prod (1 ghost)', analyzedAt: at });
const restorable = (at = NOW - MIN): BackupVerdict => ({ verdict: 'Restorable', summary: '1 cluster would restore cleanly', analyzedAt: at });
const restore = (spec: object = {}, metadata: object = {}) => ({ metadata, spec: { backupName: 'b3', includedNamespaces: ['*'], ...spec } });
const signal = new AbortController().signal;

test('a fresh Restorable verdict admits any Restore of the backup', async (t) => {
  const backups = new Backups();
  backups.add('b3', NOW - 60 * MIN, restorable());
  const a = admission(backups);
  t.deepEqual(await a.answer(restore(), { backup: 'b3' }, signal), { allowed: true, warnings: [] });
  t.deepEqual(await a.answer(restore({ includedNamespaces: ['tkg'] }), { backup: 'b3' }, signal), { allowed: true, warnings: [] });
});

test('a Blocked verdict denies only a Restore of everything without an override; else the analysis decides', async (t) => {
  const backups = new Backups();
  backups.add('b3', NOW - 60 * MIN, blocked());
  backups.add('b2', NOW - 120 * MIN, restorable(NOW - 30 * MIN));
  const a = admission(backups);
  const denied = await a.answer(restore(), { backup: 'b3' }, signal);
  t.false(denied?.allowed);
  t.is(
    denied!.message!.split('\n')[0],
    'drift-detector denied this restore: backup b3: 1 cluster blocked: tkg/prod (1 ghost) (verdict Blocked, analysed 60 s ago).',
  );
  t.regex(
    denied!.message!,
    /Backup b2 of storage location default would restore cleanly \(completed 2 h ago, analysed 30 min ago\):\n {2}velero restore create --from-backup b2$/,
  );
  t.is(
    await a.answer(restore({ includedNamespaces: ['tkg'] }), { backup: 'b3' }, signal),
    undefined,
    'a filter: which clusters it touches takes the report',
  );
  t.is(await a.answer(restore({ labelSelector: { matchLabels: { x: 'y' } } }), { backup: 'b3' }, signal), undefined);
  t.is(
    await a.answer(restore({}, { labels: { 'driftdetector.dev/override': 'TICKET-1' } }), { backup: 'b3' }, signal),
    undefined,
    'an override',
  );
  const annotate = await admission(backups, { ...BLOCK, mode: 'annotate' }).answer(restore(), { backup: 'b3' }, signal);
  t.deepEqual(annotate, {
    allowed: true,
    warnings: ['backup b3: 1 cluster blocked: tkg/prod (1 ghost): its clusters will be restored annotated'],
  });
});

test('a stale, failed, future, foreign or missing verdict answers nothing', async (t) => {
  const backups = new Backups();
  backups.add('stale', NOW, blocked(NOW - 11 * MIN));
  backups.add('failed', NOW, { verdict: 'Failed', summary: 'analysis failed: x', analyzedAt: NOW - MIN });
  backups.add('future', NOW, blocked(NOW + 6 * MIN));
  backups.add('foreign', NOW, blocked(), { key: Buffer.alloc(32, 4) });
  backups.add('none', NOW);
  const a = admission(backups);
  for (const name of ['stale', 'failed', 'future', 'foreign', 'none', 'absent']) {
    t.is(await a.answer(restore({ backupName: name }), { backup: name }, signal), undefined, name);
  }
});

test('the pointer: the newest Restorable backup of the same location and schedule, signed, fresh, not from the future', async (t) => {
  const backups = new Backups();
  backups.add('denied', NOW - 10 * MIN, blocked(), { schedule: 'daily' });
  backups.add('ahead', NOW + 60 * MIN, restorable(), { schedule: 'daily' });
  backups.add('foreign', NOW - 20 * MIN, restorable(), { schedule: 'daily', key: Buffer.alloc(32, 4) });
  backups.add('elsewhere', NOW - 30 * MIN, restorable(), { schedule: 'daily', location: 'secondary' });
  backups.add('weekly', NOW - 40 * MIN, restorable(), { schedule: 'weekly' });
  backups.add('old-verdict', NOW - 50 * MIN, restorable(NOW - 121 * MIN), { schedule: 'daily' });
  backups.add('daily-2', NOW - 24 * 60 * MIN, restorable(), { schedule: 'daily' });
  backups.add('daily-3', NOW - 48 * 60 * MIN, restorable(), { schedule: 'daily' });
  const a = admission(backups);
  const lines = await a.pointer({ backup: 'denied', schedule: 'daily' }, undefined, signal);
  t.deepEqual(lines, [
    'Backup daily-2 of storage location default (schedule daily) would restore cleanly (completed 24 h ago, analysed 60 s ago):',
    '  velero restore create --from-backup daily-2',
  ]);
  const none = await a.pointer({ backup: 'denied', storageLocation: 'tertiary' }, undefined, signal);
  t.deepEqual(none, ['No recent backup of storage location tertiary has a Restorable verdict: none is known to restore cleanly.']);
  // The location is read from the denied Backup when the caller does not know it.
  t.regex((await a.pointer({ backup: 'elsewhere' }, undefined, signal)).join('\n'), /No recent backup of storage location secondary/);
});
