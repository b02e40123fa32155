/**
 * The operator's vCenter password goes only to a vCenter the operator trusts; a thumbprint pinned
 * in a (possibly tampered) backup vouches for the backup's own credentials only. `detect` against
 * a loopback fake vim25 server that records every call, Login included.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import { buildBackup } from '../fixtures/builder.js';
import { runCli, tempDir, tkgCluster, type CliResult } from '../helpers/scenario.js';
import { startFakeVim, type FakeVim } from './fake-vim.js';

const OPERATOR_PASSWORD = 'operator-s3cret-password';

async function fakeVim(t: { teardown: (fn: () => Promise<void>) => void }): Promise<FakeVim> {
  const fake = await startFakeVim({ vms: [], pageSize: 0 });
  t.teardown(() => fake.stop());
  return fake;
}

/** A backup whose vCenter is the fake, with its thumbprint pinned (or none) and its own password. */
async function backupAt(fake: FakeVim, pin: 'pinned' | 'none' = 'pinned'): Promise<string> {
  const vcenter = { server: fake.server, datacenter: '/DC1', ...(pin === 'pinned' ? { thumbprint: fake.thumbprint } : {}) };
  return (await buildBackup({ clusters: [tkgCluster('wc1', { vcenter: { ...vcenter, password: 'backup-password' } })] })).path;
}

async function detect(backup: string, flags: string[], env: NodeJS.ProcessEnv = {}): Promise<{ result: CliResult; report: DriftReport }> {
  const dir = await tempDir();
  const output = join(dir, 'report.json');
  const result = await runCli(['detect', '--backup', backup, '-o', output, '--skip-access-apiserver', '-D', ...flags], env);
  const report = JSON.parse(await readFile(output, 'utf8').catch(() => `{"error": ${JSON.stringify(result.stderr)}}`)) as DriftReport;
  return { result, report };
}

const operator = { VSPHERE_USERNAME: 'operator@vsphere.local', VSPHERE_PASSWORD: OPERATOR_PASSWORD };
const logins = (fake: FakeVim) => fake.calls.filter((c) => c.method === 'Login');

test("the backup's own credentials go where the backup's thumbprint says", async (t) => {
  const fake = await fakeVim(t);
  const { result } = await detect(await backupAt(fake), []);
  t.is(result.code, 0, result.stderr);
  t.is(logins(fake).length, 1);
  t.true(logins(fake)[0]!.body.includes('backup-password'));
});

test("the operator's password does not go to a vCenter only the backup pins: nothing is sent, one clear error", async (t) => {
  const fake = await fakeVim(t);
  const { result, report } = await detect(await backupAt(fake), [], operator);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(fake.calls, [], 'not even RetrieveServiceContent: the TLS handshake was refused');
  t.deepEqual(
    report.errors.map((e) => e.scope),
    [`vcenter:${fake.server}`],
  );
  const message = report.errors[0]!.message;
  t.regex(message, new RegExp(`^the operator's vSphere credentials were not sent to ${fake.server}: `));
  for (const flag of [`--vsphere-thumbprint ${fake.server}=`, `--vsphere-trusted-host ${fake.server}`, '--vsphere-ca-file']) {
    t.true(message.includes(flag), flag);
  }
  const machines = report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]);
  t.true(machines.length > 0 && machines.every((m) => m.status === 'Unknown'));
  for (const text of [result.stdout, result.stderr, JSON.stringify(report)]) t.false(text.includes(OPERATOR_PASSWORD));
});

test("a per-vCenter password from --vsphere-credentials is the operator's too", async (t) => {
  const fake = await fakeVim(t);
  const dir = await tempDir();
  const file = join(dir, 'vcenters.yaml');
  await writeFile(file, `"${fake.server}": { username: operator, password: ${OPERATOR_PASSWORD} }\n`);
  const { report } = await detect(await backupAt(fake), ['--vsphere-credentials', file]);
  t.deepEqual(fake.calls, []);
  t.regex(report.errors[0]!.message, /operator's vSphere credentials were not sent/);
});

test("a host the operator lists gets the Login on the backup's thumbprint", async (t) => {
  const fake = await fakeVim(t);
  const { result, report } = await detect(await backupAt(fake), ['--vsphere-trusted-host', fake.server], operator);
  t.is(result.code, 0, result.stderr);
  t.is(logins(fake).length, 1);
  t.true(logins(fake)[0]!.body.includes(OPERATOR_PASSWORD));
  t.deepEqual(report.errors, []);
});

test("a thumbprint the operator gives trusts the vCenter, and wins over the backup's", async (t) => {
  const fake = await fakeVim(t);
  const { result } = await detect(await backupAt(fake, 'none'), ['--vsphere-thumbprint', `${fake.server}=${fake.thumbprint256}`], operator);
  t.is(result.code, 0, result.stderr);
  t.is(logins(fake).length, 1);

  const wrong = Array.from({ length: 32 }, () => 'AB').join(':');
  const refused = await detect(await backupAt(fake), ['--vsphere-thumbprint', `${fake.server}=${wrong}`], operator);
  t.is(logins(fake).length, 1, 'no second Login');
  t.regex(refused.report.errors[0]!.message, /thumbprint mismatch/);
});

test('a certificate that verifies against the CA the operator gives is trusted', async (t) => {
  const fake = await fakeVim(t);
  const dir = await tempDir();
  const ca = join(dir, 'ca.pem');
  await writeFile(ca, fake.certPem);
  const { result } = await detect(await backupAt(fake, 'none'), ['--vsphere-ca-file', ca], operator);
  t.is(result.code, 0, result.stderr);
  t.is(logins(fake).length, 1);
});

test("--insecure-skip-verify accepts any certificate, for the operator's credentials too", async (t) => {
  const fake = await fakeVim(t);
  await detect(await backupAt(fake), ['--insecure-skip-verify'], operator);
  t.is(logins(fake).length, 1);
});

test('a bad trust flag is refused by name before anything is read', async (t) => {
  const backup = join(await tempDir(), 'none.tar.gz');
  const bad = await runCli(['detect', '--backup', backup, '-o', join(await tempDir(), 'r.json'), '--vsphere-thumbprint', 'vc01=XYZ']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--vsphere-thumbprint vc01: invalid vCenter thumbprint "XYZ"/);
  const noServer = await runCli(['detect', '--backup', backup, '-o', join(await tempDir(), 'r.json'), '--vsphere-thumbprint', 'AB:CD']);
  t.regex(noServer.stderr, /--vsphere-thumbprint AB:CD: expected server=thumbprint/);
});
