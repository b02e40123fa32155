import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { KubeConfig } from '@kubernetes/client-node';
import { credentialsFromIni } from '../../src/storage/aws-credentials.js';
import { parseS3BackupUrl, storageLocationForUrl } from '../../src/storage/s3-url.js';
import { readStorageLocationFromCluster } from '../../src/storage/storage-location-cluster.js';
import {
  parseBackupStorageLocation,
  parseStorageLocationFile,
  readStorageLocationFile,
  type StorageLocation,
} from '../../src/storage/storage-location.js';
import { StorageLocationError } from '../../src/storage/errors.js';

// Only the PEM framing is checked by the parsers; the body needs no real certificate.
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2FDZXJ0\n-----END CERTIFICATE-----\n';
const PEM_BASE64 = Buffer.from(PEM).toString('base64');

const MINIO_BSL = `apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata:
  name: default
  namespace: velero
spec:
  provider: aws
  default: true
  objectStorage:
    bucket: /velero/
    prefix: /tkg/mgmt/
    caCert: ${PEM_BASE64}
  config:
    region: minio
    s3ForcePathStyle: "true"
    s3Url: http://minio.velero.svc:9000/
    insecureSkipTLSVerify: "false"
    profile: velero
    checksumAlgorithm: ""
    serverSideEncryption: AES256
status:
  phase: Available
`;

test('a BSL manifest gives bucket, prefix (trimmed of /), endpoint, TLS and profile as the AWS plugin reads them', (t) => {
  t.deepEqual(parseStorageLocationFile(MINIO_BSL, '/etc/drift/bsl.yaml'), {
    name: 'default',
    bucket: 'velero',
    prefix: 'tkg/mgmt',
    caCert: PEM,
    region: 'minio',
    s3Url: 'http://minio.velero.svc:9000',
    s3ForcePathStyle: true,
    insecureSkipTLSVerify: false,
    profile: 'velero',
  } satisfies StorageLocation);
});

test('a minimal BSL (provider velero.io/aws, bucket only) and a BSL object from the API', (t) => {
  const minimal = 'spec:\n  provider: velero.io/aws\n  objectStorage:\n    bucket: backups\n';
  t.deepEqual(parseStorageLocationFile(minimal, 'bsl.yaml'), { bucket: 'backups' });
  const fromApi = parseBackupStorageLocation(
    {
      apiVersion: 'velero.io/v1',
      kind: 'BackupStorageLocation',
      metadata: { name: 'secondary', namespace: 'velero' },
      spec: {
        provider: 'aws',
        objectStorage: { bucket: 'b', caCertRef: { name: 'bsl-ca', key: 'ca.crt' } },
        credential: { name: 'bsl-credentials', key: 'cloud' },
        config: { insecureSkipTLSVerify: 'True' },
      },
    },
    'BackupStorageLocation velero/secondary',
  );
  t.deepEqual(fromApi, {
    location: { name: 'secondary', bucket: 'b', insecureSkipTLSVerify: true },
    caCertRef: { name: 'bsl-ca', key: 'ca.crt' },
    credential: { name: 'bsl-credentials', key: 'cloud' },
  });
});

test("a flat storage-location file; a relative credentialsFile is taken from the file's directory", (t) => {
  const flat = [
    'name: lab',
    'bucket: velero',
    'prefix: tkg',
    's3Url: https://s3.lab.example:9000',
    's3ForcePathStyle: true',
    'insecureSkipTLSVerify: "false"',
    'caCert: |',
    ...PEM.trimEnd()
      .split('\n')
      .map((line) => `  ${line}`),
    'profile: backup',
    'credentialsFile: creds/cloud',
  ].join('\n');
  t.deepEqual(parseStorageLocationFile(flat, '/etc/drift/location.yaml'), {
    name: 'lab',
    bucket: 'velero',
    prefix: 'tkg',
    s3Url: 'https://s3.lab.example:9000',
    s3ForcePathStyle: true,
    insecureSkipTLSVerify: false,
    caCert: PEM.trimEnd(),
    profile: 'backup',
    credentialsFile: '/etc/drift/creds/cloud',
  });
  // caCert may also be base64, as in a BSL.
  t.is(parseStorageLocationFile(`bucket: b\ncaCert: ${PEM_BASE64}\n`, 'l.yaml').caCert, PEM);
});

const bsl = (spec: string) => `apiVersion: velero.io/v1\nkind: BackupStorageLocation\nmetadata: {name: default}\nspec:\n${spec}`;

