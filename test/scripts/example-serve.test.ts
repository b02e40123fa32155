/**
 * `npm run example:serve`, the service's "try it": the script starts serve on the bundled example
 * (a local bucket directory, the inventory snapshot, the webhook with a certificate made at run
 * time) and shows the denial, the `check` verdict and the readiness metrics of its real drift,
 * then stops the service and exits 0. It starts no peer but the service itself.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../plugin/helpers.js';

function runScript(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'scripts/example-serve.mjs')], { timeout: 110_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('example:serve shows the denial, the check verdict and the readiness metrics, and exits 0', async (t) => {
  const result = await runScript();
  t.is(result.code, 0, result.stderr + result.stdout);
  t.regex(result.stdout, /allowed: false, code 403/);
  t.regex(
    result.stdout,
    /Cluster production\/prod-payments: ManualRemediationRequired; ghost machines \(VMs with no object in the backup\): prod-payments-md-0-6d8f9c7b5-x2k4p/,
  );
  t.regex(
    result.stdout,
    /^BLOCK {2}backup file:\/\/.*\/bucket\/backups\/my-backup-data\/my-backup-data\.tar\.gz \(ManualRemediationRequired\)$/m,
  );
  t.regex(result.stdout, /^ {2}BLOCK +production\/prod-payments +ManualRemediationRequired/m);
  t.regex(result.stdout, /^drift_detector_backup_restorable\{storage_location="default",backup="my-backup-data"\} 0$/m);
  t.regex(
    result.stdout,
    /^drift_detector_backup_ghost_machines\{storage_location="default",backup="my-backup-data",cluster="production\/prod-payments"\} 1$/m,
  );
  t.regex(result.stdout, /== stopping the service\nexit 0\n/);
  t.notRegex(result.stdout, /NeedFurtherConfirmation/);
});

test('npm run example:serve builds, then runs the script', async (t) => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.is(pkg.scripts['example:serve'], 'npm run build && node scripts/example-serve.mjs');
});
