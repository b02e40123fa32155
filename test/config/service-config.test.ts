import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackListen } from '../../src/config/addresses.js';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { defaultStorageLocation } from '../../src/storage/configured-locations.js';
import { parseDuration } from '../../src/config/values.js';

let dir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-grpc-config-'));
  await writeFile(
    join(dir, 'bsl.yaml'),
    [
      'apiVersion: velero.io/v1',
      'kind: BackupStorageLocation',
      'metadata: { name: default, namespace: velero }',
      'spec:',
      '  provider: aws',
      '  objectStorage: { bucket: velero-backups, prefix: tkg }',
      '  config: { region: minio, s3ForcePathStyle: "true", s3Url: "http://minio.velero.svc:9000" }',
      '',
    ].join('\n'),
  );
});

test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function configFile(text: string): Promise<string> {
  const path = join(dir, `config-${++n}.yaml`);
  await writeFile(path, text);
  return path;
}

test('a full configuration file', async (t) => {
  const file = await configFile(`
listen: 127.0.0.1:7443
logLevel: warn
metrics: { listen: 127.0.0.1:9464 }
auth: { tokenFile: secrets/token }
storageLocations:
  - name: primary
    file: bsl.yaml
  - name: minio
    default: true
    bucket: velero
    prefix: /tkg/
    s3Url: http://127.0.0.1:9000
    s3ForcePathStyle: true
    region: minio
    credentialsFile: creds/cloud
    timeout: 45s
gate: { mode: annotate, failurePolicy: Ignore, pauseOnDrift: true }
analysis:
  cacheTTL: 1h30m
  failureCacheTTL: 0
  timeout: 20m
  skipAccessApiServer: true
  vcenterTimeout: 1m
  apiserverConcurrency: 3
vsphere: { username: admin@vsphere.local, passwordFile: /run/secrets/vsphere-password }
limits: { maxReceiveMessageBytes: 1048576 }
shutdownTimeout: 500ms
`);
  const c = await loadServiceConfig({ file, env: {} });
  t.is(c.origin, file.slice(dir.length + 1));
  t.is(c.listen, '127.0.0.1:7443');
  t.is(c.logLevel, 'warn');
  t.is(c.metricsListen, '127.0.0.1:9464');
  t.is(c.tokenFile, join(dir, 'secrets/token'), 'relative paths are relative to the file');
  t.deepEqual(c.gate, { mode: 'annotate', failurePolicy: 'Ignore', pauseOnDrift: true });
  t.is(c.analysis.cacheTtlMs, 90 * 60_000);
  t.is(c.analysis.failureCacheTtlMs, 0);
  t.is(c.analysis.timeoutMs, 20 * 60_000);
  t.true(c.analysis.skipAccessApiServer);
  t.is(c.analysis.vcenterTimeoutMs, 60_000);
  t.is(c.analysis.apiserverConcurrency, 3);
  t.is(c.maxReceiveMessageBytes, 1048576);
  t.is(c.shutdownTimeoutMs, 500);
  t.deepEqual(c.vsphere, { username: 'admin@vsphere.local', passwordFile: '/run/secrets/vsphere-password' });
  t.deepEqual(
    c.storageLocations.map((l) => [l.name, l.isDefault]),
    [
      ['primary', false],
      ['minio', true],
    ],
  );
  t.is(defaultStorageLocation(c).name, 'minio');
  const primary = c.storageLocations[0]!.location;
  t.like(primary, { bucket: 'velero-backups', prefix: 'tkg', region: 'minio', s3ForcePathStyle: true, s3Url: 'http://minio.velero.svc:9000' });
  const minio = c.storageLocations[1]!;
  t.like(minio.location, { bucket: 'velero', prefix: 'tkg', s3ForcePathStyle: true, credentialsFile: join(dir, 'creds/cloud') });
  t.is(minio.timeoutMs, 45_000);
});

test('the vCenters trusted with the configured credentials: a CA file, thumbprints by server, listed servers', async (t) => {
  const file = await configFile(`
vsphere:
  passwordFile: pw
  caFile: vcenter-ca.pem
  thumbprints: { vc1.example.com: "AB:CD", "https://vc2:8443/sdk": EF }
  trustedHosts: [vc3.example.com]
storageLocations: [{ name: a, bucket: b }]
`);
  const c = await loadServiceConfig({ file, env: {} });
  t.deepEqual(c.vsphere, {
    passwordFile: join(dir, 'pw'),
    caFile: join(dir, 'vcenter-ca.pem'),
    thumbprints: [
      ['vc1.example.com', 'AB:CD'],
      ['https://vc2:8443/sdk', 'EF'],
    ],
    trustedHosts: ['vc3.example.com'],
  });
});