const badInputs: [title: string, text: string, message: string][] = [
  ['empty file', '  \n', 'bsl.yaml: the file is empty'],
  ['not YAML', 'bucket: b\n  bad: x\n', 'bsl.yaml: not valid YAML (line 1, column 9)'],
  ['a YAML list', '- bucket: b\n', 'bsl.yaml: not a YAML mapping'],
  ['another kind', 'apiVersion: velero.io/v1\nkind: Backup\nspec: {}\n', 'bsl.yaml: kind: "Backup" is not BackupStorageLocation'],
  [
    'another apiVersion',
    'apiVersion: velero.io/v2\nkind: BackupStorageLocation\nspec: {}\n',
    'bsl.yaml: apiVersion: "velero.io/v2" is not velero.io/v1',
  ],
  ['no spec', 'apiVersion: velero.io/v1\nkind: BackupStorageLocation\n', 'bsl.yaml: spec: required'],
  ['spec not a mapping', bsl('  - a\n'), 'bsl.yaml: spec: must be a mapping'],
  [
    'another provider',
    bsl('  provider: velero.io/azure\n  objectStorage: {bucket: b}\n'),
    'bsl.yaml: spec.provider: "velero.io/azure" is not supported: only the AWS plugin\'s S3 API (aws, velero.io/aws)',
  ],
  ['no objectStorage', bsl('  provider: aws\n'), 'bsl.yaml: spec.objectStorage: required'],
  ['no bucket', bsl('  objectStorage: {prefix: p}\n'), 'bsl.yaml: spec.objectStorage.bucket: required'],
  ['bucket of slashes', bsl('  objectStorage: {bucket: "//"}\n'), 'bsl.yaml: spec.objectStorage.bucket: required'],
  [
    'bucket with a path',
    bsl('  objectStorage: {bucket: velero/tkg}\n'),
    'bsl.yaml: spec.objectStorage.bucket: "velero/tkg" contains \'/\': put the path part in the prefix',
  ],
  ['bucket a number', bsl('  objectStorage: {bucket: 42}\n'), 'bsl.yaml: spec.objectStorage.bucket: must be a string'],
  ['prefix a list', bsl('  objectStorage: {bucket: b, prefix: [a]}\n'), 'bsl.yaml: spec.objectStorage.prefix: must be a string'],
  ['caCert not base64', bsl('  objectStorage: {bucket: b, caCert: "not base64!"}\n'), 'bsl.yaml: spec.objectStorage.caCert: is not base64'],
  [
    'caCert not a PEM',
    bsl(`  objectStorage: {bucket: b, caCert: ${Buffer.from('hello').toString('base64')}}\n`),
    'bsl.yaml: spec.objectStorage.caCert: does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)',
  ],
  [
    'caCertRef in a file',
    bsl('  objectStorage: {bucket: b, caCertRef: {name: bsl-ca, key: ca.crt}}\n'),
    'bsl.yaml: spec.objectStorage.caCertRef: refers to Secret key bsl-ca/ca.crt, which a file cannot follow: put the base64 PEM in spec.objectStorage.caCert, or read the BSL from the cluster',
  ],
  [
    'credential without key',
    bsl('  objectStorage: {bucket: b}\n  credential: {name: cloud-credentials}\n'),
    'bsl.yaml: spec.credential.key: required',
  ],
  ['config not a mapping', bsl('  objectStorage: {bucket: b}\n  config: "region=x"\n'), 'bsl.yaml: spec.config: must be a mapping'],
  ['config value a list', bsl('  objectStorage: {bucket: b}\n  config: {region: [a, b]}\n'), 'bsl.yaml: spec.config.region: must be a string'],
  [
    's3ForcePathStyle not a bool',
    bsl('  objectStorage: {bucket: b}\n  config: {s3ForcePathStyle: "yes"}\n'),
    'bsl.yaml: spec.config.s3ForcePathStyle: "yes" is not "true" or "false"',
  ],
  [
    'insecureSkipTLSVerify not a bool',
    bsl('  objectStorage: {bucket: b}\n  config: {insecureSkipTLSVerify: "maybe"}\n'),
    'bsl.yaml: spec.config.insecureSkipTLSVerify: "maybe" is not "true" or "false"',
  ],
  [
    's3Url not http(s)',
    bsl('  objectStorage: {bucket: b}\n  config: {s3Url: "minio:9000"}\n'),
    'bsl.yaml: spec.config.s3Url: "minio:9000" is not an http:// or https:// URL',
  ],
  [
    's3Url not a URL',
    bsl('  objectStorage: {bucket: b}\n  config: {s3Url: "http://"}\n'),
    'bsl.yaml: spec.config.s3Url: "http://" is not a URL',
  ],
  [
    's3Url with credentials',
    bsl('  objectStorage: {bucket: b}\n  config: {s3Url: "http://admin:hunter2@minio:9000"}\n'),
    'bsl.yaml: spec.config.s3Url: must not hold credentials: use the credentials file',
  ],
  [
    'flat: unknown key',
    'bucket: b\ns3url: http://x\n',
    'bsl.yaml: s3url: unknown key (expected name, bucket, prefix, region, s3Url, s3ForcePathStyle, insecureSkipTLSVerify, caCert, profile, credentialsFile, or a BackupStorageLocation manifest)',
  ],
  ['flat: no bucket', 'prefix: p\n', 'bsl.yaml: bucket: required'],
  ['flat: bucket with a path', 'bucket: a/b\n', 'bsl.yaml: bucket: "a/b" contains \'/\': put the path part in the prefix'],
  ['flat: bad bool', 'bucket: b\ns3ForcePathStyle: 2\n', 'bsl.yaml: s3ForcePathStyle: 2 is not "true" or "false"'],
  [
    'flat: caCert not PEM',
    'bucket: b\ncaCert: "-----BEGIN KEY-----"\n',
    'bsl.yaml: caCert: does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)',
  ],
];

