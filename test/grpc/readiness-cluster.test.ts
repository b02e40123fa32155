/**
 * The readiness watch reading Velero's Backup objects (watch.source auto, with a cluster): a
 * loopback HTTPS API server holds the Backups and pages its lists, s3rver holds the tarballs the
 * analysis reads, vcsim is the vCenter. Every wait is a bounded poll on a condition.
 */
import test from 'ava';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import { runCli, scenario, tkgCluster } from '../helpers/scenario.js';
import { completedBackup, startS3, type S3Server } from '../helpers/s3.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { call, pollUntil, startTestService, type TestService } from './helpers.js';

const BUCKET = 'velero';
const INTERVAL_MS = 400;
const BACKUPS = '/apis/velero.io/v1/namespaces/velero/backups';

interface Location {
  storage_location: string;
  backup: string;
  analyzed: boolean;
  restorable: boolean;
  error: string;
  not_checked: string;
}

function location(s3: S3Server, name: string, bucket = BUCKET): ConfiguredStorageLocation {
  return {
    name,
    isDefault: name === 'default',
    location: {
      bucket,
      prefix: 'tkg',
      s3Url: s3.endpoint,
      s3ForcePathStyle: true,
      region: 'us-east-1',
      credentialsFile: s3.credentialsFile,
    },
    timeoutMs: 5_000,
    deadlineMs: 60_000,
  };
}

/** A Backup object as Velero keeps it in its namespace. */
function backupObject(name: string, status: { phase: string; completed?: string }, storageLocation = 'default'): any {
  const json = completedBackup(name, { storageLocation }) as { status: Record<string, unknown> };
  return {
    ...json,
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    // The API server gives each Backup its own uid (the bucket's copy carries a fixed one).
    metadata: { ...(json as any).metadata, uid: undefined },
    spec: { ...(json as any).spec, storageLocation },
    status: { ...json.status, phase: status.phase, startTimestamp: '2026-11-30T09:00:00Z', completionTimestamp: status.completed },
  };
}

const readiness = (service: TestService, storageLocation = 'default') =>
  call<{ locations: Location[] }>(service.clients.detector, 'GetReadiness', { storage_location: storageLocation }).then((r) => r.locations[0]!);

test("with a cluster, the watch follows the location's Backup objects: one that appears is analysed within an interval", async (t) => {
  const s = await scenario(t, { clusters: [tkgCluster('wc-a')] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  // The bucket holds both tarballs; b2's velero-backup.json is newer, but the cluster decides.
  await s3.putBackup(BUCKET, 'tkg', 'b1', s.backup.path);
  await s3.putBackup(BUCKET, 'tkg', 'b2', s.backup.path);
  const kube = await startKubeApi({ pageLimitMax: 2 });
  t.teardown(() => kube.stop());
  kube.put(backupObject('b1', { phase: 'Completed', completed: '2026-11-30T10:00:00Z' }));
  kube.put(backupObject('b0', { phase: 'Completed', completed: '2026-11-29T10:00:00Z' }));
  kube.put(backupObject('running', { phase: 'InProgress' }));
  kube.put(backupObject('failed', { phase: 'Failed', completed: '2026-11-30T12:00:00Z' }));
  kube.put(backupObject('elsewhere', { phase: 'Completed', completed: '2026-11-30T13:00:00Z' }, 'other'));

  const service = await startTestService({
    config: { storageLocations: [location(s3, 'default')], watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'auto' } },
    env: { KUBECONFIG: await kube.writeKubeconfig() },
  });
  t.teardown(() => service.stop());
  t.true(service.logs.some((l) => /"@message":"serving".*"watchSource":"cluster"/.test(l)));
  const bound = 20 * INTERVAL_MS + 10_000;

  const first = await pollUntil(
    () => readiness(service),
    (l) => l.analyzed,
    bound,
    'first analysis',
  );
  t.is(first.backup, 'b1', 'the newest Completed Backup of this location, not the bucket newest nor another location');
  t.true(first.restorable);
  const lists = kube.requests.filter((r) => r.path === BACKUPS && r.method === 'GET');
  t.true(
    lists.some((r) => r.query.get('continue')),
    'the listing follows continue',
  );
  t.true(
    lists.every((r) => Number(r.query.get('limit')) > 0),
    'every page asks for a limit',
  );

  const appeared = Date.now();
  kube.put(backupObject('b2', { phase: 'Completed', completed: '2026-11-30T11:00:00Z' }));
  const second = await pollUntil(
    () => readiness(service),
    (l) => l.backup === 'b2' && l.analyzed,
    bound,
    'new Backup object',
  );
  t.true(second.restorable);
  t.log(`Backup object to analysed: ${Date.now() - appeared} ms (interval ${INTERVAL_MS} ms)`);
  const text = await service.running.metrics.registry.metrics();
  t.regex(text, /drift_detector_backup_restorable\{storage_location="default",backup="b2"\} 1/);
  t.regex(text, /drift_detector_backup_interval_seconds\{storage_location="default",backup="b2"\} 3600\n/, 'b1 completed an hour before');
});

test("a cluster that refuses the listing is the location's failure; the watch does not fall back to the bucket", async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const kube = await startKubeApi();
  t.teardown(() => kube.stop());
  kube.fail(BACKUPS, 403);
  const service = await startTestService({
    config: {
      storageLocations: [location(s3, 'default')],
      watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'cluster' },
    },
    env: { KUBECONFIG: await kube.writeKubeconfig() },
  });
  t.teardown(() => service.stop());
  // Until it leads, the replica says it cannot read the verdicts either; then the watch's own failure.
  const failed = await pollUntil(
    () => readiness(service),
    (l) => l.error.startsWith('backups in velero:'),
    10_000,
    'failure reported',
  );
  t.regex(failed.error, /backups in velero: forbidden \(403\): .*list on backups\.velero\.io/);
  t.false(failed.error.includes('injected'), "the API server's text stays out");
  t.is(failed.backup, '');
  t.false(
    s3.requests.some((r) => r.method === 'GET'),
    'no bucket listing instead',
  );

  kube.heal(BACKUPS);
  await pollUntil(
    () => readiness(service),
    (l) => l.error === '',
    10_000,
    'recovered',
  );
});

