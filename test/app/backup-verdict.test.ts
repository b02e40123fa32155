import test from 'ava';
import {
  readVerdict,
  SIGNATURE_ANNOTATION,
  SUMMARY_ANNOTATION,
  VERDICT_LABEL,
  verdictOfFailure,
  verdictOfReadiness,
  verdictPatch,
} from '../../src/app/backup-verdict.js';
import type { BackupReadiness, ClusterReadiness } from '../../src/app/readiness-verdict.js';
import { recentCompleted } from '../../src/storage/backup-records.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const AT = Date.parse('2026-12-05T10:00:00Z');

function cluster(name: string, over: Partial<ClusterReadiness> = {}): ClusterReadiness {
  return { namespace: 'tkg', name, status: 'Healthy', verdict: 'ALLOW', ghostMachines: 0, staleMachines: 0, unknownMachines: 0, ...over };
}

function readiness(clusters: ClusterReadiness[]): BackupReadiness {
  return { restorable: clusters.every((c) => c.verdict === 'ALLOW'), status: 'Healthy', clusters, infraMachinesToConfirm: 0 };
}

/** A Backup object carrying the patch, as the API server would after the merge. */
function patched(uid: string, patch: any): any {
  return { apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: 'b1', namespace: 'velero', uid, ...patch.metadata } };
}

test('the summary names what blocks, drift before what nobody could confirm', (t) => {
  const blocked = verdictOfReadiness(
    readiness([
      cluster('prod', { status: 'ManualRemediationRequired', verdict: 'BLOCK', ghostMachines: 1 }),
      cluster('dev', { status: 'ManualRemediationRequired', verdict: 'BLOCK', ghostMachines: 2, unknownMachines: 1 }),
      cluster('lab', { status: 'NeedFurtherConfirmation', verdict: 'BLOCK', unknownMachines: 3 }),
      cluster('ok'),
    ]),
    AT,
  );
  t.is(blocked.verdict, 'Blocked');
  t.is(blocked.summary, '2 clusters blocked: tkg/prod (1 ghost), tkg/dev (2 ghosts, 1 machine unconfirmed)');
  const unconfirmed = verdictOfReadiness(
    readiness([cluster('lab', { status: 'NeedFurtherConfirmation', verdict: 'BLOCK', unknownMachines: 3 })]),
    AT,
  );
  t.is(unconfirmed.verdict, 'Unconfirmed');
  t.is(unconfirmed.summary, '1 cluster unconfirmed: tkg/lab (3 machines unconfirmed)');
  t.deepEqual(verdictOfReadiness(readiness([cluster('a'), cluster('b')]), AT), {
    verdict: 'Restorable',
    summary: '2 clusters would restore cleanly',
    analyzedAt: AT,
  });
  const many = verdictOfReadiness(
    readiness(
      Array.from({ length: 8 }, (_, i) => cluster(`c${i}`, { status: 'ManualRemediationRequired', verdict: 'BLOCK', ghostMachines: 1 })),
    ),
    AT,
  );
  t.true(many.summary.endsWith('tkg/c4 (1 ghost), and 3 more'));
  t.is(verdictOfFailure('NoSuchBucket: velero\nline two', AT).summary, 'analysis failed: NoSuchBucket: velero line two');
});

test("a verdict is trusted only as the service signed it, on that Backup's uid", (t) => {
  const verdict = verdictOfReadiness(
    readiness([cluster('prod', { status: 'ManualRemediationRequired', verdict: 'BLOCK', ghostMachines: 1 })]),
    AT,
  );
  const patch = verdictPatch(KEY, 'uid-1', verdict) as any;
  t.deepEqual(readVerdict(patched('uid-1', patch), KEY), { trusted: true, verdict });

  t.deepEqual(readVerdict(patched('uid-1', patch), OTHER_KEY), { trusted: false, reason: 'forged' }, 'another key');
  t.deepEqual(readVerdict(patched('uid-2', patch), KEY), { trusted: false, reason: 'forged' }, 'copied to another Backup');
  const relabelled = structuredClone(patch);
  relabelled.metadata.labels[VERDICT_LABEL] = 'Restorable';
  t.deepEqual(readVerdict(patched('uid-1', relabelled), KEY), { trusted: false, reason: 'forged' }, 'the label changed by hand');
  const reworded = structuredClone(patch);
  reworded.metadata.annotations[SUMMARY_ANNOTATION] = 'all fine';
  t.deepEqual(readVerdict(patched('uid-1', reworded), KEY), { trusted: false, reason: 'forged' }, 'the summary changed');
  const unsigned = structuredClone(patch);
  delete unsigned.metadata.annotations[SIGNATURE_ANNOTATION];
  t.deepEqual(readVerdict(patched('uid-1', unsigned), KEY), { trusted: false, reason: 'forged' }, 'no signature');
  t.deepEqual(readVerdict(patched('uid-1', { metadata: { labels: { [VERDICT_LABEL]: 'Restorable' } } }), KEY), {
    trusted: false,
    reason: 'forged',
  });
  t.deepEqual(readVerdict(patched('uid-1', { metadata: {} }), KEY), { trusted: false, reason: 'none' });
  t.deepEqual(readVerdict('not an object', KEY), { trusted: false, reason: 'none' });
});

test('the newest Completed backups, newest first; a completion past now plus the skew allowance is set apart', (t) => {
  const h = 3_600_000;
  const now = Date.parse('2026-12-05T12:00:00Z');
  const rec = (name: string, completedAt: number, phase = 'Completed') => ({ name, phase, completedAt });
  const recent = recentCompleted(
    [
      rec('a', now - 3 * h),
      rec('b', now - 2 * h),
      rec('c', now - h),
      rec('failed', now, 'Failed'),
      rec('ahead', now + 24 * h),
      rec('d', now - 4 * h),
    ],
    3,
    now + 5 * 60_000,
  );
  t.deepEqual(
    recent.backups.map((b) => [b.name, b.previousCompletedAt]),
    [
      ['c', now - 2 * h],
      ['b', now - 3 * h],
      ['a', now - 4 * h],
    ],
  );
  t.deepEqual(
    recent.future.map((b) => b.name),
    ['ahead'],
  );
  t.deepEqual(
    recentCompleted([rec('x', now + 60_000)], 3, now + 5 * 60_000).backups.map((b) => b.name),
    ['x'],
    'within the allowance',
  );
});
