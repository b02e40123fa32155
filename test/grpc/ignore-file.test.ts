/**
 * `serve` with `analysis.ignoreFile`: the file is read once at start (a bad one stops the start,
 * naming file and line), every analysis applies it, and the report carries the ignored count.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { tempDir } from '../helpers/scenario.js';
import { call, FakeDetection, standardReport, startTestService, testConfig } from './helpers.js';

test('analysis.ignoreFile: read at start, relative to the configuration file, and given to every analysis', async (t) => {
  const dir = await tempDir('drift-serve-ignore-');
  await writeFile(join(dir, 'driftignore'), '# known\n/DC0/vm/tools/\n');
  await writeFile(join(dir, 'bsl.yaml'), 'bucket: b\n');
  await writeFile(join(dir, 'config.yaml'), 'storageLocations: [{ name: default, file: bsl.yaml }]\nanalysis: { ignoreFile: driftignore }\n');
  const config = await loadServiceConfig({ env: {}, file: join(dir, 'config.yaml') });
  t.is(config.analysis.ignoreFile, join(dir, 'driftignore'));

  const fake = new FakeDetection();
  const report = standardReport('b1');
  report.summary.ignoredVMs = 2;
  fake.reports.set('b1', report);
  const service = await startTestService({
    deps: fake.deps(),
    config: { analysis: { ...testConfig().analysis, ignoreFile: config.analysis.ignoreFile! } },
  });
  t.teardown(() => service.stop());
  const res = await call<{ report: { summary: { ignored_vms: number } } }>(service.clients.detector, 'Detect', { backup_name: 'b1' });
  t.is(res.report.summary.ignored_vms, 2);
  const ignore = fake.calls[0]!.options.ignore!;
  t.is(ignore.source, join(dir, 'driftignore'));
  t.deepEqual(
    ignore.rules.map((r) => [r.line, r.pattern]),
    [[2, '/DC0/vm/tools/']],
  );
});

test('analysis.ignoreFile with a bad line: the service does not start, and says which file and line', async (t) => {
  const dir = await tempDir('drift-serve-ignore-');
  const file = join(dir, 'driftignore');
  await writeFile(file, 'jumpbox\n[unclosed\n');
  const fake = new FakeDetection();
  await t.throwsAsync(startTestService({ deps: fake.deps(), config: { analysis: { ...testConfig().analysis, ignoreFile: file } } }), {
    message: `ignore file ${file} line 2: pattern "[unclosed": unterminated [ at column 1`,
  });
});
