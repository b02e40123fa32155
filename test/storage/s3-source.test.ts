import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import test from 'ava';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { BackupSourceError } from '../../src/backup/errors.js';
import { BackupError, readBackup } from '../../src/backup/reader.js';
import { s3BackupSource, s3BackupSourceFromUrl, s3ObjectSource } from '../../src/storage/s3-source.js';
import type { StorageLocation } from '../../src/storage/storage-location.js';
import { buildBackup, type FixtureBackup } from '../fixtures/builder.js';
import { startS3, type S3Server } from '../helpers/s3.js';

const BUCKET = 'velero';
const PREFIX = 'tkg/mgmt';

let s3: S3Server;
let fixture: FixtureBackup;

test.before(async () => {
  // The server runs as Velero's bucket would: one key pair, under a non-default profile.
  s3 = await startS3({ profile: 'velero' });
  fixture = await buildBackup({
    clusters: [
      { name: 'wc-1', vcenter: { server: 'vc1.example.com', datacenter: '/DC0' }, controlPlane: 1, workers: 2 },
      {
        name: 'wc-2',
        namespace: 'prod',
        classBased: true,
        vcenter: { server: 'vc1.example.com', datacenter: '/DC0' },
        controlPlane: 3,
        workers: 1,
      },
    ],
    managementCluster: true,
  });
  for (const name of ['daily-20240501', 'counted', 'cut', 'stalled']) await s3.putBackup(BUCKET, PREFIX, name, fixture.path);
});

test.after.always(async () => {
  await s3?.stop();
});

function location(overrides: Partial<StorageLocation> = {}): StorageLocation {
  return {
    name: 'default',
    bucket: BUCKET,
    prefix: PREFIX,
    s3Url: s3.endpoint,
    s3ForcePathStyle: true,
    region: 'us-east-1',
    credentialsFile: s3.credentialsFile,
    profile: 'velero',
    ...overrides,
  };
}

function tarballGets(key: string): number {
  return s3.requests.filter((r) => r.method === 'GET' && r.bucket === BUCKET && r.key === key).length;
}

async function drain(stream: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += (chunk as Buffer).length;
  return bytes;
}

test('a backup read from the bucket holds the same objects as the same tarball read from disk', async (t) => {
  const key = `${PREFIX}/backups/counted/counted.tar.gz`;
  const source = s3BackupSource(location(), 'counted');
  t.is(source.description, `s3://${BUCKET}/${key}`);

  const fromS3 = await readBackup(source);
  const fromFile = await readBackup(fileBackupSource(fixture.path));
  t.is(fromS3.source, `s3://${BUCKET}/${key}`);
  t.deepEqual({ ...fromS3, source: '' }, { ...fromFile, source: '' });
  t.is(
    fromS3.machines.length,
    fixture.clusters.reduce((n, c) => n + c.machines.length, 0),
  );
  t.is(fromS3.formatVersion, '1.1.0');
  t.is(tarballGets(key), 1, 'one GET of the tarball, no retries or ranged re-reads');
});

test('backups at the bucket root (no prefix) are read', async (t) => {
  await s3.createBucket('root-bucket');
  await s3.putBackup('root-bucket', '', 'root-backup', fixture.path);
  const root = location({ bucket: 'root-bucket', prefix: undefined });
  const objects = await readBackup(s3BackupSource(root, 'root-backup'));
  t.is(objects.source, 's3://root-bucket/backups/root-backup/root-backup.tar.gz');
});

test('a missing backup is an error naming the bucket and key', async (t) => {
  const err = await t.throwsAsync(s3BackupSource(location(), 'no-such-backup').open(), { instanceOf: BackupSourceError });
  t.is(err.failure, 'not-found');
  t.is(err.message, `backup no-such-backup not found: s3://${BUCKET}/${PREFIX}/backups/no-such-backup/no-such-backup.tar.gz`);
  t.is(err.bucket, BUCKET);
  t.is(err.key, `${PREFIX}/backups/no-such-backup/no-such-backup.tar.gz`);

  const viaReader = await t.throwsAsync(readBackup(s3BackupSource(location(), 'no-such-backup')), { instanceOf: BackupError });
  t.true(viaReader.message.includes(`s3://${BUCKET}/${PREFIX}/backups/no-such-backup/no-such-backup.tar.gz`));
});

