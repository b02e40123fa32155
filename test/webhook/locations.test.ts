/**
 * Never in the way, never open by accident (docs/restore-gate.md §3), through the real reader and
 * real stores: s3rver holding Velero's layout, stores that are no S3 at all (a 404 web page, a 200
 * web page), one that never answers, a closed port; a loopback API server holding the Backup
 * objects that name each backup's location. The webhook over HTTPS and the RestoreItemAction over
 * gRPC of the same service answer by one rule: a backup with no Cluster API objects is allowed, a
 * backup its bucket does not hold is allowed with a warning, and a location that cannot be used is
 * denied under failurePolicy Fail, naming the location and the cause.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import type { ServiceConfig } from '../../src/app/service-config.js';
import { buildBackup, fillerItems, writeVeleroTarball } from '../fixtures/builder.js';
import { call, clusterItem, executeRequest, parseItem, startTestService, testConfig } from '../grpc/helpers.js';
import { makePki, type Pki } from '../grpc/pki.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { startS3FaultServer, type S3FaultServer } from '../helpers/s3-faults.js';
import { tempDir, tkgCluster } from '../helpers/scenario.js';
import { veleroRestore } from '../helpers/velero.js';
import { startFakeKube, type FakeKube } from '../plugin/fake-kube.js';
import { admissionReview, post, responseOf, restoreObject, startWebhookOn } from './helpers.js';

let pki: Pki;
let ca: Buffer;
let s3: S3Server;
let kube: FakeKube;
const faults: S3FaultServer[] = [];
let appsTarball: string;
let tkgTarball: string;

/** A closed port on loopback: every connection is refused. */
const CLOSED = 'http://127.0.0.1:1';

test.before(async () => {
  pki = await makePki();
  ca = await readFile(pki.caCert);
  s3 = await startS3();
  kube = await startFakeKube();
  for (const fault of ['not-found-page', 'web-page', 'hang'] as const) faults.push(await startS3FaultServer(fault));
  const dir = await tempDir('drift-locations-');
  // An application namespace's backup: no Cluster, Machine or VSphereVM.
  appsTarball = join(dir, 'apps.tar.gz');
  await writeVeleroTarball(appsTarball, fillerItems({ seed: 'apps' }));
  // A TKG backup whose vCenter refuses connections: its clusters cannot be confirmed.
  tkgTarball = (await buildBackup({ clusters: [tkgCluster('wc-a', { vcenter: { server: '127.0.0.1:1', datacenter: '/DC0' } })] })).path;
  await s3.putBackup('velero', 'tkg', 'apps', appsTarball);
  await s3.putBackup('second', '', 'tkg-b', tkgTarball);
  // The same name in the default location holds no cluster: only the Backup's own location tells them apart.
  await s3.putBackup('velero', 'tkg', 'tkg-b', appsTarball);
  await s3.putBackup('second', '', 'only-second', tkgTarball);
  await s3.createBucket('empty');
});

test.after.always(async () => {
  await Promise.all([pki?.remove(), s3?.stop(), kube?.stop(), ...faults.map((f) => f.stop())]);
});

function location(
  name: string,
  endpoint: string,
  bucket: string,
  extra: Partial<ConfiguredStorageLocation['location']> = {},
): ConfiguredStorageLocation {
  return {
    name,
    isDefault: name === 'default',
    location: {
      name,
      bucket,
      s3Url: endpoint,
      s3ForcePathStyle: true,
      region: 'us-east-1',
      credentialsFile: s3.credentialsFile,
      profile: s3.profile,
      ...extra,
    },
    timeoutMs: 1000,
    deadlineMs: 3000,
  };
}

async function wrongCredentials(): Promise<string> {
  const file = join(await tempDir('drift-wrong-creds-'), 'cloud');
  await writeFile(file, `[${s3.profile}]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = not-the-secret\n`);
  return file;
}

async function allLocations(): Promise<ConfiguredStorageLocation[]> {
  const [notS3, web, hang] = faults.map((f) => f.endpoint);
  return [
    location('default', s3.endpoint, 'velero', { prefix: 'tkg' }),
    location('second', s3.endpoint, 'second'),
    location('misnamed', s3.endpoint, 'no-such-bucket'),
    location('denied', s3.endpoint, 'velero', { prefix: 'tkg', credentialsFile: await wrongCredentials() }),
    location('not-s3', notS3!, 'velero'),
    location('web', web!, 'velero'),
    location('refused', CLOSED, 'velero'),
    location('hang', hang!, 'velero'),
  ];
}

