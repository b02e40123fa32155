/**
 * Where `-o` writes, for `detect`, `remediate` and `baseline`: `-o -` is standard output (a pipe),
 * a symlink or a device is written through and stays what it was, each written file is named with
 * its format, and a missing directory is named without a temporary file's name. The bundled
 * example with its inventory snapshot: no peer.
 */
import test from 'ava';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import { runCli, tempDir } from '../helpers/scenario.js';

const EXAMPLE = ['--backup', resolve('examples/backup/my-backup-data.tar.gz'), '--inventory', resolve('examples/inventory.json')];
const detect = (...args: string[]) => runCli(['detect', ...EXAMPLE, '--skip-access-apiserver', ...args]);

test('detect -o -: the JSON report on stdout parses, the summary goes to stderr', async (t) => {
  const result = await detect('-o', '-');
  t.is(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as DriftReport;
  t.is(report.summary.status, 'ManualRemediationRequired');
  t.regex(result.stderr, /^Summary/);
  t.regex(result.stderr, /JSON report written to standard output/);
  const twice = await detect('-o', '-', '--format', 'json,html', '-o', '-');
  t.is(twice.code, 2);
  t.regex(twice.stderr, /-o - \(standard output\) can be given once/);
});

test('detect with two -o files names each with its format', async (t) => {
  const dir = await tempDir();
  const result = await detect('-o', join(dir, 'x.json'), '-o', join(dir, 'x.html'));
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, new RegExp(`JSON report written to ${join(dir, 'x.json')}\\n`));
  t.regex(result.stdout, new RegExp(`HTML report written to ${join(dir, 'x.html')}\\n`));
  t.notRegex(result.stdout, /JSON report written to .*x\.html/);
  const htmlOnly = await detect('-o', join(dir, 'only.html'));
  t.regex(htmlOnly.stdout, /HTML report written to .*only\.html/);
  t.notRegex(htmlOnly.stdout, /JSON report/);
});

test('-o through a symlink to a file: the link stays a link, the file it names gets the report', async (t) => {
  const dir = await tempDir();
  const target = join(dir, 'shared-report.json');
  await writeFile(target, 'old');
  const link = join(dir, 'latest.json');
  await symlink(target, link);
  const result = await detect('-o', link);
  t.is(result.code, 0, result.stderr);
  t.true((await lstat(link)).isSymbolicLink(), 'the symlink is not replaced by a file');
  t.is(await readlink(link), target);
  t.is((JSON.parse(await readFile(target, 'utf8')) as DriftReport).summary.status, 'ManualRemediationRequired');
});

test('-o a /dev/stdout-like link to a device, and a link to a file (as /dev/stdout is under `> file`)', async (t) => {
  const dir = await tempDir();
  const toNull = join(dir, 'null-out');
  await symlink('/dev/null', toNull);
  const devNull = await detect('-o', toNull);
  t.is(devNull.code, 0, devNull.stderr);
  t.true((await lstat(toNull)).isSymbolicLink());
  t.true((await lstat('/dev/null')).isCharacterDevice());

  // /dev/stdout -> /proc/self/fd/1 -> the shell's file: two links, written through to the file.
  const file = join(dir, 'redirected.json');
  await writeFile(file, '');
  const fd = join(dir, 'fd1');
  await symlink(file, fd);
  const stdoutLike = join(dir, 'stdout');
  await symlink(fd, stdoutLike);
  const result = await detect('-o', stdoutLike);
  t.is(result.code, 0, result.stderr);
  t.true((await lstat(stdoutLike)).isSymbolicLink());
  t.true((await lstat(fd)).isSymbolicLink());
  t.is((JSON.parse(await readFile(file, 'utf8')) as DriftReport).summary.status, 'ManualRemediationRequired');
});

test('remediate and baseline: -o - on stdout, -o through a symlink, a named file, a missing directory named', async (t) => {
  const dir = await tempDir();
  const reportPath = join(dir, 'report.json');
  t.is((await detect('-o', reportPath)).code, 0);

  const plan = await runCli(['remediate', '--report', reportPath, '--format', 'json', '-o', '-']);
  t.is(plan.code, 0, plan.stderr);
  t.true(Array.isArray((JSON.parse(plan.stdout) as { entries: unknown[] }).entries));
  const planFile = await runCli(['remediate', '--report', reportPath, '--format', 'sh', '-o', join(dir, 'plan.sh')]);
  t.is(planFile.stdout, `Remediation plan (sh) written to ${join(dir, 'plan.sh')}\n`);
  t.regex(await readFile(join(dir, 'plan.sh'), 'utf8'), /^#!/);

  const baselineOut = await runCli(['baseline', '--report', reportPath, '-o', '-']);
  t.is(baselineOut.code, 0, baselineOut.stderr);
  t.regex(baselineOut.stdout, /analytics-control-plane-8wq2n/);
  await mkdir(join(dir, 'kept'));
  await writeFile(join(dir, 'kept', 'ignore.txt'), '');
  await symlink(join(dir, 'kept', 'ignore.txt'), join(dir, 'ignore-link.txt'));
  const linked = await runCli(['baseline', '--report', reportPath, '-o', join(dir, 'ignore-link.txt')]);
  t.is(linked.stdout, `Ignore file written to ${join(dir, 'ignore-link.txt')}\n`);
  t.true((await lstat(join(dir, 'ignore-link.txt'))).isSymbolicLink());
  t.regex(await readFile(join(dir, 'kept', 'ignore.txt'), 'utf8'), /analytics-control-plane-8wq2n/);

  const missing = join(dir, 'no-such-dir');
  for (const args of [
    ['remediate', '--report', reportPath, '-o', join(missing, 'plan.sh')],
    ['baseline', '--report', reportPath, '-o', join(missing, 'ignore.txt')],
    ['detect', ...EXAMPLE, '--skip-access-apiserver', '-o', join(missing, 'r.json')],
  ]) {
    const result = await runCli(args);
    t.is(result.code, 2, args[0]);
    t.regex(result.stderr, new RegExp(`cannot write ${missing}/\\S+: the directory ${missing} does not exist`), args[0]);
    t.notRegex(result.stderr, /ENOENT|\.tmp/, args[0]);
  }
});