test('a missing bucket is a misconfigured location naming the bucket and the endpoint, never a missing backup', async (t) => {
  const err = await t.throwsAsync(s3BackupSource(location({ bucket: 'no-such-bucket' }), 'daily-20240501').open(), {
    instanceOf: BackupSourceError,
  });
  t.is(err.failure, 'no-bucket');
  t.is(
    err.message,
    `bucket no-such-bucket does not exist at ${s3.endpoint}: check the storage location's bucket ` +
      `(reading backup daily-20240501, s3://no-such-bucket/${PREFIX}/backups/daily-20240501/daily-20240501.tar.gz)`,
  );
});

test('a wrong secret is refused as access denied, naming profile and file, never quoting a secret', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 's3-creds-'));
  const wrongSecret = `wrong-${randomBytes(12).toString('hex')}`;
  const file = join(dir, 'cloud');
  await writeFile(file, `[velero]\naws_access_key_id = ${s3.accessKeyId}\naws_secret_access_key = ${wrongSecret}\n`);

  const key = `${PREFIX}/backups/daily-20240501/daily-20240501.tar.gz`;
  const err = await t.throwsAsync(s3BackupSource(location({ credentialsFile: file }), 'daily-20240501').open(), {
    instanceOf: BackupSourceError,
  });
  t.is(err.failure, 'access-denied');
  t.is(err.message, `access denied to s3://${BUCKET}/${key} (SignatureDoesNotMatch): check the credentials of profile velero in ${file}`);
  const viaReader = await t.throwsAsync(readBackup(s3BackupSource(location({ credentialsFile: file }), 'daily-20240501')));
  for (const text of [err.message, String(err.stack), viaReader.message]) {
    t.false(text.includes(wrongSecret));
    t.false(text.includes(s3.secretAccessKey));
  }
});

test('an unknown access key is refused as access denied', async (t) => {
  const err = await t.throwsAsync(
    s3BackupSource(location(), 'daily-20240501', {
      credentials: { accessKeyId: 'AKIANOTKNOWN0000', secretAccessKey: s3.secretAccessKey },
    }).open(),
    { instanceOf: BackupSourceError },
  );
  t.is(err.failure, 'access-denied');
  t.regex(err.message, /^access denied to s3:\/\/velero\/.+ \(InvalidAccessKeyId\): check the credentials given to the detector$/);
  t.false(err.message.includes(s3.secretAccessKey));
});

test('credentials come from the profile of the location, else "default", in the INI file', async (t) => {
  // The server's key pair is under [velero]; without a profile the location means [default].
  const err = await t.throwsAsync(s3BackupSource(location({ profile: undefined }), 'daily-20240501').open(), {
    instanceOf: BackupSourceError,
  });
  t.is(err.failure, 'credentials');
  t.is(
    err.message,
    `no credentials for s3://${BUCKET}/${PREFIX}/backups/daily-20240501/daily-20240501.tar.gz: ` +
      `${s3.credentialsFile} has no profile default with aws_access_key_id and aws_secret_access_key`,
  );

  const missingFile = join(tmpdir(), `no-such-credentials-${randomBytes(4).toString('hex')}`);
  const noFile = await t.throwsAsync(s3BackupSource(location({ credentialsFile: missingFile }), 'daily-20240501').open(), {
    instanceOf: BackupSourceError,
  });
  t.is(noFile.failure, 'credentials');
  t.true(noFile.message.includes(`the credentials file ${missingFile} does not exist`));
});

