/**
 * `.ci/run` on a machine where it cannot install its Debian packages: one clear sentence and exit 1,
 * before npm or the tests. Fake dpkg-query / id / apt-get on PATH stand in for such a machine.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';

interface Machine {
  uid: number;
  /** The fake apt-get's script body; none: no apt-get at all. */
  aptGet?: string;
}

/** A PATH holding only what .ci/run needs before it installs, with every package reported missing. */
async function machine(m: Machine): Promise<string> {
  const bin = join(await tempDir('drift-ci-'), 'bin');
  await mkdir(bin);
  for (const tool of ['dirname', 'grep', 'cat', 'bash'])
    await symlink(join('/usr/bin', tool), join(bin, tool)).catch(() => symlink(join('/bin', tool), join(bin, tool)));
  const script = async (name: string, body: string) => {
    await writeFile(join(bin, name), `#!/bin/bash\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  };
  await script('dpkg-query', 'exit 1');
  await script('id', `case "$1" in -u) echo ${m.uid} ;; -un) echo builder ;; esac`);
  await script('npm', 'echo "npm must not run" >&2; exit 99');
  if (m.aptGet !== undefined) await script('apt-get', m.aptGet);
  return bin;
}

function ciRun(path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(join(ROOT, '.ci', 'run'), [], { env: { PATH: path }, timeout: 30_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const FIRST = '.ci/run: cannot install the Debian packages the tests need: ';

test('no apt-get: says it is not a Debian-like system, exit 1, nothing else runs', async (t) => {
  const result = await ciRun(await machine({ uid: 0 }));
  t.is(result.code, 1, result.stderr);
  t.true(result.stderr.startsWith(`${FIRST}there is no apt-get (this is not a Debian-like system).\n`), result.stderr);
  t.regex(result.stderr, /about 700 MiB .* running drift-detector needs none of them/);
  t.false(result.stderr.includes('npm must not run'));
});

test('not root: says apt-get needs root, and never calls it', async (t) => {
  const result = await ciRun(await machine({ uid: 1000, aptGet: 'echo "apt-get must not run" >&2; exit 100' }));
  t.is(result.code, 1, result.stderr);
  t.true(result.stderr.startsWith(`${FIRST}apt-get needs root, and this runs as builder.\n`), result.stderr);
  t.false(result.stderr.includes('must not run'));
});

test('apt-get fails (its lock held): a sentence after its own words, exit 1', async (t) => {
  const lock = 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100';
  const result = await ciRun(await machine({ uid: 0, aptGet: lock }));
  t.is(result.code, 1, result.stderr);
  t.true(result.stderr.includes(`E: Could not get lock`));
  t.true(result.stderr.includes(`${FIRST}apt-get update failed (see above).\n`), result.stderr);
  t.false(result.stderr.includes('npm must not run'));
});
