/**
 * The plugin's Execute path inside Velero's pod, against a Kubernetes API server on loopback: the
 * requests the in-cluster readers make (ConfigMap by label, Secrets, Backup, BSL), what is written
 * back (a merge patch of the Restore's annotations, an Event), remoteEndpoint, and the failures
 * (bad settings, RBAC refusals, a hanging API server) as item errors or logged warnings.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { BackupSource } from '../../src/backup/source.js';
import type { DetectOptions } from '../../src/app/detect.js';
import { loadKubeConfig } from '../../src/kube/config.js';
import { kubeVeleroCluster } from '../../src/plugin/cluster.js';
import { grpcStatusOf } from '../../src/rpc/status.js';
import { PluginRestoreGate } from '../../src/plugin/restore-gate-plugin.js';
import type { DriftReport } from '../../src/model/report.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { makePki } from '../grpc/pki.js';
import { cluster, clusterItem, FakeDetection, machine, report, startTestService } from '../grpc/helpers.js';
import { tempDir } from '../helpers/scenario.js';
import { startFakeKube, type FakeKube } from './fake-kube.js';
import { veleroRestore } from '../helpers/velero.js';
import { PLUGIN_NAME } from './helpers.js';

const NS = 'velero';
const CONFIGMAP = `/api/v1/namespaces/${NS}/configmaps/drift-detector-plugin`;
const secretPath = (name: string) => `/api/v1/namespaces/${NS}/secrets/${name}`;
const BACKUP = `/apis/velero.io/v1/namespaces/${NS}/backups/b1`;
const BSL = `/apis/velero.io/v1/namespaces/${NS}/backupstoragelocations/minio`;
const RESTORE = `/apis/velero.io/v1/namespaces/${NS}/restores/r1`;
const EVENTS = `/api/v1/namespaces/${NS}/events`;
const LABELS = { 'velero.io/plugin-config': '', 'driftdetector.dev/restore-gate': 'RestoreItemAction' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

function driftReport(): DriftReport {
  return report(
    's3://velero-backups/tkg/backups/b1/b1.tar.gz',
    cluster('default', 'wc-drift', [machine('wc-drift-cp-a', 'Healthy')], [machine('wc-drift-md-0-zzzzz', 'Ghost')]),
    cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')], [machine('wc-ok-md-0-a', 'Healthy')]),
  );
}

/** Velero's namespace as `velero install` leaves it, plus the plugin's ConfigMap and a vCenter Secret. */
async function veleroNamespace(
  t: ExecutionContext,
  settings: Record<string, string> = { skipAccessAPIServer: 'true', vsphereCredentialsSecret: 'vcenter' },
): Promise<FakeKube> {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  kube.put(CONFIGMAP, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'drift-detector-plugin', namespace: NS, labels: LABELS },
    data: settings,
  });
  // An unrelated plugin's configuration in the same namespace.
  kube.put(`/api/v1/namespaces/${NS}/configmaps/change-storage-class-config`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'change-storage-class-config',
      namespace: NS,
      labels: { 'velero.io/plugin-config': '', 'velero.io/change-storage-class': 'RestoreItemAction' },
    },
    data: { fast: 'slow' },
  });
  kube.put(secretPath('vcenter'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'vcenter', namespace: NS },
    data: {
      username: b64('gate@vsphere.local'),
      password: b64('Vc-Pass-1!\n'),
      'credentials.yaml': b64('vc2.example.com:\n  username: other@vsphere.local\n  password: Other-Pass-2\n'),
    },
  });
  kube.put(BACKUP, {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: 'b1', namespace: NS },
    spec: { storageLocation: 'minio', includedNamespaces: ['*'] },
    status: { phase: 'Completed' },
  });
  kube.put(BSL, {
    apiVersion: 'velero.io/v1',
    kind: 'BackupStorageLocation',
    metadata: { name: 'minio', namespace: NS },
    spec: {
      provider: 'aws',
      objectStorage: { bucket: 'velero-backups', prefix: 'tkg' },
      credential: { name: 'bsl-credentials', key: 'cloud' },
      config: { region: 'minio', s3ForcePathStyle: 'true', s3Url: 'http://minio.velero.svc:9000' },
    },
  });
  kube.put(secretPath('bsl-credentials'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'bsl-credentials', namespace: NS },
    data: { cloud: b64('[default]\naws_access_key_id=AKIAFAKE\naws_secret_access_key=bsl-secret-value\n') },
  });
  kube.put(RESTORE, {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    metadata: { name: 'r1', namespace: NS, uid: 'f0c3b2a1-1111-4c8a-a7a3-3c2e5b7d9f10', annotations: { 'velero.io/keep': 'yes' } },
    spec: { backupName: 'b1' },
  });
  return kube;
}

