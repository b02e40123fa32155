/**
 * Who may call: bearer token (constant-time compared), TLS and mutual TLS with certificates made
 * by the openssl CLI, loopback-only without TLS, and the `check` client with each of them.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { status, type ServiceError } from '@grpc/grpc-js';
import { loadServiceSecrets } from '../../src/serve/start.js';
import { sameSecret } from '../../src/rpc/bearer.js';
import { loadServiceConfig, type ServiceConfig } from '../../src/app/service-config.js';
import {
  call,
  clusterItem,
  collect,
  executeRequest,
  FakeDetection,
  listServices,
  makeClients,
  standardReport,
  startTestService,
  testConfig,
  type TestService,
} from './helpers.js';
import { veleroRestore } from '../helpers/velero.js';
import { makePki, type Pki } from './pki.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

let pki: Pki;
let tokenFile: string;
const token = randomBytes(24).toString('base64url');

test.before(async () => {
  pki = await makePki();
  tokenFile = join(pki.dir, 'token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
});

test.after.always(async () => {
  await pki?.remove();
});

async function secured(
  t: { teardown(fn: () => Promise<void> | void): void },
  options: { tls?: 'server' | 'mutual'; token?: boolean; channel?: grpc.ChannelCredentials },
): Promise<{ service: TestService; fake: FakeDetection }> {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  const config = testConfig({
    ...(options.tls
      ? { tls: { certFile: pki.serverCert, keyFile: pki.serverKey, ...(options.tls === 'mutual' ? { clientCAFile: pki.caCert } : {}) } }
      : {}),
    ...(options.token ? { tokenFile } : {}),
  });
  const secrets = await loadServiceSecrets(config, {});
  const service = await startTestService({ config, secrets, deps: fake.deps(), ...(options.channel ? { channel: options.channel } : {}) });
  t.teardown(() => service.stop());
  return { service, fake };
}

function bearer(value: string): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', value);
  return m;
}

async function tlsChannel(withClientCert: 'none' | 'trusted' | 'stranger' = 'none'): Promise<grpc.ChannelCredentials> {
  const ca = await readFile(pki.caCert);
  if (withClientCert === 'none') return grpc.credentials.createSsl(ca);
  const key = await readFile(withClientCert === 'trusted' ? pki.clientKey : pki.strangerKey);
  const cert = await readFile(withClientCert === 'trusted' ? pki.clientCert : pki.strangerCert);
  return grpc.credentials.createSsl(ca, key, cert);
}

// ---------------------------------------------------------------------------------------------
// Bearer token

test('without the token every service but health answers UNAUTHENTICATED', async (t) => {
  const { service, fake } = await secured(t, { token: true });
  const { detector, riaV1, riaV2, health, reflection } = service.clients;
  const refused: Array<Promise<unknown>> = [
    call(detector, 'Detect', { backup_name: 'b1' }),
    call(detector, 'Check', { backup_name: 'b1' }),
    collect(detector, 'DetectStream', { backup_name: 'b1' }),
    call(riaV1, 'AppliesTo', { plugin: 'p' }),
    call(riaV2, 'Execute', executeRequest(clusterItem('default', 'wc-ok'), veleroRestore('b1'))),
  ];
  for (const attempt of refused) {
    const err = await t.throwsAsync<ServiceError>(attempt);
    t.is(err.code, status.UNAUTHENTICATED);
    t.regex(err.details, /authorization: Bearer <token>/);
  }
  await t.throwsAsync(listServices(reflection), { message: /authorization/ });
  t.is(fake.calls.length, 0);
  const res = await call<{ status: string }>(health, 'check', { service: '' });
  t.is(res.status, 'SERVING', 'probes need no token');
});

test('a wrong or malformed token is refused; the right one is accepted', async (t) => {
  const { service } = await secured(t, { token: true });
  for (const value of [`Bearer ${token}x`, `Bearer ${token.slice(1)}`, token, `Basic ${token}`, 'Bearer ']) {
    const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Detect', { backup_name: 'b1' }, { metadata: bearer(value) }));
    t.is(err.code, status.UNAUTHENTICATED, value.slice(0, 12));
  }
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1' }, { metadata: bearer(`Bearer ${token}`) });
  t.is(res.verdict, 'BLOCK');
  const lower = await call<any>(service.clients.riaV1, 'AppliesTo', { plugin: 'p' }, { metadata: bearer(`bearer ${token}`) });
  t.true(lower.ResourceSelector.includedResources.includes('clusters.cluster.x-k8s.io'));
  const names = await listServices(service.clients.reflection, bearer(`Bearer ${token}`));
  t.true(names.includes('driftdetector.v1.DriftDetector'));
  t.false(
    service.logs.some((l) => l.includes(token)),
    'the token never reaches the logs',
  );
});

test('sameSecret compares whole values of any length', (t) => {
  t.true(sameSecret('abc', 'abc'));
  t.false(sameSecret('abc', 'abcd'));
  t.false(sameSecret('', 'abc'));
});

// ---------------------------------------------------------------------------------------------
// TLS

test('TLS: a client that trusts the CA is served; a plaintext client is not', async (t) => {
  const { service } = await secured(t, { tls: 'server', channel: await tlsChannel() });
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1' });
  t.is(res.verdict, 'BLOCK');
  const plain = makeClients(service.running.address, grpc.credentials.createInsecure());
  t.teardown(() => plain.close());
  const err = await t.throwsAsync<ServiceError>(call(plain.detector, 'Check', { backup_name: 'b1' }, { deadlineMs: 3000 }));
  t.true([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.INTERNAL].includes(err.code), `code ${err.code}`);
});

test("mutual TLS: a client certificate from the CA is accepted, none or a stranger's is refused", async (t) => {
  const { service } = await secured(t, { tls: 'mutual', token: true, channel: await tlsChannel('trusted') });
  const res = await call<any>(service.clients.riaV2, 'Execute', executeRequest(clusterItem('default', 'wc-ok'), veleroRestore('b1')), {
    metadata: bearer(`Bearer ${token}`),
  });
  t.is(JSON.parse(Buffer.from(res.item).toString())['metadata']['annotations']['driftdetector.dev/status'], 'Healthy');
  for (const who of ['none', 'stranger'] as const) {
    const other = makeClients(service.running.address, await tlsChannel(who));
    t.teardown(() => other.close());
    const err = await t.throwsAsync<ServiceError>(call(other.health, 'check', { service: '' }, { deadlineMs: 3000 }));
    t.true([status.UNAVAILABLE, status.DEADLINE_EXCEEDED].includes(err.code), `${who}: code ${err.code}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Where it listens

test('without TLS only loopback addresses are accepted', async (t) => {
  const base = { storageLocation: undefined };
  const dir = pki.dir;
  const location = join(dir, 'loc.yaml');
  await writeFile(location, 'bucket: velero\n');
  for (const listen of ['0.0.0.0:50051', '10.1.2.3:50051', '[::]:50051', 'example.com:50051']) {
    await t.throwsAsync(loadServiceConfig({ overrides: { ...base, listen, storageLocation: location }, env: {} }), {
      message: new RegExp(`^--listen: ${listen.replace(/[[\].]/g, '\\$&')} is not a loopback address`),
    });
  }
  for (const listen of ['127.0.0.1:50051', '[::1]:50051', 'localhost:50051', 'unix:/tmp/drift.sock']) {
    const config = await loadServiceConfig({ overrides: { listen, storageLocation: location }, env: {} });
    t.is(config.listen, listen);
  }
  const withTls = await loadServiceConfig({
    overrides: { listen: '0.0.0.0:50051', storageLocation: location, tlsCert: pki.serverCert, tlsKey: pki.serverKey },
    env: {},
  });
  t.is(withTls.tls?.certFile, pki.serverCert);
});

test('the vCenters trusted with the configured credentials are read at start, keyed as vCenters are compared', async (t) => {
  const sha256 = Array.from({ length: 32 }, () => 'AB').join(':');
  const trusted = (vsphere: ServiceConfig['vsphere']) => loadServiceSecrets(testConfig({ vsphere }), {});
  const secrets = await trusted({ caFile: pki.caCert, thumbprints: [['VC1.example.com:443', sha256]], trustedHosts: ['https://vc2:8443/sdk'] });
  t.deepEqual(secrets.vcenterCredentials.trust, {
    ca: await readFile(pki.caCert, 'utf8'),
    thumbprints: { 'vc1.example.com': sha256 },
    hosts: ['vc2:8443'],
  });
  await t.throwsAsync(trusted({ thumbprints: [['vc1', 'XYZ']] }), {
    message: /^test: vsphere\.thumbprints vc1: invalid vCenter thumbprint "XYZ"/,
  });
  await t.throwsAsync(trusted({ caFile: tokenFile }), { message: `test: vsphere.caFile ${tokenFile}: holds no PEM certificate` });
  await t.throwsAsync(trusted({ caFile: join(pki.dir, 'absent') }), {
    message: /^test: vsphere\.caFile .*absent: cannot read the CA file \(ENOENT\)$/,
  });
});

test('secrets that cannot be loaded stop the start with the key and the file named', async (t) => {
  const short = join(pki.dir, 'short-token');
  await writeFile(short, 'abc\n');
  await t.throwsAsync(loadServiceSecrets(testConfig({ tokenFile: short }), {}), { message: /^test: auth.tokenFile: .*shorter than 16/ });
  await t.throwsAsync(loadServiceSecrets(testConfig({ tokenFile: join(pki.dir, 'absent') }), {}), {
    message: /^test: auth.tokenFile: cannot read .*absent \(no such file\)/,
  });
  const huge = join(pki.dir, 'huge-token');
  await writeFile(huge, `${'k'.repeat(200_000)}\n`);
  await t.throwsAsync(loadServiceSecrets(testConfig({ tokenFile: huge }), {}), {
    message: /^test: auth.tokenFile: the token file .*huge-token holds more than 65536 bytes: not a bearer token$/,
  });
  await t.throwsAsync(loadServiceSecrets(testConfig({ tls: { certFile: pki.serverCert, keyFile: join(pki.dir, 'nokey') } }), {}), {
    message: /^test: tls.keyFile: cannot read/,
  });
  const garbage = join(pki.dir, 'garbage.pem');
  await writeFile(garbage, 'not a certificate\n');
  await t.throwsAsync(loadServiceSecrets(testConfig({ tls: { certFile: garbage, keyFile: garbage } }), {}), {
    message: /^test: tls.certFile: .*garbage.pem does not hold a PEM certificate/,
  });
  await t.throwsAsync(loadServiceSecrets(testConfig({ tls: { certFile: pki.serverCert, keyFile: garbage } }), {}), {
    message: /^test: tls.keyFile: .*garbage.pem does not hold a PEM private key/,
  });
  await t.throwsAsync(loadServiceSecrets(testConfig({ vsphere: { passwordFile: join(pki.dir, 'no-password') } }), {}), {
    message: /^test: vsphere: .*no-password: cannot read the password file/,
  });
});

// ---------------------------------------------------------------------------------------------
// The check client

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'check', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('check over mutual TLS with a token: 1 on BLOCK, 0 with an override, 2 on errors', async (t) => {
  const { service } = await secured(t, { tls: 'mutual', token: true, channel: await tlsChannel('trusted') });
  const server = service.running.address;
  const auth = ['--ca', pki.caCert, '--cert', pki.clientCert, '--key', pki.clientKey, '--token-file', tokenFile];

  const blocked = await check(['--server', server, '--backup-name', 'b1', ...auth]);
  t.is(blocked.code, 1, blocked.stderr);
  t.regex(blocked.stdout, /^BLOCK {2}backup s3:\/\/velero\/backups\/b1\/b1.tar.gz \(ManualRemediationRequired\)/);
  t.regex(blocked.stdout, /BLOCK +default\/wc-ghost +ManualRemediationRequired +ghost machines .*wc-ghost-md-0-x/);
  t.regex(blocked.stdout, /ALLOW +default\/wc-ok +Healthy/);

  const overridden = await check(['--server', server, '--backup-name', 'b1', ...auth, '--override', 'INC-9 ghosts removed']);
  t.is(overridden.code, 0, overridden.stderr);
  t.regex(overridden.stdout, /^ALLOW /);
  t.regex(overridden.stdout, /ALLOW \(overridden\) +default\/wc-ghost/);

  const scoped = await check([
    '--server',
    server,
    '--backup-name',
    'b1',
    ...auth,
    '--override',
    'r',
    '--override-clusters',
    'default/wc-ghost',
    '--failure-policy',
    'Ignore',
  ]);
  t.is(scoped.code, 0, scoped.stdout + scoped.stderr);

  const noToken = await check([
    '--server',
    server,
    '--backup-name',
    'b1',
    '--ca',
    pki.caCert,
    '--cert',
    pki.clientCert,
    '--key',
    pki.clientKey,
  ]);
  t.is(noToken.code, 2);
  t.regex(noToken.stderr, /UNAUTHENTICATED/);

  const missing = await check(['--server', server, '--backup-name', 'gone', ...auth]);
  t.is(missing.code, 0, missing.stderr);
  t.regex(missing.stdout, /^ALLOW {2}backup gone \(not checked\)\n {2}warning: .*backup gone is not in storage location/);

  const badName = await check(['--server', server, '--backup-name', 'Bad_Name', ...auth]);
  t.is(badName.code, 2);
  t.regex(badName.stderr, /INVALID_ARGUMENT/);
  t.false([blocked, overridden, noToken, missing].some((r) => r.stdout.includes(token) || r.stderr.includes(token)));
});

test('check without --ca against a server that presents TLS says so and names --ca; a closed port gets no such hint', async (t) => {
  const { service } = await secured(t, { tls: 'server', channel: await tlsChannel() });
  for (const args of [['--backup-name', 'b1'], ['--watch']]) {
    const plain = await check(['--server', service.running.address, ...args, '--timeout', '20s']);
    t.is(plain.code, 2, args.join(' '));
    t.regex(
      plain.stderr,
      /UNAVAILABLE: .*; the server presents TLS: give its CA with --ca <file> \(or --tls when a system CA signed its certificate\)\n/,
      args.join(' '),
    );
  }
  const withCa = await check(['--server', service.running.address, '--backup-name', 'b1', '--ca', pki.caCert]);
  t.is(withCa.code, 1, withCa.stderr);
  const closed = await check(['--server', '127.0.0.1:1', '--backup-name', 'b1', '--timeout', '3s']);
  t.notRegex(closed.stderr, /presents TLS/);
});

test('check refuses to send a token in clear text to a remote host, and needs --backup-name', async (t) => {
  const remote = await check(['--server', '192.0.2.10:50051', '--backup-name', 'b1', '--token-file', tokenFile]);
  t.is(remote.code, 2);
  t.regex(remote.stderr, /refusing to send the token in clear text to 192.0.2.10:50051/);
  const noName = await check(['--server', '127.0.0.1:1']);
  t.is(noName.code, 2);
  t.regex(noName.stderr, /--backup-name/);
  const unreachable = await check(['--server', '127.0.0.1:1', '--backup-name', 'b1', '--timeout', '3s']);
  t.is(unreachable.code, 2);
  t.regex(unreachable.stderr, /UNAVAILABLE|DEADLINE_EXCEEDED/);
});
