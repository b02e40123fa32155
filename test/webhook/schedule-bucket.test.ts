/**
 * `velero restore create --from-schedule S` through the webhook over HTTPS when the API server
 * cannot tell which backup that is (no access, a failing call, a backup it does not list yet): the
 * backup is found as Velero's restore controller picks it, from the `velero-backup.json` objects a
 * real S3 server (s3rver) holds. The analysis of each backup is the test's.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { S3BackupCatalog } from '../../src/storage/s3-backups.js';
import type { StorageLocation } from '../../src/storage/storage-location.js';
import { cluster, machine, report, standardReport } from '../grpc/helpers.js';
import { makePki, type Pki } from '../grpc/pki.js';
import { completedBackup, startS3, type S3Server } from '../helpers/s3.js';
import { startFakeKube } from '../plugin/fake-kube.js';
import { clusterScheduleBackups } from '../../src/kube/schedule-backups.js';
import { admissionReview, post, responseOf, restoreObject, startTestWebhook } from './helpers.js';

const BUCKET = 'velero';

let pki: Pki;
let ca: Buffer;
let s3: S3Server;

test.before(async () => {
  pki = await makePki();
  ca = await readFile(pki.caCert);
  s3 = await startS3();
  await s3.createBucket(BUCKET);
});

test.after.always(async () => {
  await pki?.remove();
  await s3?.stop();
});

function location(prefix: string): StorageLocation {
  return {
    name: 'default',
    bucket: BUCKET,
    prefix,
    s3Url: s3.endpoint,
    s3ForcePathStyle: true,
    region: 'us-east-1',
    credentialsFile: s3.credentialsFile,
    profile: s3.profile,
  };
}

/** `velero-backup.json` of a backup of `schedule` that started at `started`, alone under `<prefix>/backups/<name>/`. */
async function putScheduleBackup(prefix: string, name: string, schedule: string, started: string, phase = 'Completed'): Promise<void> {
  const backup = completedBackup(name, { phase }) as { metadata: { labels: Record<string, string> }; status: Record<string, string> };
  backup.metadata.labels['velero.io/schedule-name'] = schedule;
  backup.status['startTimestamp'] = started;
  backup.status['completionTimestamp'] = started.replace(':00Z', ':30Z');
  await s3.putObject(BUCKET, `${prefix}/backups/${name}/velero-backup.json`, JSON.stringify(backup, null, 2));
}