/** The Backup object Velero keeps for `name`, naming its location. */
function putBackupObject(name: string, storageLocation: string): void {
  kube.put(`/apis/velero.io/v1/namespaces/velero/backups/${name}`, {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: 'velero' },
    spec: { storageLocation },
  });
}

async function kubeconfigFile(): Promise<string> {
  const file = join(await tempDir('drift-kubeconfig-'), 'config');
  await writeFile(file, kube.kubeConfig.exportConfig());
  return file;
}

async function started(config: Partial<ServiceConfig>, env: NodeJS.ProcessEnv = {}) {
  const service = await startTestService({ config: { ...testConfig(), ...config }, env });
  return startWebhookOn(service, { tls: { certFile: pki.serverCert, keyFile: pki.serverKey }, deadlineMs: 60_000 });
}

/** Every location configured, the Backups readable: `in-<name>` in each broken location, apps, tkg-b (second), gone and offsite-1. */
async function startedWithBackups(broken: string[]) {
  for (const name of broken) putBackupObject(`in-${name}`, name);
  putBackupObject('apps', 'default');
  putBackupObject('tkg-b', 'second');
  putBackupObject('gone', 'default');
  putBackupObject('offsite-1', 'offsite');
  return started({ storageLocations: await allLocations() }, { KUBECONFIG: await kubeconfigFile() });
}

const review = (backupName: string) => admissionReview(restoreObject({ backupName }));

