/**
 * The readiness watch with its real peers: backups appearing in a real S3 protocol server, VMs
 * created and destroyed in a running vSphere simulator, the real detection, the gauges and the
 * WatchReadiness stream. Intervals are short; every wait is a bounded poll on a condition.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { completedBackup, startS3, type S3Server } from '../helpers/s3.js';
import { call, pollUntil, FakeDetection, standardReport, startTestService, testConfig, type TestService } from './helpers.js';

const BUCKET = 'velero';
const INTERVAL_MS = 400;

interface Location {
  storage_location: string;
  backup: string;
  analyzed: boolean;
  restorable: boolean;
  error: string;
  clusters: Array<{ name: string; verdict: string; ghost_machines: number }>;
}

function location(s3: S3Server, name: string, prefix: string, credentialsFile = s3.credentialsFile): ConfiguredStorageLocation {
  return {
    name,
    isDefault: name === 'default',
    location: { bucket: BUCKET, prefix, s3Url: s3.endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentialsFile },
    timeoutMs: 5_000,
    deadlineMs: 60_000,
  };
}

function backupJson(name: string, completed: string): object {
  const json = completedBackup(name) as { status: Record<string, unknown> };
  return { ...json, status: { ...json.status, completionTimestamp: completed } };
}

const readiness = (service: TestService, name: string) =>
  call<{ locations: Location[] }>(service.clients.detector, 'GetReadiness', { storage_location: name }).then((r) => r.locations[0]!);

const metricsText = (service: TestService) => service.running.metrics.registry.metrics();

test('the newest backup is analysed when it appears, and its verdict follows vSphere: a new VM flips it, its removal flips it back', async (t) => {
  const s = await scenario(t, { clusters: [tkgCluster('wc-a')] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, 'tkg', 'b1', s.backup.path, backupJson('b1', '2026-11-30T10:00:00Z'));

  const service = await startTestService({
    config: {
      storageLocations: [location(s3, 'default', 'tkg')],
      watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'bucket' },
    },
  });
  t.teardown(() => service.stop());
  // Each analysis of the real detection takes a few hundred ms here; a bound of several intervals
  // absorbs a loaded machine without making the test wait for it when it is not.
  const bound = 20 * INTERVAL_MS + 10_000;

  const first = await pollUntil(
    () => readiness(service, 'default'),
    (l) => l.analyzed,
    bound,
    'first analysis',
  );
  t.is(first.backup, 'b1');
  t.true(first.restorable);

  const detector = service.clients.detector as unknown as {
    WatchReadiness(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<{ locations: Location[] }>;
  };
  const messages: Location[] = [];
  const watching = detector.WatchReadiness({}, new grpc.Metadata());
  watching.on('data', (m: { locations: Location[] }) => messages.push(...m.locations));
  watching.on('error', () => {});
  t.teardown(() => watching.cancel());

  await s3.putBackup(BUCKET, 'tkg', 'b2', s.backup.path, backupJson('b2', '2026-11-30T11:00:00Z'));
  const second = await pollUntil(
    () => readiness(service, 'default'),
    (l) => l.backup === 'b2' && l.analyzed,
    bound,
    'new backup',
  );
  t.true(second.restorable);

  const mdName = s.backup.clusters.find((c) => c.name === 'wc-a')!.machineDeploymentName;
  const ghost = `${mdName}-7f9c8d-zzzzz`;
  await s.vcsim.addVM(s.seed.datacenters[0]!.name, capvVM(ghost, { powerState: 'poweredOn' }));
  const drifted = await pollUntil(
    () => readiness(service, 'default'),
    (l) => !l.restorable,
    bound,
    'ghost seen',
  );
  t.is(drifted.clusters[0]!.verdict, 'BLOCK');
  t.is(drifted.clusters[0]!.ghost_machines, 1);
  t.regex(await metricsText(service), /drift_detector_backup_restorable\{storage_location="default",backup="b2"\} 0/);
  t.regex(
    await metricsText(service),
    /drift_detector_backup_ghost_machines\{storage_location="default",backup="b2",cluster="default\/wc-a"\} 1/,
  );
  await pollUntil(
    async () => messages,
    (m) => m.some((l) => l.backup === 'b2' && l.analyzed && !l.restorable),
    5_000,
    'stream reports the drift',
  );

  await s.vcsim.removeVM(ghost);
  await pollUntil(
    () => readiness(service, 'default'),
    (l) => l.restorable,
    bound,
    'ghost gone',
  );
  t.regex(await metricsText(service), /drift_detector_backup_restorable\{storage_location="default",backup="b2"\} 1/);
  await pollUntil(
    async () => messages,
    (m) => m.at(-1)?.restorable === true,
    5_000,
    'stream reports the recovery',
  );
  t.false(
    messages.some((m, i) => i > 0 && JSON.stringify(m) === JSON.stringify(messages[i - 1])),
    'a message only on a change',
  );
  const text = await metricsText(service);
  t.regex(text, /drift_detector_readiness_last_success_timestamp_seconds\{storage_location="default"\} \d/);
  t.regex(text, /drift_detector_readiness_analysis_duration_seconds_count\{storage_location="default"\} \d/);
  t.regex(text, /drift_detector_backup_age_seconds\{storage_location="default",backup="b2"\} \d/);
  // What the alerts compare with: b1 completed an hour before b2, and the watch's own interval.
  t.regex(text, /drift_detector_backup_interval_seconds\{storage_location="default",backup="b2"\} 3600\n/);
  t.regex(text, new RegExp(`drift_detector_readiness_watch_interval_seconds\\{storage_location="default"\\} ${INTERVAL_MS / 1000}\n`));
});

test('a location whose credentials S3 refuses reports its failure while another location keeps working', async (t) => {
  const s = await scenario(t, { clusters: [tkgCluster('wc-a')] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, 'good', 'g1', s.backup.path);
  await s3.putBackup(BUCKET, 'bad', 'x1', s.backup.path);
  const dir = await tempDir();
  const wrong = join(dir, 'cloud');
  await writeFile(wrong, `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=not-the-secret\n`);

  const service = await startTestService({
    config: {
      storageLocations: [location(s3, 'default', 'good'), location(s3, 'broken', 'bad', wrong)],
      watch: { enabled: true, intervalMs: INTERVAL_MS, events: false, source: 'bucket' },
    },
  });
  t.teardown(() => service.stop());
  const broken = await pollUntil(
    () => readiness(service, 'broken'),
    (l) => l.error !== '',
    20_000,
    'failure reported',
  );
  t.regex(broken.error, /access denied .*SignatureDoesNotMatch/);
  t.false(broken.error.includes('not-the-secret'));
  const good = await pollUntil(
    () => readiness(service, 'default'),
    (l) => l.analyzed,
    20_000,
    'good location analysed',
  );
  t.is(good.backup, 'g1');
  t.is(good.error, '');
  const text = await metricsText(service);
  t.regex(text, /drift_detector_readiness_analysis_failures_total\{storage_location="broken"\} [1-9]/);
  // The stale-analysis alert has a series to count from for a location that never had a success.
  t.regex(text, /drift_detector_readiness_watch_start_timestamp_seconds\{storage_location="broken"\} \d/);
  t.notRegex(text, /drift_detector_readiness_last_success_timestamp_seconds\{storage_location="broken"\}/);

  const all = await call<{ locations: Location[] }>(service.clients.detector, 'GetReadiness', {});
  t.deepEqual(
    all.locations.map((l) => l.storage_location),
    ['default', 'broken'],
  );
});

test('without watch.enabled, GetReadiness says the watch is not running', async (t) => {
  const service = await startTestService({});
  t.teardown(() => service.stop());
  const err = await t.throwsAsync<grpc.ServiceError>(call(service.clients.detector, 'GetReadiness', {}));
  t.is(err.code, grpc.status.FAILED_PRECONDITION);
  t.regex(err.details, /readiness watch is not running/);
});

test('a watch result answers the gate while it is fresh (analysis.maxAge), and check --watch follows the readiness', async (t) => {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  const service = await startTestService({
    config: {
      analysis: { ...testConfig().analysis, cacheTtlMs: 0, maxAgeMs: 60_000 },
      watch: { enabled: true, intervalMs: 60_000, events: false, source: 'bucket' },
    },
    deps: {
      ...fake.deps(),
      catalogOf: () => ({ recentCompleted: () => Promise.resolve({ backups: [{ name: 'b1', completedAt: Date.now() }], future: [] }) }),
    },
  });
  t.teardown(() => service.stop());
  await pollUntil(
    () => readiness(service, 'default'),
    (l) => l.analyzed,
    10_000,
    'watch analysis',
  );
  const check = await call<{ verdict: string; cached: boolean }>(service.clients.detector, 'Check', { backup_name: 'b1' });
  t.is(check.verdict, 'BLOCK');
  t.true(check.cached, 'the watch result stands for the analysis although cacheTTL is 0');
  t.is(fake.calls.length, 1);

  const watched = await runCli(['check', '--server', service.running.address, '--watch', '--timeout', '2s']);
  t.is(watched.code, 1, watched.stderr);
  t.regex(watched.stdout, /^DRIFT default: backup b1 \(ManualRemediationRequired\) analysed \d{4}-/);
  t.regex(watched.stdout, /BLOCK default\/wc-ghost +ManualRemediationRequired +ghost 1, unknown 0/);
});