test('AWS_SHARED_CREDENTIALS_FILE gives the credentials file when the location names none', async (t) => {
  const source = s3BackupSource(location({ credentialsFile: undefined }), 'daily-20240501', {
    env: { AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile },
  });
  const objects = await readBackup(source);
  t.true(objects.clusters.length > 0);
});

test('credentials from a BSL Secret (credentialsProvider) are used without a file', async (t) => {
  const source = s3BackupSource(
    location({
      credentialsFile: undefined,
      credentialsProvider: async () => ({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }),
      credentialsOrigin: 'Secret velero/bsl-credentials key cloud',
    }),
    'daily-20240501',
    { env: {} },
  );
  t.true((await readBackup(source)).clusters.length > 0);
});

test('detect --backup s3://... : bucket and key from the URL, endpoint and credentials from the environment', async (t) => {
  const url = `s3://${BUCKET}/${PREFIX}/backups/daily-20240501/daily-20240501.tar.gz`;
  const env = { AWS_ENDPOINT_URL: s3.endpoint, AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile, AWS_PROFILE: 'velero' };
  const source = s3BackupSourceFromUrl(url, { env });
  t.is(source.description, url);
  const fromUrl = await readBackup(source);
  const fromFile = await readBackup(fileBackupSource(fixture.path));
  t.deepEqual({ ...fromUrl, source: '' }, { ...fromFile, source: '' });

  // A tarball outside Velero's layout is read by its key.
  await s3.putObject('copies', 'handover/mgmt-backup.tar.gz', await import('node:fs/promises').then((fs) => fs.readFile(fixture.path)));
  const copy = s3BackupSourceFromUrl('s3://copies/handover/mgmt-backup.tar.gz', { env });
  t.true((await readBackup(copy)).clusters.length > 0);
});

test('the tarball is streamed: the download advances only as the stream is read', async (t) => {
  const size = 32 * 1024 * 1024;
  const dir = await mkdtemp(join(tmpdir(), 's3-big-'));
  await writeFile(join(dir, 'big.tar.gz'), randomBytes(size));
  await s3.putBackup(BUCKET, 'streaming', 'big', join(dir, 'big.tar.gz'));
  const key = 'streaming/backups/big/big.tar.gz';

  const stream = await s3BackupSource(location({ prefix: 'streaming' }), 'big').open();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const entry = s3.requests.findLast((r) => r.method === 'GET' && r.key === key)!;
  // Unread, only socket buffers fill: nowhere near the whole object has left the server.
  t.true(entry.bytesSent < size / 2, `${entry.bytesSent} bytes sent before anything was read`);
  t.is(await drain(stream), size);
  t.is(entry.bytesSent, size);
});

test('a connection cut mid-download fails the stream with an error naming the object', async (t) => {
  const key = `${PREFIX}/backups/cut/cut.tar.gz`;
  s3.breakDownload(BUCKET, key, { afterBytes: 2000, mode: 'reset' });
  const err = await t.throwsAsync(readBackup(s3BackupSource(location(), 'cut')), { instanceOf: BackupError });
  t.true(err.message.startsWith(`s3://${BUCKET}/${key}: `), err.message);
  t.true(err.cause instanceof BackupSourceError, String(err.cause));
  t.regex(
    (err.cause as BackupSourceError).message,
    /^reading s3:\/\/velero\/tkg\/mgmt\/backups\/cut\/cut\.tar\.gz from http:\/\/127\.0\.0\.1:\d+ failed: /,
  );
});

test('a download that stalls fails after the timeout instead of hanging', async (t) => {
  const key = `${PREFIX}/backups/stalled/stalled.tar.gz`;
  s3.breakDownload(BUCKET, key, { afterBytes: 2000, mode: 'stall', always: true });
  const started = Date.now();
  const err = await t.throwsAsync(readBackup(s3BackupSource(location(), 'stalled', { timeoutMs: 600 })), {
    instanceOf: BackupError,
  });
  // Not before the timeout, and well before the default (30 s) would have ended it: a loaded
  // machine may add seconds, never take any away.
  const elapsed = Date.now() - started;
  t.true(elapsed >= 590 && elapsed < 20_000, `took ${elapsed} ms`);
  t.true(err.message.includes(`s3://${BUCKET}/${key}`));
  t.regex(err.message, /timed out after 600 ms/);
});