/** A detection that records what it was given and answers with a canned report. */
function fakeDetect(answer: () => DriftReport = driftReport) {
  const calls: Array<{ source: string; options: DetectOptions }> = [];
  return {
    calls,
    detect: async (source: BackupSource, options: DetectOptions) => {
      calls.push({ source: source.description, options });
      return answer();
    },
  };
}

function pluginGate(kube: FakeKube, options: { detect?: ReturnType<typeof fakeDetect>['detect']; timeoutMs?: number } = {}) {
  const logs: string[] = [];
  const gate = new PluginRestoreGate({
    env: { VELERO_NAMESPACE: NS },
    logger: jsonLogger({ level: 'debug', timestamp: false, write: (line) => logs.push(line) }),
    cluster: () => kubeVeleroCluster(kube.kubeConfig, NS, options.timeoutMs ?? 5000),
    ...(options.detect ? { detect: options.detect } : {}),
  });
  const ctx = () => ({ signal: new AbortController().signal, fields: {} });
  const execute = (name: string, restore = veleroRestore('b1', { name: 'r1' })) => {
    const item = clusterItem('default', name);
    return gate.execute({ plugin: PLUGIN_NAME, item, restore, itemFromBackup: item }, ctx());
  };
  return { gate, logs, execute };
}

const requestLine = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

test('in-cluster readers: ConfigMap by label, Secrets, Backup, BSL; the Restore merge-patched and an Event per Cluster', async (t) => {
  const kube = await veleroNamespace(t);
  const detection = fakeDetect();
  const { execute, logs } = pluginGate(kube, { detect: detection.detect });

  const allowed = await execute('wc-ok');
  t.is(JSON.parse(allowed.item.toString()).metadata.annotations['driftdetector.dev/status'], 'Healthy');
  const blocked = await t.throwsAsync(execute('wc-drift'));
  t.is(grpcStatusOf(blocked), status.FAILED_PRECONDITION);
  t.regex(blocked.message, /drift-detector blocked the restore of Cluster default\/wc-drift: it has ghost machines wc-drift-md-0-zzzzz/);

  // Settings, Backup and BSL are read once for the process; the report and events follow each item.
  const lines = kube.requests.map(requestLine);
  t.deepEqual(lines.slice(0, 5), [
    `GET /api/v1/namespaces/${NS}/configmaps`,
    `GET ${secretPath('vcenter')}`,
    `GET ${BACKUP}`,
    `GET ${BSL}`,
    `GET ${secretPath('bsl-credentials')}`,
  ]);
  t.deepEqual(lines.slice(5).sort(), [`PATCH ${RESTORE}`, `PATCH ${RESTORE}`, `POST ${EVENTS}`, `POST ${EVENTS}`]);
  t.is(kube.requests[0]!.query.get('labelSelector'), 'velero.io/plugin-config=,driftdetector.dev/restore-gate=RestoreItemAction');
  t.true(kube.requests.every((r) => r.authorization === `Bearer ${kube.token}`));

  // The detection got the Backup's location (BSL minio) and the vCenter Secret's credentials.
  t.is(detection.calls.length, 1);
  t.is(detection.calls[0]!.source, 's3://velero-backups/tkg/backups/b1/b1.tar.gz');
  t.deepEqual(detection.calls[0]!.options.credentials, {
    username: 'gate@vsphere.local',
    password: 'Vc-Pass-1!',
    byServer: { 'vc2.example.com': { username: 'other@vsphere.local', password: 'Other-Pass-2' } },
  });
  t.true(detection.calls[0]!.options.skipAccessApiServer);

  const patches = kube.requests.filter((r) => r.method === 'PATCH');
  t.true(patches.every((p) => p.contentType === 'application/merge-patch+json'));
  const restore = kube.objects.get(RESTORE)!;
  t.is(restore.metadata.annotations!['velero.io/keep'], 'yes', 'a merge patch keeps the other annotations');
  t.is(restore.metadata.annotations!['driftdetector.dev/verdict'], 'BLOCK');
  t.is(restore.metadata.annotations!['driftdetector.dev/summary'], '2 Clusters: 1 restored, 1 blocked (default/wc-drift)');
  t.deepEqual(JSON.parse(restore.metadata.annotations!['driftdetector.dev/clusters']!), [
    { cluster: 'default/wc-drift', status: 'ManualRemediationRequired', verdict: 'BLOCK', action: 'fail', overridden: false },
    { cluster: 'default/wc-ok', status: 'Healthy', verdict: 'ALLOW', action: 'restore', overridden: false },
  ]);

  const byReason = Object.fromEntries(kube.events.map((e) => [e['reason'], e]));
  t.deepEqual(Object.keys(byReason).sort(), ['ClusterRestoreAllowed', 'ClusterRestoreBlocked']);
  const blockedEvent = byReason['ClusterRestoreBlocked']!;
  t.deepEqual(blockedEvent['involvedObject'], {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    name: 'r1',
    namespace: NS,
    uid: 'f0c3b2a1-1111-4c8a-a7a3-3c2e5b7d9f10',
  });
  t.is(blockedEvent['type'], 'Warning');
  t.is(blockedEvent['source'].component, 'drift-detector');
  t.is(blockedEvent['count'], 1);
  t.regex(blockedEvent['message'], /^drift-detector blocked the restore of Cluster default\/wc-drift/);
  t.regex(blockedEvent['firstTimestamp'], /^\d{4}-\d\d-\d\dT/);
  t.is(byReason['ClusterRestoreAllowed']!['type'], 'Normal');

  const text = logs.join('');
  for (const secret of ['Vc-Pass-1!', 'Other-Pass-2', 'bsl-secret-value', kube.token]) t.false(text.includes(secret), 'no secret in the logs');
  t.regex(text, /"@message":"storage location read","backup":"b1","storageLocation":"minio","bucket":"velero-backups","prefix":"tkg"/);
});