const drifted = (backup: string) => standardReport(backup);
const clean = (backup: string) => report(backup, cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')]));
const fromSchedule = (schedule: string) => admissionReview(restoreObject({ scheduleName: schedule }));

/** The webhook with the bucket under `prefix` as its only storage location, and `apiServer` as the cluster it serves. */
async function judgeSchedule(
  prefix: string,
  apiServer: Parameters<typeof startTestWebhook>[0]['schedules'],
  reports: Record<string, 'drifted' | 'clean'>,
) {
  const w = await startTestWebhook({
    tls: { certFile: pki.serverCert, keyFile: pki.serverKey },
    schedules: { ...apiServer, buckets: new Map([['default', new S3BackupCatalog(location(prefix), { timeoutMs: 5000 })]]) },
  });
  try {
    for (const [name, kind] of Object.entries(reports)) w.detection.reports.set(name, kind === 'drifted' ? drifted(name) : clean(name));
    const response = responseOf(await post(w.webhook.port, ca, fromSchedule('daily')));
    return { response, analysed: w.detection.calls.map((c) => c.source), logs: w.logs };
  } finally {
    await w.stop();
  }
}

test('no API server access: the newest Completed backup of the schedule in the bucket is judged (older drifted, newer clean: allowed)', async (t) => {
  await putScheduleBackup('a', 'daily-20260101000000', 'daily', '2026-01-01T00:00:00Z');
  await putScheduleBackup('a', 'daily-20260102000000', 'daily', '2026-01-02T00:00:00Z');
  // Newer but not Completed, and another schedule's: neither is the one Velero restores.
  await putScheduleBackup('a', 'daily-20260103000000', 'daily', '2026-01-03T00:00:00Z', 'PartiallyFailed');
  await putScheduleBackup('a', 'weekly-20260104000000', 'weekly', '2026-01-04T00:00:00Z');
  const noAccess = { apiServer: clusterScheduleBackups({ loadConfig: () => Promise.reject(new Error('no kubeconfig and not in a pod')) }) };
  const { response, analysed } = await judgeSchedule('a', noAccess, {
    'daily-20260101000000': 'drifted',
    'daily-20260102000000': 'clean',
    'daily-20260103000000': 'drifted',
    'weekly-20260104000000': 'drifted',
  });
  t.true(response.allowed, JSON.stringify(response));
  t.deepEqual(analysed, ['s3://velero/backups/daily-20260102000000/daily-20260102000000.tar.gz']);
});

test('no API server access: older clean, newer drifted: denied, naming the backup the schedule resolves to', async (t) => {
  await putScheduleBackup('b', 'daily-20260101000000', 'daily', '2026-01-01T00:00:00Z');
  // Its name sorts first, its start is the latest: the start time decides, as in Velero.
  await putScheduleBackup('b', 'daily-0-manual', 'daily', '2026-01-02T00:00:00Z');
  const noAccess = { apiServer: clusterScheduleBackups({ loadConfig: () => Promise.reject(new Error('no kubeconfig and not in a pod')) }) };
  const { response } = await judgeSchedule('b', noAccess, { 'daily-20260101000000': 'clean', 'daily-0-manual': 'drifted' });
  t.false(response.allowed);
  t.is(response.status?.code, 403);
  t.regex(response.status!.message, /backup daily-0-manual \(newest of schedule daily\)/);
  t.regex(response.status!.message, /Cluster default\/wc-ghost/);
});

test('the API server refuses the listing, or does not list the backups yet: the bucket answers; no source at all: allowed with a warning', async (t) => {
  await putScheduleBackup('c', 'daily-20260101000000', 'daily', '2026-01-01T00:00:00Z');
  await putScheduleBackup('c', 'daily-20260102000000', 'daily', '2026-01-02T00:00:00Z');
  const reports = { 'daily-20260101000000': 'clean', 'daily-20260102000000': 'drifted' } as const;
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  // An empty listing: Velero has not synced the bucket's backups into this cluster yet.
  const unsynced = await judgeSchedule(
    'c',
    { apiServer: clusterScheduleBackups({ loadConfig: () => Promise.resolve(kube.kubeConfig) }) },
    reports,
  );
  t.false(unsynced.response.allowed);
  t.regex(unsynced.response.status!.message, /backup daily-20260102000000 \(newest of schedule daily\)/);
  t.true(
    kube.requests.some((r) => r.path === '/apis/velero.io/v1/namespaces/velero/backups'),
    'the API server was asked first',
  );

  const refusing = {
    list: () => Promise.reject(new Error('backups.velero.io is forbidden: User "system:serviceaccount:velero:drift-detector" cannot list')),
  };
  const forbidden = await judgeSchedule('c', { apiServer: refusing }, reports);
  t.false(forbidden.response.allowed);
  t.regex(forbidden.response.status!.message, /daily-20260102000000/);
  t.true(forbidden.logs.some((l) => l.includes('the Backups of a schedule could not be listed')));

  // A bucket with no backup of the schedule and an API server that fails: not checked, and said so.
  const none = await judgeSchedule('empty', { apiServer: refusing }, reports);
  t.true(none.response.allowed);
  t.regex(
    none.response.warnings?.[0] ?? '',
    /could not find the newest backup of schedule daily \(the API server: backups\.velero\.io is forbidden/,
  );
  t.deepEqual(none.analysed, []);
});
