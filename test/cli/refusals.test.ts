/**
 * Refusals that say their cause, from the command line: `serve` stops at start on a storage
 * location's credentials file that does not exist (naming the file and the key), and
 * `remediate --apply` with the report's vCenter unreachable says why it could not be listed
 * rather than that the Ghost is gone. The bundled example; no peer (the vCenter's name does not resolve here).
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runCli, tempDir } from '../helpers/scenario.js';

const BACKUP = resolve('examples/backup/my-backup-data.tar.gz');

test('serve with a storage location whose credentialsFile does not exist fails at start, naming the file and the key', async (t) => {
  const dir = await tempDir();
  const config = join(dir, 'serve.yaml');
  await writeFile(
    config,
    'listen: 127.0.0.1:0\nstorageLocations:\n  - name: primary\n    bucket: velero\n    s3Url: http://127.0.0.1:1\n    credentialsFile: ./no-such-cloud\n',
  );
  const result = await runCli(['serve', '--config', config]);
  t.is(result.code, 2);
  t.is(
    result.stderr,
    `Error: serve.yaml: storage location primary: credentialsFile: cannot read ${join(dir, 'no-such-cloud')} (no such file)\n`,
  );
});

test('remediate --apply with the vCenter unreachable says why (name not resolved), not that the Ghost is gone', async (t) => {
  const dir = await tempDir();
  const report = join(dir, 'report.json');
  const detect = await runCli([
    'detect',
    '--backup',
    BACKUP,
    '--inventory',
    resolve('examples/inventory.json'),
    '--skip-access-apiserver',
    '-o',
    report,
  ]);
  t.is(detect.code, 0, detect.stderr);
  const result = await runCli(['remediate', '--report', report, '--apply', '--yes', '--skip-access-apiserver', '--backup', BACKUP]);
  t.is(result.code, 2, result.stderr);
  t.regex(
    result.stdout,
    /^refused\tproduction\/prod-payments\tprod-payments-md-0-6d8f9c7b5-x2k4p\tvCenter vcenter\.example\.com could not be listed, so the Ghost cannot be re-verified: cannot resolve host vcenter\.example\.com \(\w+\)/m,
  );
  t.notRegex(result.stdout + result.stderr, /any more/);
});