test('an endpoint with nothing listening is a network error, quickly', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));

  const started = Date.now();
  const err = await t.throwsAsync(
    s3BackupSource(location({ s3Url: `http://127.0.0.1:${port}` }), 'daily-20240501', { timeoutMs: 1000 }).open(),
    { instanceOf: BackupSourceError },
  );
  t.true(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  t.is(err.failure, 'network');
  t.is(
    err.message,
    `cannot reach S3 endpoint http://127.0.0.1:${port}: connection refused ` +
      `(reading s3://${BUCKET}/${PREFIX}/backups/daily-20240501/daily-20240501.tar.gz)`,
  );
});

test('an endpoint that accepts and never answers fails after the timeout', async (t) => {
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const port = (silent.address() as AddressInfo).port;
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  const started = Date.now();
  const err = await t.throwsAsync(
    s3BackupSource(location({ s3Url: `http://127.0.0.1:${port}` }), 'daily-20240501', { timeoutMs: 400, maxAttempts: 2 }).open(),
    { instanceOf: BackupSourceError },
  );
  const elapsed = Date.now() - started;
  t.true(elapsed >= 400 && elapsed < 4000, `took ${elapsed} ms`);
  t.is(err.failure, 'network');
  t.regex(
    err.message,
    /^cannot reach S3 endpoint http:\/\/127\.0\.0\.1:\d+: timed out after 400 ms \(reading s3:\/\/velero\/.+daily-20240501\.tar\.gz\)$/,
  );
});

test('an abort signal stops the read', async (t) => {
  const controller = new AbortController();
  const reason = new Error('stop now');
  controller.abort(reason);
  const err = await t.throwsAsync(s3BackupSource(location(), 'daily-20240501').open(controller.signal));
  t.is(err, reason);
});

test('a name that is not a Kubernetes object name cannot address another key', (t) => {
  const err = t.throws(() => s3BackupSource(location(), '../secrets'), { instanceOf: BackupSourceError });
  t.is(err.message, '"../secrets" is not a Velero backup name (a Kubernetes object name)');
});

test('s3ObjectSource names its object in the description', (t) => {
  t.is(s3ObjectSource(location(), 'a/b.tar.gz').description, `s3://${BUCKET}/a/b.tar.gz`);
});

test('HTTPS endpoints: a self-signed certificate needs caCert or insecureSkipTLSVerify, as in a BSL', async (t) => {
  const secure = await startS3({ tls: true });
  t.teardown(() => secure.stop());
  await secure.putBackup(BUCKET, PREFIX, 'tls-backup', fixture.path);
  const tlsLocation = (overrides: Partial<StorageLocation>): StorageLocation =>
    location({ s3Url: secure.endpoint, credentialsFile: secure.credentialsFile, profile: undefined, ...overrides });

  const untrusted = await t.throwsAsync(s3BackupSource(tlsLocation({}), 'tls-backup', { maxAttempts: 1 }).open(), {
    instanceOf: BackupSourceError,
  });
  t.is(untrusted.failure, 'network');
  t.regex(
    untrusted.message,
    /^cannot reach S3 endpoint https:\/\/127\.0\.0\.1:\d+: its TLS certificate .*: set caCert, or insecureSkipTLSVerify/,
  );

  t.true((await readBackup(s3BackupSource(tlsLocation({ caCert: secure.caCert! }), 'tls-backup'))).clusters.length > 0);
  t.true((await readBackup(s3BackupSource(tlsLocation({ insecureSkipTLSVerify: true }), 'tls-backup'))).clusters.length > 0);
});
