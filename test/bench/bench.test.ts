/**
 * Smoke run of the benchmark (bench/) at the `quick` preset, end to end, so its code cannot rot.
 * It checks that every measure produced a number and that the detect reports found the fixture's
 * drift; it never asserts a speed.
 */
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, type BenchResults } from '../../bench/run.js';

test('the quick preset runs every measure and writes the results file', async (t) => {
  t.timeout(600_000);
  const dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const resultsPath = join(dir, 'results.json');
  const results = await runBench({ preset: 'quick', cacheDir: join(dir, 'cache'), resultsPath, log: (msg) => t.log(msg) });

  const ids = results.measures.map((m) => m.id);
  t.deepEqual(ids, [
    'scan.time',
    'scan.rss.small',
    'scan.rss.full',
    'inventory.walk',
    'inventory.walk.warm',
    'detect.time',
    'detect.rss',
    'detect.startup',
    'detect.growth',
    'service.execute.p50',
    'service.execute.p99',
    'service.execute.rate',
    'service.admission.cold',
    'service.admission.p50',
    'service.admission.p99',
    'service.detect.cold',
    'service.detect.warm',
    'plugin.start',
    'plugin.rss.handshake',
    'plugin.rss.remote',
    'plugin.rss.local',
    'plugin.rss.warm',
    'readiness.cycle.cpu',
    'readiness.cycle.rss',
    'readiness.admission.p50',
    'readiness.admission.p99',
    'replicas.admission.p50',
    'replicas.admission.p99',
    'replicas.handover.term',
    'replicas.handover.kill',
    'unpause.time',
    'unpause.rss',
    'hostile.secrets.rss',
    'hostile.paging.rss',
    'patterns.scope.attack',
    'patterns.scope.budget',
    'patterns.ignore.attack',
  ]);
  for (const m of results.measures) {
    t.true(Number.isFinite(m.ours) && m.ours > 0, `${m.id}: ours = ${m.ours}`);
    t.true(Number.isFinite(m.baseline) && m.baseline > 0, `${m.id}: baseline = ${m.baseline}`);
    t.true(Number.isFinite(m.ratio), `${m.id}: ratio = ${m.ratio}`);
    t.false(/NaN|Infinity/.test(m.note ?? ''), `${m.id}: ${m.note}`);
  }
  // The plugin's rows: medians of at least 5 runs, bare node measured in the same runs, and the
  // targets that do not grow with the backup judged even at this preset.
  for (const m of results.measures.filter((m) => m.id.startsWith('plugin.'))) {
    t.true(m.samples.ours.length >= 5 && m.samples.baseline.length >= 5, `${m.id}: ${m.samples.ours.length} runs`);
    t.regex(m.baselineLabel, /node -e ''/);
  }
  for (const id of ['plugin.start', 'plugin.rss.handshake', 'plugin.rss.remote']) {
    const m = results.measures.find((m) => m.id === id)!;
    t.true(m.target?.anyScale === true && typeof m.met === 'boolean', id);
    t.regex(results.table, new RegExp(`\\| ${m.label} .*\\| (yes|NO) +\\|$`, 'm'), id);
  }
  for (const [preset, check] of Object.entries(results.reportChecks)) t.true(check.ok, `${preset}: ${JSON.stringify(check)}`);

  const written = JSON.parse(await readFile(resultsPath, 'utf8')) as BenchResults;
  t.is(written.measures.length, ids.length);
  t.regex(written.table, /\| measure +\| ours +\| baseline +\| ratio +\| target +\| met\? +\|/);
  t.true(written.machine.nproc > 0);
});