test('with the Backups readable: each backup is read from the location its Backup names, by the webhook and the RestoreItemAction', async (t) => {
  const broken = ['misnamed', 'denied', 'not-s3', 'web', 'refused', 'hang'];
  const w = await startedWithBackups(broken);
  t.teardown(() => w.stop());
  const ask = async (backup: string) => responseOf(await post(w.webhook.port, ca, review(backup)));

  // No Cluster API objects: allowed, nothing to say.
  const apps = await ask('apps');
  t.true(apps.allowed, JSON.stringify(apps));
  t.is(apps.warnings, undefined);

  // The Backup names `second`: its TKG backup is judged, not the same-named application backup of the default location.
  const tkg = await ask('tkg-b');
  t.false(tkg.allowed, JSON.stringify(tkg));
  t.regex(tkg.status!.message, /- Cluster default\/wc-a: NeedFurtherConfirmation/);
  // Why the cluster could not be confirmed, once, with what to check.
  t.regex(tkg.status!.message, /- vCenter 127\.0\.0\.1:1: connection refused by 127\.0\.0\.1:1 \(ECONNREFUSED\); check the address and port/);

  // The bucket answered and the backup is not in it: allowed, with the warning that it was not checked.
  const gone = await ask('gone');
  t.true(gone.allowed);
  t.deepEqual(gone.warnings, [
    "drift-detector did not check this restore: backup gone is not in storage location default (the bucket answered; Velero's backup sync may not have run yet)",
  ]);

  // A location that cannot be used: denied under Fail, naming the location and the cause.
  const causes: Record<string, RegExp> = {
    misnamed: /bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+: check the storage location's bucket/,
    denied: /access denied to s3:\/\/velero\/tkg\/backups\/in-denied\/in-denied\.tar\.gz \(SignatureDoesNotMatch\)/,
    'not-s3':
      /answers 404 to s3:\/\/velero\/backups\/in-not-s3\/in-not-s3\.tar\.gz and to a listing of bucket velero: it does not serve that bucket/,
    web: /answered s3:\/\/velero\/backups\/in-web\/in-web\.tar\.gz with a web page \(text\/html\), not an S3 object/,
    refused: /cannot reach S3 endpoint http:\/\/127\.0\.0\.1:1: connection refused/,
    hang: /did not finish within 3 s/,
  };
  for (const name of broken) {
    const answer = await ask(`in-${name}`);
    t.false(answer.allowed, `${name}: ${JSON.stringify(answer)}`);
    t.regex(answer.status!.message, new RegExp(`^drift-detector: backup in-${name} could not be analysed: storage location ${name}: `), name);
    t.regex(answer.status!.message, causes[name]!, name);
  }

  // A Backup naming a location the service lacks: failurePolicy, naming the configured ones.
  const offsite = await ask('offsite-1');
  t.false(offsite.allowed);
  t.regex(
    offsite.status!.message,
    /storage location "offsite" is not configured \(configured: default, second, misnamed, denied, not-s3, web, refused, hang\): the Backup of offsite-1 names it/,
  );

  // The Backup cannot be read (403): every configured location is looked in, and the broken ones cannot say it is not there.
  kube.fail('/apis/velero.io/v1/namespaces/velero/backups/unreadable', 403);
  const unreadable = await ask('unreadable');
  t.false(unreadable.allowed);
  t.regex(
    unreadable.status!.message,
    /storage location misnamed: bucket no-such-bucket does not exist.*; storage location denied: access denied/,
  );
  t.true(w.service.logs.some((l) => l.includes("the Backup's storage location could not be read; looking in every configured location")));

  // The RestoreItemAction of the same service, called as a local-mode plugin would (no location named): the same rule.
  const execute = (backup: string, item = clusterItem('default', 'wc-a')) =>
    call<{ item: Buffer; skipRestore?: boolean }>(w.service.clients.riaV2, 'Execute', executeRequest(item, veleroRestore(backup)));
  const blocked = await t.throwsAsync<ServiceError>(execute('tkg-b'));
  t.regex(blocked.details, /NeedFurtherConfirmation/);
  const misnamed = await t.throwsAsync<ServiceError>(execute('in-misnamed'));
  t.regex(misnamed.details, /storage location misnamed: bucket no-such-bucket does not exist/);
  const unchecked = await execute('gone');
  t.falsy(unchecked.skipRestore);
  const annotations = parseItem(unchecked.item).metadata.annotations ?? {};
  t.is(annotations['driftdetector.dev/status'], 'CheckFailed');
  t.is(annotations['driftdetector.dev/verdict'], 'ALLOW');
  t.regex(annotations['driftdetector.dev/check-error'] ?? '', /backup gone is not in storage location default/);
  // A Secret labelled with a cluster name, in a backup with no cluster: nothing to judge, restored untouched.
  const secret = Buffer.from(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'wc-a-creds', namespace: 'apps', labels: { 'cluster.x-k8s.io/cluster-name': 'wc-a' } },
    }),
  );
  const untouched = await call<{ item: Buffer; skipRestore?: boolean }>(
    w.service.clients.riaV2,
    'Execute',
    executeRequest(secret, veleroRestore('apps'), 'driftdetector.dev/restore-gate-secrets'),
  );
  t.falsy(untouched.skipRestore);
  t.deepEqual(JSON.parse(untouched.item.toString('utf8')), JSON.parse(secret.toString('utf8')));

  // `check` asks the same service: nothing to judge is ALLOW with no cluster; a missing bucket is the
  // service's misconfiguration (FAILED_PRECONDITION), never NOT_FOUND.
  const checked = await call<{ verdict: string; clusters: unknown[]; errors: Array<{ message: string }> }>(
    w.service.clients.detector,
    'Check',
    {
      backup_name: 'apps',
    },
  );
  t.is(checked.verdict, 'ALLOW');
  t.deepEqual(checked.clusters, []);
  t.regex(
    checked.errors[0]!.message,
    /holds no Cluster API objects: not a TKG management cluster backup, nothing for the restore gate to judge/,
  );
  const noBucket = await t.throwsAsync<ServiceError>(
    call(w.service.clients.detector, 'Check', { backup_name: 'in-misnamed', storage_location: 'misnamed' }),
  );
  t.is(noBucket.code, grpcStatus.FAILED_PRECONDITION);
  t.regex(noBucket.details, /bucket no-such-bucket does not exist/);
});