test('remoteEndpoint: Execute goes to drift-detector serve over TLS with the token from the Secret', async (t) => {
  const pki = await makePki();
  t.teardown(() => pki.remove());
  const token = 'remote-service-token-0123456789abcdef';
  const detection = new FakeDetection();
  detection.reports.set('b1', driftReport());
  const service = await startTestService({
    secrets: {
      token,
      credentials: grpc.ServerCredentials.createSsl(
        null,
        [{ cert_chain: await readFile(pki.serverCert), private_key: await readFile(pki.serverKey) }],
        false,
      ),
    },
    deps: detection.deps(),
    channel: grpc.credentials.createSsl(await readFile(pki.caCert)),
    // The Backup's location by name, and not the service's default.
    config: {
      storageLocations: [
        { name: 'default', isDefault: true, location: { bucket: 'velero' }, timeoutMs: 5000, deadlineMs: 60_000 },
        { name: 'minio', isDefault: false, location: { bucket: 'minio-bucket' }, timeoutMs: 5000, deadlineMs: 60_000 },
      ],
    },
  });
  t.teardown(() => service.stop());

  const kube = await veleroNamespace(t, {
    remoteEndpoint: service.running.address,
    remoteCredentialsSecret: 'drift-detector-client',
    remoteTimeout: '30s',
  });
  kube.put(secretPath('drift-detector-client'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'drift-detector-client', namespace: NS },
    data: { 'ca.crt': b64(await readFile(pki.caCert, 'utf8')), token: b64(`${token}\n`) },
  });
  const { execute, gate, logs } = pluginGate(kube);
  t.teardown(() => gate.close());

  const allowed = JSON.parse((await execute('wc-ok')).item.toString());
  t.is(allowed.metadata.annotations['driftdetector.dev/status'], 'Healthy');
  const blocked = await t.throwsAsync(execute('wc-drift'));
  t.is(grpcStatusOf(blocked), status.FAILED_PRECONDITION);
  t.regex(
    blocked.message,
    new RegExp(
      `^drift-detector service at ${service.running.address.replace(/\./g, '\\.')}: drift-detector blocked the restore of Cluster default/wc-drift`,
    ),
  );
  t.is(detection.calls.length, 1, 'the service analysed the backup once');

  // The Backup read once, for the location's name; the BSL not at all: the service has its own.
  t.is(kube.requests.filter((r) => r.path === BACKUP).length, 1);
  t.false(kube.requests.some((r) => r.path === BSL));
  t.is(detection.calls[0]!.source, 's3://minio-bucket/backups/b1/b1.tar.gz');
  const restore = kube.objects.get(RESTORE)!;
  t.is(restore.metadata.annotations!['driftdetector.dev/summary'], '2 Clusters: 1 restored, 1 blocked (default/wc-drift)');
  // The service's decision came back with its error: the record has the real status, not Error.
  t.deepEqual(JSON.parse(restore.metadata.annotations!['driftdetector.dev/clusters']!), [
    { cluster: 'default/wc-drift', status: 'ManualRemediationRequired', verdict: 'BLOCK', action: 'fail', overridden: false },
    { cluster: 'default/wc-ok', status: 'Healthy', verdict: 'ALLOW', action: 'restore', overridden: false },
  ]);
  t.is(kube.events.length, 2);
  t.false(logs.join('').includes(token));

  // Another object of the blocked cluster: the service says skip, and the plugin passes it on.
  const machine = Buffer.from(
    JSON.stringify({
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Machine',
      metadata: { name: 'wc-drift-cp-a', namespace: 'default', labels: { 'cluster.x-k8s.io/cluster-name': 'wc-drift' } },
      spec: { clusterName: 'wc-drift' },
    }),
  );
  const skipped = await gate.execute(
    { plugin: PLUGIN_NAME, item: machine, itemFromBackup: machine, restore: veleroRestore('b1', { name: 'r1' }) },
    { signal: new AbortController().signal, fields: {} },
  );
  t.true(skipped.skipRestore);
  t.deepEqual(skipped.item, machine);

  // A wrong token is the service's UNAUTHENTICATED, passed on as the item's error.
  kube.put(secretPath('drift-detector-client'), {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'drift-detector-client', namespace: NS },
    data: { 'ca.crt': b64(await readFile(pki.caCert, 'utf8')), token: b64('not-the-token-0123456789') },
  });
  const fresh = pluginGate(kube);
  t.teardown(() => fresh.gate.close());
  const refused = await t.throwsAsync(fresh.execute('wc-ok'));
  t.is(grpcStatusOf(refused), status.UNAUTHENTICATED);
});