test('watch.source cluster without any cluster: each check says so', async (t) => {
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  const service = await startTestService({
    config: {
      storageLocations: [location(s3, 'default')],
      watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'cluster' },
    },
    env: {},
  });
  t.teardown(() => service.stop());
  const failed = await pollUntil(
    () => readiness(service),
    (l) => l.error !== '',
    10_000,
    'failure reported',
  );
  t.regex(failed.error, /no ~\/\.kube\/config and no KUBECONFIG/);
});

test("a Backup its bucket does not hold yet is not checked (a warning, no verdict); a bucket that cannot be used is the location's failure", async (t) => {
  const s = await scenario(t, { clusters: [tkgCluster('wc-a')] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.createBucket(BUCKET);
  const kube = await startKubeApi();
  t.teardown(() => kube.stop());
  kube.put(backupObject('b3', { phase: 'Completed', completed: '2026-11-30T10:00:00Z' }));
  kube.put(backupObject('m1', { phase: 'Completed', completed: '2026-11-30T10:00:00Z' }, 'misnamed'));
  const service = await startTestService({
    config: {
      storageLocations: [location(s3, 'default'), location(s3, 'misnamed', 'no-such-bucket')],
      watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'cluster' },
    },
    env: { KUBECONFIG: await kube.writeKubeconfig() },
  });
  t.teardown(() => service.stop());
  const bound = 20 * INTERVAL_MS + 10_000;

  const waiting = await pollUntil(
    () => readiness(service),
    (l) => l.not_checked !== '',
    bound,
    'not checked',
  );
  t.like(waiting, { backup: 'b3', analyzed: false, error: '' });
  t.regex(
    waiting.not_checked,
    /^backup b3 is listed but not in the bucket of storage location default \(the bucket answered; .*\): not checked yet$/,
  );
  const watched = await runCli(['check', '--server', service.running.address, '--watch', '--storage-location', 'default', '--timeout', '2s']);
  t.is(watched.code, 1, watched.stderr);
  t.regex(watched.stdout, /^WAIT {2}default: backup b3 not checked yet\n {2}warning: backup b3 is listed but not in the bucket/);
  const broken = await pollUntil(
    () => readiness(service, 'misnamed'),
    (l) => l.error !== '',
    bound,
    'misnamed failure',
  );
  t.like(broken, { backup: 'm1', analyzed: false, not_checked: '' });
  t.regex(broken.error, /bucket no-such-bucket does not exist/);

  // Listed again (and found absent again) after the first time: still no verdict on b3, still one warning.
  const listed = kube.requests.filter((r) => r.path === BACKUPS && r.method === 'GET').length;
  await pollUntil(
    async () => kube.requests.filter((r) => r.path === BACKUPS && r.method === 'GET').length,
    (n) => n >= listed + 4,
    bound,
    'relisted',
  );
  t.is(kube.get('velero.io/v1', 'Backup', 'velero', 'b3')?.metadata?.labels?.['driftdetector.dev/restore-verdict'], undefined);
  t.is(kube.get('velero.io/v1', 'Backup', 'velero', 'm1')?.metadata?.labels?.['driftdetector.dev/restore-verdict'], 'Failed');
  t.is(service.logs.filter((l) => l.includes('"backup not checked yet"')).length, 1);
  const text = await service.running.metrics.registry.metrics();
  t.regex(text, /drift_detector_backup_not_checked\{storage_location="default",backup="b3"\} 1/);
  t.notRegex(text, /drift_detector_readiness_analysis_failures_total\{storage_location="default"\}/);
  t.regex(text, /drift_detector_readiness_analysis_failures_total\{storage_location="misnamed"\} [1-9]/);

  // Its tarball arrives: analysed, the warning gone, the verdict written.
  await s3.putBackup(BUCKET, 'tkg', 'b3', s.backup.path);
  const analysed = await pollUntil(
    () => readiness(service),
    (l) => l.analyzed,
    bound,
    'analysed',
  );
  t.like(analysed, { backup: 'b3', not_checked: '', error: '', restorable: true });
  await pollUntil(
    async () => kube.get('velero.io/v1', 'Backup', 'velero', 'b3')?.metadata?.labels?.['driftdetector.dev/restore-verdict'],
    (v) => v === 'Restorable',
    bound,
    'verdict written',
  );
  t.pass();
});
