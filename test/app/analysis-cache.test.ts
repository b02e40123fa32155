import test from 'ava';
import { AnalysisCache, type AnalysisRequest, type RunAnalysis } from '../../src/app/analysis-cache.js';
import type { DomainError } from '../../src/app/errors.js';
import type { DriftReport } from '../../src/model/report.js';
import { report } from '../helpers/reports.js';

const request: AnalysisRequest = { location: 'default', backup: 'b1', skipAccessApiServer: true };

function controlled() {
  const runs: Array<{
    resolve(r: DriftReport): void;
    reject(e: unknown): void;
    progress(stage: 'backup' | 'vsphere'): void;
    signal: AbortSignal;
  }> = [];
  const run: RunAnalysis = (_req, hooks) =>
    new Promise<DriftReport>((resolve, reject) => {
      runs.push({ resolve, reject, progress: (stage) => hooks.onProgress({ stage, message: stage }), signal: hooks.signal });
    });
  return { runs, run };
}

const tick = () => new Promise((r) => setImmediate(r));

test('callers of one backup share the analysis in flight and its progress', async (t) => {
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000 });
  const seenA: string[] = [];
  const seenB: string[] = [];
  const a = cache.get(request, { onProgress: (e) => seenA.push(e.stage) });
  await tick();
  runs[0]!.progress('backup');
  const b = cache.get(request, { onProgress: (e) => seenB.push(e.stage) });
  runs[0]!.progress('vsphere');
  t.is(runs.length, 1);
  const r = report('x');
  runs[0]!.resolve(r);
  t.deepEqual(await a, { report: r, use: 'miss' });
  t.deepEqual(await b, { report: r, use: 'shared' });
  t.deepEqual(seenA, ['backup', 'vsphere']);
  t.deepEqual(seenB, ['backup', 'vsphere'], 'a late joiner gets the earlier events replayed');
});

test('different backups, locations or API-server access are different analyses', async (t) => {
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000 });
  void cache.get(request);
  void cache.get({ ...request, backup: 'b2' });
  void cache.get({ ...request, location: 'other' });
  void cache.get({ ...request, skipAccessApiServer: false });
  await tick();
  t.is(runs.length, 4);
  for (const r of runs) r.resolve(report('x'));
});

test('a finished report is reused until its TTL, then recomputed; refresh skips it', async (t) => {
  let now = 0;
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000, now: () => now });
  const first = cache.get(request);
  await tick();
  runs[0]!.resolve(report('first'));
  await first;
  now = 999;
  t.is((await cache.get(request)).use, 'cached');
  now = 1000;
  const expired = cache.get(request);
  await tick();
  t.is(runs.length, 2);
  runs[1]!.resolve(report('second'));
  t.is((await expired).report.metadata?.backup, 'second');
  const refreshed = cache.get(request, { refresh: true });
  await tick();
  t.is(runs.length, 3);
  runs[2]!.resolve(report('third'));
  t.is((await refreshed).use, 'miss');
});

test('a failure is shared and kept only for the failure TTL', async (t) => {
  let now = 0;
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000, now: () => now });
  const a = cache.get(request);
  const b = cache.get(request);
  await tick();
  runs[0]!.reject(new Error('bucket unreachable'));
  await t.throwsAsync(a, { message: 'bucket unreachable' });
  await t.throwsAsync(b, { message: 'bucket unreachable' });
  now = 50;
  await t.throwsAsync(cache.get(request), { message: 'bucket unreachable' });
  t.is(runs.length, 1);
  now = 100;
  const retried = cache.get(request);
  await tick();
  t.is(runs.length, 2);
  runs[1]!.resolve(report('ok'));
  t.is((await retried).report.metadata?.backup, 'ok');
});

test('a caller that gives up stops waiting; the analysis goes on for the others', async (t) => {
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000 });
  const controller = new AbortController();
  const quitter = cache.get(request, { signal: controller.signal });
  const stayer = cache.get(request);
  await tick();
  controller.abort(new Error('client went away'));
  await t.throwsAsync(quitter, { message: 'client went away' });
  t.false(runs[0]!.signal.aborted);
  runs[0]!.resolve(report('done'));
  t.is((await stayer).report.metadata?.backup, 'done');
  t.is((await cache.get(request)).use, 'cached');
});

test('the analysis timeout aborts the run and fails every waiter with a timeout', async (t) => {
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 50 });
  const waiting = cache.get(request);
  await tick();
  runs[0]!.signal.addEventListener('abort', () => runs[0]!.reject(new Error('aborted while reading')));
  const err = await t.throwsAsync<DomainError>(waiting);
  t.is(err.kind, 'timeout');
  t.regex(err.message, /backup b1 did not finish within 0.05 s/);
});

test('the number of finished entries is bounded', async (t) => {
  const run: RunAnalysis = async (req) => report(req.backup);
  const cache = new AnalysisCache({ run, ttlMs: 60_000, failureTtlMs: 100, timeoutMs: 10_000, maxEntries: 3 });
  for (let i = 0; i < 10; i++) await cache.get({ ...request, backup: `b${i}` });
  t.is(cache.size, 3);
  t.is((await cache.get({ ...request, backup: 'b9' })).use, 'cached');
  t.is((await cache.get({ ...request, backup: 'b0' })).use, 'miss');
});

test('new analyses beyond maxRunning are refused; joining a running one is not', async (t) => {
  const { runs, run } = controlled();
  const cache = new AnalysisCache({ run, ttlMs: 1000, failureTtlMs: 100, timeoutMs: 10_000, maxRunning: 2 });
  const a = cache.get({ ...request, backup: 'a' });
  const b = cache.get({ ...request, backup: 'b' });
  const err = await t.throwsAsync<DomainError>(cache.get({ ...request, backup: 'c' }));
  t.is(err.kind, 'busy');
  const joined = cache.get({ ...request, backup: 'a' });
  await tick();
  for (const r of runs) r.resolve(report('x'));
  await Promise.all([a, b, joined]);
  const c = cache.get({ ...request, backup: 'c' });
  await tick();
  runs[2]!.resolve(report('c'));
  t.is((await c).use, 'miss');
});