for (const [title, text, message] of badInputs) {
  test(`bad storage location: ${title}`, (t) => {
    const err = t.throws(() => parseStorageLocationFile(text, '/etc/drift/bsl.yaml'), { instanceOf: StorageLocationError });
    t.is(err.message, message);
    t.false(err.message.includes('hunter2'));
  });
}

test('readStorageLocationFile names a missing file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bsl-'));
  const err = await t.throwsAsync(readStorageLocationFile(join(dir, 'bsl.yaml')), { instanceOf: StorageLocationError });
  t.is(err.message, `bsl.yaml: cannot read ${join(dir, 'bsl.yaml')}: no such file`);
  await writeFile(join(dir, 'bsl.yaml'), MINIO_BSL);
  t.is((await readStorageLocationFile(join(dir, 'bsl.yaml'))).bucket, 'velero');
});

test('credentialsFromIni picks the profile, with or without the "profile " form, and never quotes values', (t) => {
  const ini = [
    '# Velero cloud-credentials',
    '[default]',
    'aws_access_key_id=AKIADEFAULT',
    'aws_secret_access_key=default-secret',
    '',
    '[profile velero]',
    'aws_access_key_id = AKIAVELERO',
    'aws_secret_access_key = velero-secret',
    'aws_session_token = token-1',
    '[half]',
    'aws_access_key_id = AKIAHALF',
  ].join('\r\n');
  t.deepEqual(credentialsFromIni(ini, 'default', 'Secret velero/c key cloud'), {
    accessKeyId: 'AKIADEFAULT',
    secretAccessKey: 'default-secret',
  });
  t.deepEqual(credentialsFromIni(ini, 'velero', 'Secret velero/c key cloud'), {
    accessKeyId: 'AKIAVELERO',
    secretAccessKey: 'velero-secret',
    sessionToken: 'token-1',
  });
  const missing = t.throws(() => credentialsFromIni(ini, 'other', 'Secret velero/c key cloud'), { instanceOf: StorageLocationError });
  t.is(missing.message, 'Secret velero/c key cloud: [other]: no such profile (profiles: default, velero, half)');
  const half = t.throws(() => credentialsFromIni(ini, 'half', 'Secret velero/c key cloud'), { instanceOf: StorageLocationError });
  t.is(half.message, 'Secret velero/c key cloud: [half].aws_secret_access_key: required');
  for (const err of [missing, half]) t.false(/secret'|-secret|AKIA/.test(err.message));
});

const urlCases: [url: string, expected: ReturnType<typeof parseS3BackupUrl>][] = [
  [
    's3://velero/tkg/mgmt/backups/daily-1/daily-1.tar.gz',
    { bucket: 'velero', key: 'tkg/mgmt/backups/daily-1/daily-1.tar.gz', backupName: 'daily-1', prefix: 'tkg/mgmt' },
  ],
  ['s3://velero/backups/daily-1/daily-1.tar.gz', { bucket: 'velero', key: 'backups/daily-1/daily-1.tar.gz', backupName: 'daily-1' }],
  ['s3://velero/tkg/backups/daily-1/', { bucket: 'velero', key: 'tkg/backups/daily-1/daily-1.tar.gz', backupName: 'daily-1', prefix: 'tkg' }],
  ['s3://velero/backups/daily-1', { bucket: 'velero', key: 'backups/daily-1/daily-1.tar.gz', backupName: 'daily-1' }],
  ['S3://velero//backups/daily-1/daily-1.tar.gz', { bucket: 'velero', key: 'backups/daily-1/daily-1.tar.gz', backupName: 'daily-1' }],
  // Not Velero's layout: a tarball copied elsewhere is read by its key.
  ['s3://copies/handover/mgmt.tar.gz', { bucket: 'copies', key: 'handover/mgmt.tar.gz' }],
  ['s3://velero/backups/a/b.tar.gz', { bucket: 'velero', key: 'backups/a/b.tar.gz' }],
];

for (const [url, expected] of urlCases) {
  test(`parseS3BackupUrl ${url}`, (t) => {
    t.deepEqual(parseS3BackupUrl(url), expected);
  });
}

const badUrls: [url: string, message: string][] = [
  ['/tmp/backup.tar.gz', '/tmp/backup.tar.gz: not an s3:// URL'],
  ['s3://', 's3://: no bucket: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz'],
  ['s3://velero', 's3://velero: no object key: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz'],
  ['s3://velero/tkg/', 's3://velero/tkg/: no object key: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz'],
  ['s3://velero/b.tar.gz?versionId=1', 's3://velero/b.tar.gz?versionId=1: a query or fragment is not part of an S3 key'],
];

for (const [url, message] of badUrls) {
  test(`parseS3BackupUrl refuses ${url}`, (t) => {
    const err = t.throws(() => parseS3BackupUrl(url), { instanceOf: StorageLocationError });
    t.is(err.message, message);
  });
}

test('storageLocationForUrl: the URL gives bucket and prefix, a location file beats the environment', (t) => {
  const parsed = parseS3BackupUrl('s3://velero/tkg/backups/daily-1/daily-1.tar.gz');
  const env = {
    AWS_ENDPOINT_URL: 'http://minio.local:9000/',
    AWS_REGION: 'eu-west-1',
    AWS_SHARED_CREDENTIALS_FILE: '/credentials/cloud',
    AWS_PROFILE: 'velero',
  };
  t.deepEqual(storageLocationForUrl(parsed, env), {
    bucket: 'velero',
    prefix: 'tkg',
    s3Url: 'http://minio.local:9000',
    s3ForcePathStyle: true,
    region: 'eu-west-1',
    credentialsFile: '/credentials/cloud',
    profile: 'velero',
  });
  const file: StorageLocation = { bucket: 'other', prefix: 'elsewhere', s3Url: 'https://s3.lab:9000', caCert: PEM, profile: 'lab' };
  t.deepEqual(storageLocationForUrl(parsed, env, file), {
    bucket: 'velero',
    prefix: 'tkg',
    s3Url: 'https://s3.lab:9000',
    caCert: PEM,
    region: 'eu-west-1',
    credentialsFile: '/credentials/cloud',
    profile: 'lab',
  });
  t.deepEqual(storageLocationForUrl(parseS3BackupUrl('s3://b/x.tar.gz'), { AWS_DEFAULT_REGION: 'us-west-2' }), {
    bucket: 'b',
    region: 'us-west-2',
  });
});

/** A Kubernetes API stand-in serving BSLs and Secrets in namespace velero over plain HTTP. */
async function startApi(objects: Record<string, unknown>): Promise<{ kubeConfig: KubeConfig; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    if (path.endsWith('/forbidden')) {
      res.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden' }));
      return;
    }
    if (path.endsWith('/hang')) return;
    const object = objects[path];
    if (!object) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound' }));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(object));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    // client-node refuses plain http:// unless TLS verification is off.
    { name: 'mgmt', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true },
    { name: 'reader', token: 'test-token' },
  );
  return {
    kubeConfig,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const BSL_PATH = '/apis/velero.io/v1/namespaces/velero/backupstoragelocations';
const SECRET_PATH = '/api/v1/namespaces/velero/secrets';

test('readStorageLocationFromCluster reads the BSL and follows caCertRef and spec.credential', async (t) => {
  const secret = 'cluster-secret-value';
  const api = await startApi({
    [`${BSL_PATH}/default`]: {
      apiVersion: 'velero.io/v1',
      kind: 'BackupStorageLocation',
      metadata: { name: 'default', namespace: 'velero' },
      spec: {
        provider: 'aws',
        objectStorage: { bucket: 'velero', prefix: 'tkg', caCertRef: { name: 'bsl-ca', key: 'ca.crt' } },
        credential: { name: 'bsl-credentials', key: 'cloud' },
        config: { region: 'minio', s3Url: 'https://minio.velero.svc:9000', s3ForcePathStyle: 'true', profile: 'velero' },
      },
    },
    [`${SECRET_PATH}/bsl-ca`]: { kind: 'Secret', metadata: { name: 'bsl-ca' }, data: { 'ca.crt': PEM_BASE64 } },
    [`${SECRET_PATH}/bsl-credentials`]: {
      kind: 'Secret',
      metadata: { name: 'bsl-credentials' },
      data: { cloud: Buffer.from(`[velero]\naws_access_key_id=AKIACLUSTER\naws_secret_access_key=${secret}\n`).toString('base64') },
    },
  });
  t.teardown(api.stop);

  const location = await readStorageLocationFromCluster('default', 'velero', { kubeConfig: api.kubeConfig });
  const { credentialsProvider, ...plain } = location;
  t.deepEqual(plain, {
    name: 'default',
    bucket: 'velero',
    prefix: 'tkg',
    region: 'minio',
    s3Url: 'https://minio.velero.svc:9000',
    s3ForcePathStyle: true,
    profile: 'velero',
    caCert: PEM,
    credentialsOrigin: 'Secret velero/bsl-credentials key cloud',
  });
  t.deepEqual(await credentialsProvider!(), { accessKeyId: 'AKIACLUSTER', secretAccessKey: secret });
  t.false(JSON.stringify(location).includes(secret), 'the secret stays out of a printed location');
});

test('readStorageLocationFromCluster: missing BSL or Secret, forbidden, and an API server that never answers', async (t) => {
  const api = await startApi({
    [`${BSL_PATH}/needs-secret`]: {
      spec: { objectStorage: { bucket: 'velero' }, credential: { name: 'gone', key: 'cloud' } },
    },
    [`${BSL_PATH}/wrong-key`]: {
      spec: { objectStorage: { bucket: 'velero' }, credential: { name: 'creds', key: 'cloud' } },
    },
    [`${SECRET_PATH}/creds`]: { kind: 'Secret', data: { other: 'eA==' } },
    [`${BSL_PATH}/broken`]: { spec: { objectStorage: { bucket: 'a/b' } } },
  });
  t.teardown(api.stop);
  const read = (name: string, timeoutMs?: number) =>
    readStorageLocationFromCluster(name, 'velero', { kubeConfig: api.kubeConfig, ...(timeoutMs ? { timeoutMs } : {}) });
  const server = api.kubeConfig.getCurrentCluster()!.server;

  t.is(
    (await t.throwsAsync(read('missing'), { instanceOf: StorageLocationError })).message,
    'BackupStorageLocation velero/missing: not found (404)',
  );
  t.is(
    (await t.throwsAsync(read('needs-secret'), { instanceOf: StorageLocationError })).message,
    'BackupStorageLocation velero/needs-secret: Secret velero/gone (named by spec.credential): not found (404)',
  );
  t.is(
    (await t.throwsAsync(read('wrong-key'), { instanceOf: StorageLocationError })).message,
    'BackupStorageLocation velero/wrong-key: spec.credential: Secret velero/creds has no key "cloud"',
  );
  t.is(
    (await t.throwsAsync(read('broken'), { instanceOf: StorageLocationError })).message,
    'BackupStorageLocation velero/broken: spec.objectStorage.bucket: "a/b" contains \'/\': put the path part in the prefix',
  );
  t.is(
    (await t.throwsAsync(read('forbidden'), { instanceOf: StorageLocationError })).message,
    "BackupStorageLocation velero/forbidden: forbidden (403): check the kubeconfig's user and its RBAC",
  );
  // The plugin reads with Velero's service account, and says what to check for it.
  const asPlugin = readStorageLocationFromCluster('forbidden', 'velero', {
    kubeConfig: api.kubeConfig,
    accessHint: 'check the RBAC of Velero',
  });
  t.is(
    (await t.throwsAsync(asPlugin, { instanceOf: StorageLocationError })).message,
    'BackupStorageLocation velero/forbidden: forbidden (403): check the RBAC of Velero',
  );

  const started = Date.now();
  const hang = await t.throwsAsync(read('hang', 300), { instanceOf: StorageLocationError });
  t.is(hang.message, `BackupStorageLocation velero/hang: read at ${server} timed out after 300 ms`);
  t.true(Date.now() - started < 3000);

  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const cancelled = readStorageLocationFromCluster('hang', 'velero', { kubeConfig: api.kubeConfig, signal: controller.signal });
  t.is((await t.throwsAsync(cancelled, { instanceOf: StorageLocationError })).message, 'BackupStorageLocation velero/hang: read cancelled');
});
