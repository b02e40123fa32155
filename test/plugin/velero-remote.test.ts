/**
 * The plugin in remote mode through Velero's host: it names the BackupStorageLocation the
 * restore's Backup object is in (read from a Kubernetes API on loopback), and a real `serve` with
 * two storage locations in s3rver, each holding a backup of the same name (one drifted, one clean),
 * judges the backup in that location. A location the service lacks fails the Cluster clearly; a
 * plugin that cannot read the Backup names none, and the service keeps to its default location.
 */
import test, { type ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import { startTestService } from '../grpc/helpers.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { capvVM, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { veleroRestore } from '../helpers/velero.js';
import { startFakeKube, type FakeKube } from './fake-kube.js';
import { backedUpObject, itemOf, PLUGIN_NAME, runHarness, veleroItem } from './helpers.js';
import { assertCleanExit, CLUSTERS, messages, pluginFiles, PREFIX } from './velero-run.js';

const BACKUP_PATH = '/apis/velero.io/v1/namespaces/velero/backups/b1';

function location(s3: S3Server, name: string, bucket: string, isDefault: boolean): ConfiguredStorageLocation {
  return {
    name,
    isDefault,
    location: { bucket, prefix: PREFIX, s3Url: s3.endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentialsFile: s3.credentialsFile },
    timeoutMs: 10_000,
    deadlineMs: 60_000,
  };
}

/** Backup b1 twice: drifted in the default location's bucket, clean in the other's; a serve with both; Velero's API. */
async function setup(t: ExecutionContext) {
  const drifted = await scenario(
    t,
    { clusters: [tkgCluster('wc-a')], seed: 'remote-drifted' },
    { mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`)) },
  );
  const clean = await scenario(t, { clusters: [tkgCluster('wc-a')], seed: 'remote-clean' });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup('velero', PREFIX, 'b1', drifted.backup.path);
  await s3.putBackup('velero-west', PREFIX, 'b1', clean.backup.path);
  const service = await startTestService({
    config: { storageLocations: [location(s3, 'default', 'velero', true), location(s3, 'west', 'velero-west', false)] },
  });
  t.teardown(() => service.stop());
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  const dir = await tempDir('drift-remote-');
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kube.kubeConfig.exportConfig());
  const files = await pluginFiles(s3, { remoteEndpoint: service.running.address, remoteTimeout: '60s' });
  const cluster = backedUpObject(clean.backup, CLUSTERS, 'default', 'wc-a');
  return { s3, service, kube, env: { ...files, KUBECONFIG: kubeconfig }, cluster };
}

function putBackup(kube: FakeKube, storageLocation: string): void {
  kube.put(BACKUP_PATH, {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: 'b1', namespace: 'velero' },
    spec: { storageLocation },
  });
}

/** The Cluster wc-a of a Restore from b1, through Velero's host and the plugin in remote mode. */
async function restoreCluster(env: NodeJS.ProcessEnv, cluster: Record<string, any>) {
  const run = await runHarness({
    env,
    calls: [
      {
        rpc: 'Execute',
        plugin: PLUGIN_NAME,
        item: Buffer.from(JSON.stringify(veleroItem(cluster))),
        itemFromBackup: Buffer.from(JSON.stringify(cluster)),
        restore: veleroRestore('b1'),
      },
    ],
  });
  return { run, result: run.outcome.results[0]! };
}

test('remote mode: the service judges the backup in the storage location the Backup names; one it lacks fails clearly', async (t) => {
  const { s3, service, kube, env, cluster } = await setup(t);
  const gets = (bucket: string) =>
    s3.requests.filter((r) => r.method === 'GET' && r.bucket === bucket && r.key?.endsWith('b1.tar.gz') === true).length;

  // The Backup is in "west": the clean b1 there, not the drifted b1 of the default location.
  putBackup(kube, 'west');
  const west = await restoreCluster(env, cluster);
  t.true(west.result.ok, west.result.error);
  t.is(JSON.parse(itemOf(west.result).toString('utf8')).metadata.annotations['driftdetector.dev/status'], 'Healthy');
  t.is(gets('velero-west'), 1);
  t.is(gets('velero'), 0);
  assertCleanExit(t, west.run);

  // The Backup is in "default": the drifted b1, blocked.
  putBackup(kube, 'default');
  const home = await restoreCluster(env, cluster);
  t.false(home.result.ok);
  t.is(home.result.code, 'FailedPrecondition');
  t.regex(home.result.error!, /blocked the restore of Cluster default\/wc-a: it has ghost machines .*-7f9c8d-zzzzz/);
  t.is(gets('velero'), 1);

  // A location the service is not configured with: FAILED_PRECONDITION naming it and the service's.
  putBackup(kube, 'east');
  const east = await restoreCluster(env, cluster);
  t.false(east.result.ok);
  t.is(east.result.code, 'FailedPrecondition');
  t.regex(
    east.result.error!,
    /drift-detector service at 127\.0\.0\.1:\d+: .*backup b1: storage location "east" is not configured \(configured: default, west\)/,
  );
  t.regex(east.result.error!, /failurePolicy Fail/);

  // Each call named its location in the metadata; the service logged it with the call.
  const calls = service.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['method'] === 'RestoreItemAction/Execute');
  t.deepEqual(
    calls.map((l) => l['storageLocation']),
    ['west', 'default', 'east'],
  );
  t.true(kube.requests.filter((r) => r.path === BACKUP_PATH).length >= 3);
});

test('remote mode: a plugin that cannot read the Backup names no location, and the service reads its default one', async (t) => {
  const { s3, kube, env, cluster } = await setup(t);
  putBackup(kube, 'west');
  kube.fail(BACKUP_PATH, 403);
  const { run, result } = await restoreCluster(env, cluster);
  // The default location holds the drifted b1.
  t.false(result.ok);
  t.regex(result.error!, /blocked the restore of Cluster default\/wc-a: it has ghost machines/);
  t.is(s3.requests.filter((r) => r.method === 'GET' && r.bucket === 'velero-west').length, 0);
  t.true(
    messages(run.pluginLog, 'warn').includes("cannot read the Backup's storage location; the service reads the backup from its default one"),
  );
});