test('defaults', async (t) => {
  const c = await loadServiceConfig({ file: await configFile('storageLocations: [{ name: a, bucket: b }]\n'), env: {} });
  t.is(c.listen, '127.0.0.1:50051');
  t.deepEqual(c.gate, { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false });
  t.is(c.analysis.cacheTtlMs, 600_000);
  t.is(c.tls, undefined);
  t.is(c.tokenFile, undefined);
  t.true(c.storageLocations[0]!.isDefault, 'the only location is the default');
  t.like(c.watch, { depth: 3, olderIntervalMs: 3_600_000, clockSkewMs: 300_000, verdictKeySecret: 'drift-detector-verdict-key' });
  t.deepEqual(c.watch.leaderElection, {
    enabled: true,
    leaseName: 'drift-detector-readiness',
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
  });
});

test('environment variables override the file, flags override both', async (t) => {
  const file = await configFile('gate: { mode: annotate, failurePolicy: Ignore }\nstorageLocations: [{ name: a, bucket: b }]\n');
  const env = {
    DRIFT_DETECTOR_MODE: 'block',
    DRIFT_DETECTOR_FAILURE_POLICY: 'Fail',
    DRIFT_DETECTOR_CACHE_TTL: '5m',
    DRIFT_DETECTOR_PAUSE_ON_DRIFT: 'true',
  };
  const c = await loadServiceConfig({ file, env, overrides: { failurePolicy: 'Ignore', listen: '[::1]:7000' } });
  t.is(c.gate.mode, 'block');
  t.is(c.gate.failurePolicy, 'Ignore');
  t.true(c.gate.pauseOnDrift);
  t.is(c.analysis.cacheTtlMs, 300_000);
  t.is(c.listen, '[::1]:7000');
});

test('--storage-location alone is enough, and becomes the default', async (t) => {
  const file = await configFile('storageLocations: [{ name: other, bucket: b, default: true }]\n');
  const c = await loadServiceConfig({ file, env: {}, overrides: { storageLocation: join(dir, 'bsl.yaml') } });
  t.is(defaultStorageLocation(c).name, 'default');
  t.is(c.storageLocations.length, 2);
  const alone = await loadServiceConfig({ env: {}, overrides: { storageLocation: join(dir, 'bsl.yaml') } });
  t.is(alone.origin, 'flags');
  t.is(defaultStorageLocation(alone).location.bucket, 'velero-backups');
});