test('without access to Backups: every configured location is looked in, and a broken one is never taken for a missing backup', async (t) => {
  const [, second, misnamed] = await allLocations();
  const w = await started({ storageLocations: [location('default', s3.endpoint, 'empty'), second!, misnamed!] });
  t.teardown(() => w.stop());
  const found = responseOf(await post(w.webhook.port, ca, review('only-second')));
  t.false(found.allowed, JSON.stringify(found));
  t.regex(found.status!.message, /- Cluster default\/wc-a: NeedFurtherConfirmation/);
  // Not in default nor second, and misnamed cannot tell: denied, naming misnamed and its cause.
  const nowhere = responseOf(await post(w.webhook.port, ca, review('nowhere')));
  t.false(nowhere.allowed);
  t.regex(nowhere.status!.message, /storage location misnamed: bucket no-such-bucket does not exist/);
});

test('failurePolicy Ignore: a location that cannot be used lets the restore in with a warning naming the location and the cause', async (t) => {
  const [, , misnamed] = await allLocations();
  const w = await started({
    storageLocations: [{ ...misnamed!, isDefault: true }],
    gate: { mode: 'block', failurePolicy: 'Ignore', pauseOnDrift: false },
  });
  t.teardown(() => w.stop());
  const answer = responseOf(await post(w.webhook.port, ca, review('b1')));
  t.true(answer.allowed);
  t.deepEqual(answer.warnings?.length, 1);
  t.regex(
    answer.warnings![0]!,
    /^drift-detector did not check this restore: backup b1 could not be analysed: storage location misnamed: bucket no-such-bucket does not exist/,
  );
});

test('Check follows the one rule: nothing to judge and a backup its bucket does not hold are ALLOW; a location that cannot be used fails, naming it', async (t) => {
  const w = await startedWithBackups(['misnamed', 'denied', 'not-s3', 'web', 'refused']);
  t.teardown(() => w.stop());
  type Answer = { verdict: string; summary_status: string; clusters: unknown[]; not_checked: string };
  type Expected = { verdict: string; status: string; notChecked?: RegExp } | { code: grpcStatus; details: RegExp };
  const notChecked =
    /^drift-detector did not check this restore: backup gone is not in storage location default \(the bucket answered; Velero's backup sync may not have run yet\)$/;
  const cases: Array<[string, Record<string, string>, Expected]> = [
    ['apps', {}, { verdict: 'ALLOW', status: 'Healthy' }],
    ['tkg-b', {}, { verdict: 'BLOCK', status: 'NeedFurtherConfirmation' }],
    ['gone', {}, { verdict: 'ALLOW', status: 'NotChecked', notChecked }],
    ['gone', { storage_location: 'default' }, { verdict: 'ALLOW', status: 'NotChecked', notChecked }],
    ['in-misnamed', {}, { code: grpcStatus.FAILED_PRECONDITION, details: /^storage location misnamed: bucket no-such-bucket does not exist/ }],
    ['in-denied', {}, { code: grpcStatus.PERMISSION_DENIED, details: /^storage location denied: access denied to s3:\/\/velero\/tkg/ }],
    [
      'in-not-s3',
      {},
      { code: grpcStatus.FAILED_PRECONDITION, details: /^storage location not-s3: .* answers 404 to .* and to a listing of bucket velero/ },
    ],
    ['in-web', {}, { code: grpcStatus.FAILED_PRECONDITION, details: /^storage location web: .*with a web page \(text\/html\)/ }],
    [
      'in-refused',
      {},
      { code: grpcStatus.UNAVAILABLE, details: /^storage location refused: cannot reach S3 endpoint http:\/\/127\.0\.0\.1:1/ },
    ],
    [
      'offsite-1',
      {},
      { code: grpcStatus.FAILED_PRECONDITION, details: /storage location "offsite" is not configured \(configured: default, second/ },
    ],
  ];
  for (const [backup, extra, expected] of cases) {
    const label = `${backup} ${JSON.stringify(extra)}`;
    const answered = call<Answer>(w.service.clients.detector, 'Check', { backup_name: backup, ...extra });
    if ('code' in expected) {
      const err = await t.throwsAsync<ServiceError>(answered, undefined, label);
      t.is(err?.code, expected.code, `${label}: ${err?.details}`);
      t.regex(err?.details ?? '', expected.details, label);
      continue;
    }
    const answer = await answered;
    t.is(answer.verdict, expected.verdict, label);
    t.is(answer.summary_status, expected.status, label);
    if (expected.notChecked) {
      t.regex(answer.not_checked, expected.notChecked, label);
      t.deepEqual(answer.clusters, [], label);
    } else t.is(answer.not_checked, '', label);
  }
});
