/**
 * A whole restore through Velero's host: the single executable's three RestoreItemActions resolved
 * through their AppliesTo, then every object of a backup in a real S3 server (s3rver) run through
 * the actions that match it, in Velero's order (the Cluster last). The backup holds a drifted
 * cluster (a Ghost VM in vcsim) and a clean one.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBackup, fillerItems, writeVeleroTarball, type VeleroItem } from '../fixtures/builder.js';
import { scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { startS3 } from '../helpers/s3.js';
import { veleroRestore } from '../helpers/velero.js';
import { runHarness, veleroItem, type RestoredItem, type RestoreItem } from './helpers.js';
import { assertCleanExit, BUCKET, CLUSTERS, messages, pluginFiles, PREFIX, storageLocationYaml, veleroBackups } from './velero-run.js';

const SECRETS = 'driftdetector.dev/restore-gate-secrets';
const TKG = 'driftdetector.dev/restore-gate-tkg';

/** The backup's objects as Velero restores them: namespaces first and without actions, Clusters last. */
function restoreOrder(items: VeleroItem[]): RestoreItem[] {
  const rank = (i: VeleroItem) => (i.resource === CLUSTERS ? 1 : 0);
  return [...items]
    .filter((i) => i.resource !== 'namespaces')
    .sort((a, b) => rank(a) - rank(b))
    .map((i) => ({
      resource: i.resource,
      item: Buffer.from(JSON.stringify(veleroItem(i.object))),
      itemFromBackup: Buffer.from(JSON.stringify(i.object)),
    }));
}

/** Objects of no cluster the gate sees: a ClusterClass and a VSphereClusterIdentity (cluster-scoped). */
const SHARED: RestoreItem[] = [
  {
    resource: 'clusterclasses.cluster.x-k8s.io',
    object: {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'ClusterClass',
      metadata: { name: 'tkg-vsphere-default', namespace: 'default' },
      spec: {},
    },
  },
  {
    resource: 'vsphereclusteridentities.infrastructure.cluster.x-k8s.io',
    object: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'VSphereClusterIdentity', metadata: { name: 'shared' }, spec: {} },
  },
].map(({ resource, object }) => ({ resource, item: Buffer.from(JSON.stringify(object)), itemFromBackup: Buffer.from(JSON.stringify(object)) }));

/**
 * A Secret and a ConfigMap per cluster that only TKG's label ties to it: no owner, and a name that
 * does not start with the cluster's (as TKG labels the vSphere credentials of class-based clusters).
 */
const tkgLabelled = (cluster: string): RestoreItem[] =>
  (['secrets', 'configmaps'] as const).map((resource) => {
    const object = {
      apiVersion: 'v1',
      kind: resource === 'secrets' ? 'Secret' : 'ConfigMap',
      metadata: { name: `vsphere-config-of-${cluster}`, namespace: 'default', labels: { 'tkg.tanzu.vmware.com/cluster-name': cluster } },
      data: {},
    };
    return { resource, item: Buffer.from(JSON.stringify(object)), itemFromBackup: Buffer.from(JSON.stringify(object)) };
  });

const ofCluster = (results: RestoredItem[], cluster: string) =>
  results.filter((r) => r.name === cluster || r.name.startsWith(`${cluster}-`) || r.name.startsWith(`${cluster}.`));
const itemJson = (r: RestoredItem) => JSON.parse(Buffer.from(r.item!, 'base64').toString('utf8'));
const key = (r: RestoredItem) => `${r.resource} ${r.namespace}/${r.name}`;

