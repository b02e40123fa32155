/** The README's first command runs `detect` on the bundled example: keep it true. */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriftReport } from '../../src/model/report.js';
import { runCli, tempDir } from '../helpers/scenario.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

test('the bundled example shows a Ghost, a Stale, infrastructure machines and an out-of-scope VM', async (t) => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const args = pkg.scripts.example!.split('&&').pop()!.trim().split(/\s+/).slice(2);
  const output = join(await tempDir(), 'report.json');
  const result = await runCli(args.map((a) => (a === 'report.json' ? output : a.startsWith('examples/') ? join(root, a) : a)));
  t.is(result.code, 0, result.stderr);
  const report = JSON.parse(await readFile(output, 'utf8')) as DriftReport;
  t.is(report.summary.status, 'ManualRemediationRequired');
  t.deepEqual(report.summary.clusters, { total: 3, Healthy: 1, ManualRemediationNotRequired: 1, ManualRemediationRequired: 1, NeedFurtherConfirmation: 0 });
  t.is(report.summary.infraMachinesNeedFurtherConfirmation, 2);
  t.is(report.summary.outOfScopeVMs, 1);
  t.false(JSON.stringify(report).includes('example-only'), 'the vCenter password in the example backup never reaches the report');
});
