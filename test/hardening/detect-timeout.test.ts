/**
 * `detect --timeout` bounds the whole run: against a vCenter that pages forever (and answers each
 * request in time), detect stops at the deadline with a clear error instead of running on.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildBackup } from '../fixtures/builder.js';
import { startFakeVim } from '../vsphere/fake-vim.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

test('detect --timeout stops a run that a vCenter keeps going, naming the bound', async (t) => {
  const fake = await startFakeVim({ vms: [], pageSize: 200, endless: true });
  const dir = await mkdtemp(join(tmpdir(), 'drift-timeout-'));
  t.teardown(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const vcenter = {
    server: fake.server,
    thumbprint: fake.thumbprint,
    datacenter: '/DC1',
    folder: '/DC1/vm/tkg',
    resourcePool: '/DC1/host/C1/Resources/tkg',
    username: 'admin',
    password: 'Pa55-timeout',
  };
  const backup = join(dir, 'b.tar.gz');
  await buildBackup({ clusters: [{ name: 'wc1', vcenter, controlPlane: 1, workers: 1 }] }, { path: backup });
  const started = Date.now();
  const err = await t.throwsAsync<Error & { code: number; stderr: string }>(
    promisify(execFile)(
      process.execPath,
      [MAIN, 'detect', '--backup', backup, '-o', join(dir, 'r.json'), '--skip-access-apiserver', '--timeout', '3s'],
      {
        timeout: 60_000,
      },
    ),
  );
  const elapsed = Date.now() - started;
  t.is(err.code, 2, err.stderr);
  t.regex(err.stderr, /detect did not finish within 3s; raise --timeout/);
  t.false(err.stderr.includes('Pa55-timeout'));
  t.true(elapsed < 15_000, `took ${elapsed} ms`);
});
