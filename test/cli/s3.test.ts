/** `detect` reading the backup straight from the Velero bucket (a real S3 protocol server). */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import { startS3 } from '../helpers/s3.js';
import { runCli, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';

async function setup(t: Parameters<typeof scenario>[0]) {
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1')] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.createBucket('velero');
  await s3.putBackup('velero', 'tkg', 'nightly-20261120', backup.path);
  const dir = await tempDir();
  const location = join(dir, 'bsl.yaml');
  await writeFile(
    location,
    [
      'apiVersion: velero.io/v1',
      'kind: BackupStorageLocation',
      'metadata: {name: default, namespace: velero}',
      'spec:',
      '  provider: aws',
      '  objectStorage: {bucket: velero, prefix: tkg}',
      `  config: {region: minio, s3ForcePathStyle: "true", s3Url: "${s3.endpoint}", profile: ${s3.profile}, credentialsFile: ${s3.credentialsFile}}`,
      '',
    ].join('\n'),
  );
  return { s3, dir, location };
}

test('detect --backup-name with a BackupStorageLocation file reads the tarball from the bucket', async (t) => {
  const { s3, dir, location } = await setup(t);
  const output = join(dir, 'report.json');
  const result = await runCli([
    'detect',
    '--backup-name',
    'nightly-20261120',
    '--storage-location',
    location,
    '-o',
    output,
    '--skip-access-apiserver',
  ]);
  t.is(result.code, 0, result.stderr);
  const report = JSON.parse(await readFile(output, 'utf8')) as DriftReport;
  t.is(report.summary.status, 'Healthy');
  t.is(report.metadata!.backup, 's3://velero/tkg/backups/nightly-20261120/nightly-20261120.tar.gz');
  t.is(s3.requests.filter((r) => r.method === 'GET' && r.key?.endsWith('.tar.gz')).length, 1);
});

test('detect --backup s3://... takes the endpoint and credentials from the environment', async (t) => {
  const { s3, dir } = await setup(t);
  const output = join(dir, 'report.json');
  const result = await runCli(
    ['detect', '--backup', 's3://velero/tkg/backups/nightly-20261120/nightly-20261120.tar.gz', '-o', output, '--skip-access-apiserver'],
    { AWS_ENDPOINT_URL: s3.endpoint, AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile, AWS_PROFILE: s3.profile, AWS_REGION: 'minio' },
  );
  t.is(result.code, 0, result.stderr);
  t.is((JSON.parse(await readFile(output, 'utf8')) as DriftReport).summary.status, 'Healthy');
});

test('a missing backup in the bucket: exit 2, bucket and key named, no report', async (t) => {
  const { dir, location } = await setup(t);
  const output = join(dir, 'report.json');
  const result = await runCli(['detect', '--backup-name', 'nope', '--storage-location', location, '-o', output]);
  t.is(result.code, 2);
  t.regex(result.stderr, /s3:\/\/velero\/tkg\/backups\/nope\/nope\.tar\.gz/);
  await t.throwsAsync(readFile(output));
});

test('--backup-name needs a storage location', async (t) => {
  const result = await runCli(['detect', '--backup-name', 'nightly', '-o', 'r.json']);
  t.is(result.code, 2);
  t.regex(result.stderr, /--storage-location/);
});