test("a restore through Velero's host: nothing of the drifted cluster is restorable, all of the clean one is; overrides by label and annotation", async (t) => {
  const { drifted, s3 } = await veleroBackups(t);
  const env = { ...(await pluginFiles(s3)), AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile };
  const items = [...tkgLabelled('wc-drift'), ...tkgLabelled('wc-ok'), ...restoreOrder([...drifted.items, ...drifted.secondary]), ...SHARED];
  const restore = (name: string, options: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) =>
    veleroRestore('b-drift', { name, ...options });
  const run = await runHarness({
    env,
    calls: [
      { rpc: 'Restore', restore: restore('r-plain'), items },
      { rpc: 'Restore', restore: restore('r-label', { labels: { 'driftdetector.dev/override': 'OPS-1234' } }), items },
      {
        rpc: 'Restore',
        restore: restore('r-annotation', {
          annotations: { 'driftdetector.dev/override': 'ghost VM adopted by hand', 'driftdetector.dev/override-clusters': 'default/wc-drift' },
        }),
        items,
      },
    ],
  });
  t.is(run.outcome.startError, undefined);
  const [plain, byLabel, byAnnotation] = run.outcome.results.map((r) => {
    t.true(r.ok, r.error);
    return r.items!;
  });

  // Without override: the drifted Cluster fails with the full message, every other object of it is skipped.
  const drift = ofCluster(plain!, 'wc-drift');
  const seen = drift.filter((r) => r.actions.length > 0);
  const cluster = seen.find((r) => r.resource === CLUSTERS)!;
  t.is(cluster.code, 'FailedPrecondition');
  t.regex(cluster.error!, /drift-detector blocked the restore of Cluster default\/wc-drift: it has ghost machines/);
  t.regex(cluster.error!, /driftdetector\.dev\/override=<ticket>/);
  const others = seen.filter((r) => r !== cluster);
  t.true(others.length >= 15, `${others.length} other objects of wc-drift seen`);
  for (const r of others) t.true(r.skipRestore && r.error === undefined, `${key(r)} skipped`);
  t.true(others.some((r) => r.resource === 'secrets' && r.actions[0] === SECRETS && r.name === 'wc-drift-ca'));
  t.true(others.some((r) => r.resource === 'kubeadmconfigs.bootstrap.cluster.x-k8s.io'));
  // The vSphere credentials Secret, labelled by TKG only: its own action, skipped like the rest.
  const credentials = drift.find((r) => key(r) === 'secrets default/wc-drift')!;
  t.deepEqual(credentials.actions, [TKG]);
  t.true(credentials.skipRestore && credentials.error === undefined);
  t.deepEqual(drift.filter((r) => r.actions.length === 0).map(key), []);
  // Objects only TKG's label ties to a cluster: the drifted cluster's skipped, the clean one's passed untouched.
  const [driftSecret, driftConfigMap, okSecret, okConfigMap] = plain!.slice(0, 4);
  for (const r of [driftSecret!, driftConfigMap!]) t.true(r.actions.join() === TKG && r.skipRestore && r.error === undefined, key(r));
  for (const r of [okSecret!, okConfigMap!]) {
    t.true(r.actions.join() === TKG && !r.skipRestore && r.error === undefined, key(r));
    t.deepEqual(itemJson(r), JSON.parse(items[plain!.indexOf(r)]!.item.toString('utf8')), `${key(r)} unchanged`);
  }
  t.true(
    messages(run.pluginLog, 'warn').includes(
      'skipped Secret default/vsphere-config-of-wc-drift: Cluster default/wc-drift is blocked by drift-detector (ManualRemediationRequired)',
    ),
  );

  // The clean cluster: every object restorable, and unchanged but for the Cluster's annotations.
  const ok = ofCluster(plain!, 'wc-ok').filter((r) => r.actions.length > 0);
  t.true(ok.length >= 16);
  t.deepEqual(ok.find((r) => key(r) === 'secrets default/wc-ok')?.actions, [TKG], "the clean cluster's credentials Secret is seen");
  for (const r of ok) {
    t.true(!r.skipRestore && r.error === undefined, `${key(r)} restored`);
    const item = itemJson(r);
    if (r.resource === CLUSTERS) t.is(item.metadata.annotations['driftdetector.dev/status'], 'Healthy');
    else t.is(Object.keys(item.metadata.annotations ?? {}).filter((k) => k.startsWith('driftdetector.dev/')).length, 0, key(r));
  }
  // Objects of no cluster pass untouched; objects no action selects are never sent.
  for (const shared of plain!.slice(-2)) {
    t.true(shared.actions.length === 1 && !shared.skipRestore && shared.error === undefined, key(shared));
  }
  t.true(plain!.every((r) => r.resource !== 'secrets' || r.actions.length === 0 || [SECRETS, TKG].includes(r.actions.join())));

  // Overrides: by label (any Velero) and by annotation, scoped; the reason recorded on every object.
  for (const [results, reason] of [
    [byLabel!, 'OPS-1234'],
    [byAnnotation!, 'ghost VM adopted by hand'],
  ] as const) {
    const objects = ofCluster(results, 'wc-drift').filter((r) => r.actions.length > 0);
    for (const r of objects) {
      t.true(!r.skipRestore && r.error === undefined, `${key(r)} restored by override`);
      t.is(itemJson(r).metadata.annotations['driftdetector.dev/override-reason'], reason, key(r));
    }
  }

  const warnings = messages(run.pluginLog, 'warn');
  const skipLine = warnings.find((m) => m.startsWith('skipped Machine default/wc-drift-'));
  t.regex(
    skipLine ?? '',
    /^skipped Machine default\/wc-drift-\S+: Cluster default\/wc-drift is blocked by drift-detector \(ManualRemediationRequired\)$/,
  );
  t.log(skipLine);
  assertCleanExit(t, run);
});

