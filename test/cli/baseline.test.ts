/**
 * `drift-detector baseline` and `detect --ignore-file` when the input is wrong: a file that is not a
 * drift report, an unreadable ignore file, a line that is no pattern. Each is an error naming the
 * file (and the line), before any backup or vCenter is read.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/scenario.js';
import { driftedReport } from '../helpers/remediate-report.js';

test('baseline refuses a file that is not a drift report, naming it', async (t) => {
  const dir = await tempDir('drift-baseline-');
  const notReport = join(dir, 'inventory.json');
  await writeFile(notReport, JSON.stringify({ kind: 'DriftDetectorInventory', version: 1, vcenters: [] }));
  const result = await runCli(['baseline', '--report', notReport]);
  t.is(result.code, 2);
  t.is(result.stdout, '');
  t.is(result.stderr, `Error: ${notReport} is not a drift report (written by drift-detector detect)\n`);

  const missing = await runCli(['baseline', '--report', join(dir, 'nope.json')]);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /cannot read the report .*nope\.json/);

  const none = await runCli(['baseline']);
  t.is(none.code, 2);
  t.regex(none.stderr, /--report <file> not given/);
});

test('baseline of a report that already ignored VMs says so: those VMs are not in it', async (t) => {
  const dir = await tempDir('drift-baseline-');
  const report = driftedReport();
  report.summary.ignoredVMs = 2;
  report.metadata = { ...report.metadata!, ignoreFile: '.driftignore' };
  const path = join(dir, 'report.json');
  await writeFile(path, JSON.stringify(report));
  const result = await runCli(['baseline', '--report', path]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^# The report already ignored 2 VMs by \.driftignore: they are not listed here; keep that file too\.$/m);
  t.regex(result.stderr, /already ignored 2 VM\(s\) by \.driftignore.*append \(>>\)/);
});

for (const [title, content, message] of [
  ['an unterminated [', '# known\njumpbox\n/DC0/vm/[tools\n', 'line 3: pattern "/DC0/vm/[tools": unterminated [ at column 9'],
  ['a lone !', 'jumpbox\n\n!\n', 'line 3: ! with no pattern after it'],
] as const) {
  test(`detect --ignore-file with ${title}: an error naming the file and line, nothing read or written`, async (t) => {
    const dir = await tempDir('drift-ignore-');
    const ignoreFile = join(dir, '.driftignore');
    await writeFile(ignoreFile, content);
    const out = join(dir, 'report.json');
    const result = await runCli(['detect', '--backup', join(dir, 'no-backup.tar.gz'), '-o', out, '--ignore-file', ignoreFile]);
    t.is(result.code, 2);
    t.is(result.stderr, `Error: ignore file ${ignoreFile} ${message}\n`);
  });
}

test('detect --ignore-file with a file that cannot be read: an error naming it', async (t) => {
  const dir = await tempDir('drift-ignore-');
  const result = await runCli([
    'detect',
    '--backup',
    join(dir, 'no-backup.tar.gz'),
    '-o',
    join(dir, 'r.json'),
    '--ignore-file',
    join(dir, 'missing'),
  ]);
  t.is(result.code, 2);
  t.regex(result.stderr, new RegExp(`^Error: cannot read the ignore file ${dir}/missing: ENOENT`));
});