test('settings problems are item errors naming the ConfigMap and the key; no ConfigMap means the defaults', async (t) => {
  const kube = await veleroNamespace(t, { mode: 'block', colour: 'blue' });
  const detection = fakeDetect();
  const bad = pluginGate(kube, { detect: detection.detect });
  const err = await t.throwsAsync(bad.execute('wc-ok'));
  t.is(grpcStatusOf(err), status.FAILED_PRECONDITION);
  t.is(err.message.split(' (expected')[0], `drift-detector plugin: ConfigMap ${NS}/drift-detector-plugin: colour: unknown key`);
  // Fixed between two items: read again, since a failure is not kept.
  kube.put(CONFIGMAP, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'drift-detector-plugin', namespace: NS, labels: LABELS },
    data: { failurePolicy: 'Sometimes' },
  });
  const again = await t.throwsAsync(bad.execute('wc-ok'));
  t.regex(again.message, /ConfigMap velero\/drift-detector-plugin: failurePolicy: expected Fail or Ignore, not "Sometimes"/);
  t.is(detection.calls.length, 0);
  t.is(kube.events.length, 2, 'each failed item is still reported on the Restore');
  t.regex(kube.objects.get(RESTORE)!.metadata.annotations!['driftdetector.dev/clusters']!, /"status":"Error"/);

  // Two ConfigMaps for the plugin: ambiguous, named.
  kube.put(`/api/v1/namespaces/${NS}/configmaps/another`, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'another', namespace: NS, labels: LABELS },
    data: {},
  });
  const twice = await t.throwsAsync(pluginGate(kube, { detect: detection.detect }).execute('wc-ok'));
  t.regex(twice.message, /more than one ConfigMap in velero is labelled .*: another, drift-detector-plugin/);

  // None: block, failurePolicy Fail, no vCenter Secret.
  kube.objects.delete(CONFIGMAP);
  kube.objects.delete(`/api/v1/namespaces/${NS}/configmaps/another`);
  const defaults = pluginGate(kube, { detect: detection.detect });
  await t.throwsAsync(defaults.execute('wc-drift'), { message: /blocked the restore/ });
  t.deepEqual(detection.calls[0]!.options.credentials, {});
  t.false(detection.calls[0]!.options.skipAccessApiServer);
  t.regex(defaults.logs.join(''), /"@message":"settings read","origin":"defaults","mode":"block","failurePolicy":"Fail"/);
});