test('annotate mode with pauseOnDrift: the drifted Cluster restored paused, every other object of it marked paused', async (t) => {
  const { drifted, s3 } = await veleroBackups(t);
  const env = { ...(await pluginFiles(s3, { mode: 'annotate', pauseOnDrift: 'true' })), AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile };
  const items = restoreOrder([...drifted.items, ...drifted.secondary]);
  const run = await runHarness({ env, calls: [{ rpc: 'Restore', restore: veleroRestore('b-drift', { name: 'r-pause' }), items }] });
  const results = run.outcome.results[0]!.items!;
  const drift = ofCluster(results, 'wc-drift').filter((r) => r.actions.length > 0);
  for (const r of drift) {
    t.true(!r.skipRestore && r.error === undefined, `${key(r)}: ${r.error ?? ''}`);
    const item = itemJson(r);
    if (r.resource === CLUSTERS) t.true(item.spec.paused);
    else t.is(item.metadata.annotations['cluster.x-k8s.io/paused'], 'true', key(r));
  }
  for (const r of ofCluster(results, 'wc-ok').filter((r) => r.actions.length > 0 && r.resource !== CLUSTERS)) {
    t.is(itemJson(r).metadata.annotations?.['cluster.x-k8s.io/paused'], undefined, key(r));
  }
  assertCleanExit(t, run);
});

test('failurePolicy Fail: the old management cluster, left out of the analysis with a warning, is restored whole, as the webhook allows it', async (t) => {
  const s = await scenario(t, { clusters: [tkgCluster('wc-ok')], managementCluster: true, seed: 'management' });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, PREFIX, 'b-mgmt', s.backup.path);
  const env = { ...(await pluginFiles(s3)), AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile };
  const items = restoreOrder([...s.backup.items, ...s.backup.secondary]);
  const run = await runHarness({ env, calls: [{ rpc: 'Restore', restore: veleroRestore('b-mgmt', { name: 'r-mgmt' }), items }] });
  const management = run.outcome.results[0]!.items!.filter((r) => r.namespace === 'tkg-system' && r.actions.length > 0);
  t.true(management.length >= 10, `${management.length} objects of the management cluster seen`);
  for (const r of management) t.true(!r.skipRestore && r.error === undefined, `${key(r)}: ${r.error ?? ''}`);
  const cluster = itemJson(management.find((r) => r.resource === CLUSTERS)!);
  t.is(cluster.metadata.annotations['driftdetector.dev/verdict'], 'ALLOW');
  t.is(cluster.metadata.annotations['driftdetector.dev/status'], 'NotAnalyzed');
  assertCleanExit(t, run);
});

test("the one rule in Velero's pod: an application backup's labelled objects pass untouched; a misnamed bucket fails the Cluster closed, never as a missing backup", async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const dir = await tempDir('drift-plugin-rule-');
  const apps = join(dir, 'apps.tar.gz');
  await writeVeleroTarball(apps, fillerItems({ seed: 'apps' }));
  await s3.putBackup(BUCKET, PREFIX, 'b-apps', apps);
  // The vCenter is never reached: the backup cannot be read.
  const tkg = await buildBackup({ clusters: [tkgCluster('wc-a', { vcenter: { server: '127.0.0.1:1', datacenter: '/DC0' } })] });
  const env = { ...(await pluginFiles(s3)), AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile };
  const misnamed = { ...env, DRIFT_DETECTOR_STORAGE_LOCATION: join(dir, 'bsl.yaml') };
  await writeFile(misnamed.DRIFT_DETECTOR_STORAGE_LOCATION, storageLocationYaml(s3.endpoint, 'no-such-bucket'));

  // Objects an application backup may hold with a Cluster API label: no cluster in the backup, nothing to judge.
  const run = await runHarness({
    env,
    calls: [{ rpc: 'Restore', restore: veleroRestore('b-apps', { name: 'r-apps' }), items: tkgLabelled('wc-a') }],
  });
  for (const r of run.outcome.results[0]!.items!) t.true(!r.skipRestore && r.error === undefined, `${key(r)}: ${r.error ?? ''}`);
  assertCleanExit(t, run);

  const broken = await runHarness({
    env: misnamed,
    calls: [{ rpc: 'Restore', restore: veleroRestore('b-tkg', { name: 'r-broken' }), items: restoreOrder([...tkg.items, ...tkg.secondary]) }],
  });
  const seen = ofCluster(broken.outcome.results[0]!.items!, 'wc-a').filter((r) => r.actions.length > 0);
  const cluster = seen.find((r) => r.resource === CLUSTERS)!;
  t.regex(
    cluster.error!,
    /the drift check failed \(failurePolicy Fail\): backup b-tkg: bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+: check the storage location's bucket/,
  );
  for (const r of seen.filter((r) => r !== cluster)) t.true(r.skipRestore && r.error === undefined, `${key(r)} skipped`);
  assertCleanExit(t, broken);
});