const invalid: Array<[string, string | { env?: Record<string, string>; overrides?: Record<string, unknown>; text?: string }, RegExp]> = [
  ['unknown mode', 'gate: { mode: blok }\nstorageLocations: [{ name: a, bucket: b }]', /: gate\.mode: expected block or annotate, not "blok"$/],
  [
    'unknown failurePolicy',
    'gate: { failurePolicy: fail }\nstorageLocations: [{ name: a, bucket: b }]',
    /: gate\.failurePolicy: expected Fail or Ignore, not "fail"$/,
  ],
  [
    'pauseOnDrift not a boolean',
    'gate: { pauseOnDrift: yes please }\nstorageLocations: [{ name: a, bucket: b }]',
    /: gate\.pauseOnDrift: expected true or false$/,
  ],
  ['unknown top-level key', 'lisen: 127.0.0.1:1\nstorageLocations: [{ name: a, bucket: b }]', /: lisen: unknown key/],
  ['unknown nested key', 'gate: { mod: block }\nstorageLocations: [{ name: a, bucket: b }]', /: gate\.mod: unknown key/],
  [
    'bad duration',
    'analysis: { cacheTTL: 10 minutes }\nstorageLocations: [{ name: a, bucket: b }]',
    /: analysis\.cacheTTL: expected a duration/,
  ],
  [
    'zero timeout',
    'analysis: { timeout: 0s }\nstorageLocations: [{ name: a, bucket: b }]',
    /: analysis\.timeout: expected a duration .*more than zero/,
  ],
  ['bad listen', 'listen: 127.0.0.1\nstorageLocations: [{ name: a, bucket: b }]', /: listen: "127\.0\.0\.1" is not host:port/],
  [
    'tls without key',
    'tls: { certFile: a.crt }\nstorageLocations: [{ name: a, bucket: b }]',
    /: tls\.keyFile: required when tls is configured$/,
  ],
  ['no storage location', 'gate: { mode: block }', /: storageLocations: at least one storage location is required/],
  [
    'vCenter thumbprints not a map',
    'vsphere: { thumbprints: [vc1] }\nstorageLocations: [{ name: a, bucket: b }]',
    /: vsphere\.thumbprints: expected a map of vCenter server to certificate thumbprint$/,
  ],
  [
    'trusted vCenters not a list',
    'vsphere: { trustedHosts: vc1 }\nstorageLocations: [{ name: a, bucket: b }]',
    /: vsphere\.trustedHosts: expected a list of vCenter servers$/,
  ],
  ['location without bucket', 'storageLocations: [{ name: a, prefix: p }]', /: storageLocations\[0\]\.bucket: required$/],
  ['location without name', 'storageLocations: [{ bucket: b }]', /: storageLocations\[0\]\.name: required$/],
  [
    'location with a bad URL',
    'storageLocations: [{ name: a, bucket: b, s3Url: "ftp://x" }]',
    /: storageLocations\[0\]\.s3Url: "ftp:\/\/x" is not an http/,
  ],
  [
    'location with an unknown key',
    'storageLocations: [{ name: a, bucket: b, endpoint: x }]',
    /: storageLocations\[0\]\.endpoint: unknown key \(expected one of name, default, file, timeout, deadline, bucket/,
  ],
  [
    'location file and keys',
    'storageLocations: [{ name: a, file: bsl.yaml, bucket: b }]',
    /: storageLocations\[0\]\.bucket: not allowed next to file/,
  ],
  ['location file missing', 'storageLocations: [{ name: a, file: nope.yaml }]', /: storageLocations\[0\]\.file: .*no such file/],
  [
    'two defaults',
    'storageLocations: [{ name: a, bucket: b, default: true }, { name: c, bucket: d, default: true }]',
    /: storageLocations: more than one default: a, c$/,
  ],
  [
    'duplicate names',
    'storageLocations: [{ name: a, bucket: b }, { name: a, bucket: d }]',
    /: storageLocations\[1\]\.name: "a" is configured twice$/,
  ],
  ['not a mapping', '- a\n- b', /: expected a YAML mapping at the top level$/],
  ['bad YAML', 'gate: {', /: not valid YAML \(line \d+, column \d+\)$/],
  [
    'bad env value',
    { env: { DRIFT_DETECTOR_MODE: 'warn' }, text: 'storageLocations: [{ name: a, bucket: b }]' },
    /^DRIFT_DETECTOR_MODE: expected block or annotate, not "warn"$/,
  ],
  [
    'bad flag value',
    { overrides: { cacheTtl: 'soon' }, text: 'storageLocations: [{ name: a, bucket: b }]' },
    /^--cache-ttl: expected a duration/,
  ],
  [
    'a renew deadline not shorter than the lease',
    'storageLocations: [{ name: a, bucket: b }]\nwatch: { leaderElection: { leaseDuration: 10s, renewDeadline: 10s } }',
    /watch\.leaderElection\.renewDeadline: must be shorter than leaseDuration/,
  ],
  [
    'a retry period with no room under the renew deadline',
    'storageLocations: [{ name: a, bucket: b }]\nwatch: { leaderElection: { retryPeriod: 9s } }',
    /watch\.leaderElection\.retryPeriod: must be shorter than renewDeadline/,
  ],
  [
    'a Lease name that is not one',
    'storageLocations: [{ name: a, bucket: b }]\nwatch: { leaderElection: { leaseName: Not_A_Name } }',
    /watch\.leaderElection\.leaseName: "Not_A_Name" is not a Lease name/,
  ],
  [
    'bad flag listen',
    { overrides: { listen: '0.0.0.0:1' }, text: 'storageLocations: [{ name: a, bucket: b }]' },
    /^--listen: 0\.0\.0\.0:1 is not a loopback address/,
  ],
];

for (const [title, input, message] of invalid) {
  test(`refused: ${title}`, async (t) => {
    const spec = typeof input === 'string' ? { text: input } : input;
    const file = await configFile(spec.text ?? '');
    await t.throwsAsync(loadServiceConfig({ file, env: spec.env ?? {}, ...(spec.overrides ? { overrides: spec.overrides } : {}) }), {
      message,
    });
  });
}

test('a missing configuration file is named', async (t) => {
  await t.throwsAsync(loadServiceConfig({ file: join(dir, 'absent.yaml'), env: {} }), {
    message: /absent\.yaml: cannot read the configuration file \(no such file\)/,
  });
});

test('durations', (t) => {
  t.is(parseDuration('90s'), 90_000);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration(2), undefined, 'a bare number is refused: seconds or minutes?');
  t.is(parseDuration('2'), undefined);
  t.is(parseDuration('1.5m'), 90_000);
  for (const bad of ['', 'm', '10 m', '-1s', '1d', 'ten']) t.is(parseDuration(bad), undefined, bad);
});

test('loopback addresses', (t) => {
  for (const a of ['127.0.0.1:1', '127.9.9.9:1', '[::1]:1', 'localhost:1', 'LOCALHOST:1', 'unix:/tmp/s']) t.true(isLoopbackListen(a), a);
  for (const a of ['0.0.0.0:1', '[::]:1', '192.168.1.1:1', 'host.example:1', '[::ffff:10.0.0.1]:1']) t.false(isLoopbackListen(a), a);
});