test('API refusals and a hanging API server: bounded, said plainly, and failurePolicy decides', async (t) => {
  const kube = await veleroNamespace(t, { skipAccessAPIServer: 'true' });
  kube.fail(BACKUP, 403);
  const detection = fakeDetect();
  const strict = pluginGate(kube, { detect: detection.detect });
  const denied = await t.throwsAsync(strict.execute('wc-ok'));
  t.regex(
    denied.message,
    /the drift check failed \(failurePolicy Fail\): backup b1: Backup velero\/b1: forbidden \(403\): check the RBAC of Velero's service account/,
  );
  t.false(denied.message.includes('this text must not reach users'));

  kube.put(CONFIGMAP, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'drift-detector-plugin', namespace: NS, labels: LABELS },
    data: { failurePolicy: 'Ignore', skipAccessAPIServer: 'true' },
  });
  const lenient = pluginGate(kube, { detect: detection.detect });
  const restored = JSON.parse((await lenient.execute('wc-ok')).item.toString());
  t.is(restored.metadata.annotations['driftdetector.dev/status'], 'CheckFailed');
  t.regex(restored.metadata.annotations['driftdetector.dev/check-error'], /Backup velero\/b1: forbidden \(403\)/);
  t.is(detection.calls.length, 0);

  // Writing the Restore fails: the item is restored all the same, and the failure logged.
  kube.heal(BACKUP);
  kube.fail(RESTORE, 500);
  const unwritable = pluginGate(kube, { detect: detection.detect });
  const ok = JSON.parse((await unwritable.execute('wc-ok')).item.toString());
  t.is(ok.metadata.annotations['driftdetector.dev/status'], 'Healthy');
  t.regex(
    unwritable.logs.join(''),
    /"@level":"warn","@message":"cannot annotate the Restore","restore":"velero\/r1","cluster":"default\/wc-ok","error":"Restore velero\/r1: patch at https:\/\/127\.0\.0\.1:\d+ failed with HTTP 500"/,
  );

  // A hanging API server costs one timeout, not the restore.
  kube.fail(CONFIGMAP.replace(/\/drift-detector-plugin$/, ''), 'hang');
  const hung = pluginGate(kube, { detect: detection.detect, timeoutMs: 300 });
  const started = Date.now();
  const timedOut = await t.throwsAsync(hung.execute('wc-ok'));
  t.true(Date.now() - started < 3000);
  t.regex(
    timedOut.message,
    /drift-detector plugin: ConfigMaps labelled .* in namespace velero: list at https:\/\/127\.0\.0\.1:\d+ timed out after 300 ms/,
  );
  t.is(grpcStatusOf(timedOut), status.DEADLINE_EXCEEDED);
});

test('loadKubeConfig: KUBECONFIG outside a pod; neither: a plain error', async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  const file = join(await tempDir('drift-kubeconfig-'), 'config');
  await writeFile(file, kube.kubeConfig.exportConfig());
  const kc = await loadKubeConfig({ KUBECONFIG: file });
  t.is(kc.getCurrentCluster()?.server, kube.server);
  await t.throwsAsync(loadKubeConfig({}), { message: /not running in a pod .* and no KUBECONFIG/ });
  await t.throwsAsync(loadKubeConfig({ KUBECONFIG: '/nonexistent/kubeconfig' }), { message: 'cannot load KUBECONFIG=/nonexistent/kubeconfig' });

  // The plugin's Execute, with Velero's namespace but no cluster: said at the first item.
  const gate = new PluginRestoreGate({
    env: { VELERO_NAMESPACE: NS },
    logger: jsonLogger({ level: 'debug', timestamp: false, write: () => {} }),
  });
  const item = clusterItem('default', 'wc-ok');
  const err = await t.throwsAsync(
    gate.execute(
      { plugin: PLUGIN_NAME, item, restore: veleroRestore('b1', { name: 'r1' }), itemFromBackup: item },
      { signal: new AbortController().signal, fields: {} },
    ),
  );
  t.regex(err.message, /not running in a pod .* and no KUBECONFIG/);
});
