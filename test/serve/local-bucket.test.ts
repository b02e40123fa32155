/**
 * `serve` tried on one machine: the bundled example's backup in a local directory laid out as
 * Velero's bucket (`bucket: file:///path`) and its inventory snapshot (`analysis.inventory`). The
 * configuration is read from a real serve.yaml; gRPC Check, the webhook and the readiness watch
 * see the example's real drift (the Ghost of production/prod-payments blocks it), not the
 * NeedFurtherConfirmation of vCenters that cannot be reached. Bad input stops the start naming
 * the key; backup names and prefixes cannot leave the directory.
 */
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { startService } from '../../src/serve/start.js';
import { BucketBackupCatalog } from '../../src/storage/bucket.js';
import { readStorageLocationFile } from '../../src/storage/storage-location.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { call, makeClients, until } from '../grpc/helpers.js';
import { runCli } from '../helpers/scenario.js';
import { makePki, type Pki } from '../grpc/pki.js';
import { admissionReview, post, responseOf, restoreObject } from '../webhook/helpers.js';

const EXAMPLE = new URL('../../../examples/', import.meta.url);
const BACKUP = 'my-backup-data';

let pki: Pki;
let dir: string;

test.before(async () => {
  pki = await makePki();
  dir = await mkdtemp(join(tmpdir(), 'local-bucket-'));
});

test.after.always(async () => {
  await pki?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function backupRecord(name: string, fields: { phase?: string; completed?: string; started?: string; schedule?: string } = {}): string {
  return JSON.stringify({
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: 'velero', ...(fields.schedule ? { labels: { 'velero.io/schedule-name': fields.schedule } } : {}) },
    status: {
      phase: fields.phase ?? 'Completed',
      startTimestamp: fields.started ?? '2026-11-20T07:00:00Z',
      completionTimestamp: fields.completed ?? '2026-11-20T07:05:00Z',
    },
  });
}

/** A bucket directory under `root` holding the example's backup (under `prefix`, when given). */
async function exampleBucket(root: string, prefix = ''): Promise<string> {
  const backupDir = join(root, prefix, 'backups', BACKUP);
  await mkdir(backupDir, { recursive: true });
  await copyFile(new URL(`backup/${BACKUP}.tar.gz`, EXAMPLE), join(backupDir, `${BACKUP}.tar.gz`));
  await writeFile(join(backupDir, 'velero-backup.json'), backupRecord(BACKUP, { schedule: 'nightly' }));
  return root;
}

async function writeConfig(name: string, lines: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

test('serve with analysis.inventory and a file:// location: Check, the webhook and the watch see the Ghost', async (t) => {
  const bucket = await exampleBucket(join(dir, 'e2e'), 'tkg');
  const file = await writeConfig('serve.yaml', [
    'listen: 127.0.0.1:0',
    'metrics: { listen: 127.0.0.1:0 }',
    'storageLocations:',
    '  - name: lab',
    `    bucket: ${pathToFileURL(bucket).href}`,
    '    prefix: tkg',
    `analysis: { inventory: ${JSON.stringify(new URL('inventory.json', EXAMPLE).pathname)}, skipAccessApiServer: true }`,
    'watch: { enabled: true, source: bucket, events: false }',
    `webhook: { listen: 127.0.0.1:0, tls: { certFile: ${pki.serverCert}, keyFile: ${pki.serverKey} } }`,
  ]);
  const config = await loadServiceConfig({ file, env: {} });
  const logs: string[] = [];
  const running = await startService({
    config,
    secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
    logger: jsonLogger({ level: 'debug', write: (line) => logs.push(line) }),
    env: {},
  });
  const clients = makeClients(running.address, grpc.credentials.createInsecure());
  try {
    await until(() => running.readiness!.snapshot()[0]?.analyzedAt !== undefined, 'the watch to analyse the example');
    const [state] = running.readiness!.snapshot();
    t.is(state!.backup?.name, BACKUP);
    t.false(state!.readiness!.restorable);

    const check = await call<{
      verdict: string;
      backup: string;
      clusters: Array<{ namespace: string; name: string; status: string; verdict: string; ghost_machines: string[] }>;
    }>(clients.detector, 'Check', { backup_name: BACKUP });
    t.is(check.verdict, 'BLOCK');
    t.is(check.backup, `${pathToFileURL(bucket).href}/tkg/backups/${BACKUP}/${BACKUP}.tar.gz`);
    const payments = check.clusters.find((c) => c.name === 'prod-payments')!;
    t.is(payments.status, 'ManualRemediationRequired');
    t.is(payments.verdict, 'BLOCK');
    t.deepEqual(payments.ghost_machines, ['prod-payments-md-0-6d8f9c7b5-x2k4p']);
    t.false(
      check.clusters.some((c) => c.status === 'NeedFurtherConfirmation'),
      'the snapshot answers for the vCenter',
    );

    const ca = await readFile(pki.caCert);
    const byName = responseOf(await post(running.webhook!.port, ca, admissionReview(restoreObject({ backupName: BACKUP }))));
    t.false(byName.allowed);
    t.regex(byName.status!.message, /production\/prod-payments: ManualRemediationRequired; ghost machines/);
    // A schedule's newest backup is found in the directory's velero-backup.json, as in a bucket.
    const bySchedule = responseOf(await post(running.webhook!.port, ca, admissionReview(restoreObject({ scheduleName: 'nightly' }))));
    t.false(bySchedule.allowed);
    t.regex(bySchedule.status!.message, /backup my-backup-data/);

    const metrics = await fetch(`http://${running.metricsAddress}/metrics`).then((r) => r.text());
    t.regex(metrics, /drift_detector_backup_restorable\{storage_location="lab",backup="my-backup-data"\} 0/);
    t.regex(
      metrics,
      /drift_detector_backup_ghost_machines\{storage_location="lab",backup="my-backup-data",cluster="production\/prod-payments"\} 1/,
    );
    const serving = JSON.parse(logs.find((l) => l.includes('"@message":"serving"'))!) as Record<string, unknown>;
    t.is(serving['inventory'], new URL('inventory.json', EXAMPLE).pathname);
  } finally {
    clients.close();
    await running.shutdown(2_000);
  }
});

test('a file:// location that does not exist, or is not a directory, stops the start naming the key', async (t) => {
  const missing = await writeConfig('missing.yaml', ['storageLocations:', '  - name: lab', `    bucket: file://${join(dir, 'nowhere')}`]);
  await t.throwsAsync(loadServiceConfig({ file: missing, env: {} }), {
    message: `missing.yaml: storageLocations[0].bucket: file://${join(dir, 'nowhere')}: no such directory`,
  });
  const plain = join(dir, 'plain-file');
  await writeFile(plain, 'not a bucket');
  const notDir = await writeConfig('not-dir.yaml', ['storageLocations:', '  - name: lab', `    bucket: file://${plain}`]);
  await t.throwsAsync(loadServiceConfig({ file: notDir, env: {} }), {
    message: /^not-dir\.yaml: storageLocations\[0\]\.bucket: file:\/\/.*plain-file is not a directory/,
  });
  const host = await writeConfig('host.yaml', ['storageLocations:', '  - name: lab', '    bucket: file://server/srv/velero']);
  await t.throwsAsync(loadServiceConfig({ file: host, env: {} }), {
    message: /^host\.yaml: storageLocations\[0\]\.bucket: "file:\/\/server\/srv\/velero" names a host/,
  });
  // The same check for a location file (`--storage-location`, `detect --storage-location`).
  const locationFile = join(dir, 'location.yaml');
  await writeFile(locationFile, `bucket: file://${join(dir, 'nowhere')}\n`);
  await t.throwsAsync(readStorageLocationFile(locationFile), { message: /^location\.yaml: bucket: file:\/\/.*nowhere: no such directory$/ });
  const analysis = await writeConfig('inventory.yaml', [
    'storageLocations:',
    `  - { name: lab, bucket: ${pathToFileURL(dir).href} }`,
    `analysis: { inventory: ${join(dir, 'no-inventory.json')} }`,
  ]);
  const config = await loadServiceConfig({ file: analysis, env: {} });
  await t.throwsAsync(
    startService({
      config,
      secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
      logger: jsonLogger({ level: 'error', write: () => {} }),
      env: {},
    }),
    { message: /^inventory\.yaml: analysis\.inventory: .*no-inventory\.json: cannot read the inventory snapshot/ },
  );
});

test('backup names and prefixes cannot leave the bucket directory', async (t) => {
  const bucket = await exampleBucket(join(dir, 'traversal'));
  const location = await readStorageLocationFile(await writeConfig('traversal.yaml', [`bucket: ${pathToFileURL(bucket).href}`]));
  const { backupSourceIn } = await import('../../src/storage/bucket.js');
  for (const name of ['../../etc/passwd', '..', 'a/../../b', '.hidden']) {
    t.throws(() => backupSourceIn(location, name), { message: /is not a Velero backup name/ }, name);
  }
  // A location made in code, not parsed, is held to the same bound.
  const made = new BucketBackupCatalog({ bucket: pathToFileURL(bucket).href, directory: bucket, prefix: '../..' });
  await t.throwsAsync(made.recentCompleted(1, Date.now()), { message: /\.\.\/\.\.\/backups\/ leaves the bucket directory/ });
  const climbing = await writeConfig('climbing.yaml', [`bucket: ${pathToFileURL(bucket).href}`, 'prefix: ../elsewhere']);
  await t.throwsAsync(readStorageLocationFile(climbing), { message: /^climbing\.yaml: prefix: "\.\.\/elsewhere" holds '\.' or '\.\.'/ });

  // Through the service: a Restore or Check naming such a backup is refused before any read.
  const config = await loadServiceConfig({
    file: await writeConfig('traversal-serve.yaml', ['storageLocations:', `  - { name: lab, bucket: ${pathToFileURL(bucket).href} }`]),
    env: {},
  });
  const running = await startService({
    config,
    secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
    logger: jsonLogger({ level: 'error', write: () => {} }),
    env: {},
  });
  const clients = makeClients(running.address, grpc.credentials.createInsecure());
  try {
    const err = await t.throwsAsync<grpc.ServiceError>(call(clients.detector, 'Check', { backup_name: '../traversal/backups/my-backup-data' }));
    t.is(err?.code, grpc.status.INVALID_ARGUMENT);
  } finally {
    clients.close();
    await running.shutdown(2_000);
  }
});

test("the directory's catalog reads velero-backup.json as a bucket's: newest Completed, a schedule's newest, unfinished and broken ones", async (t) => {
  const bucket = join(dir, 'catalog');
  const write = async (name: string, record: string | undefined) => {
    await mkdir(join(bucket, 'backups', name), { recursive: true });
    if (record !== undefined) await writeFile(join(bucket, 'backups', name, 'velero-backup.json'), record);
  };
  await write('older', backupRecord('older', { completed: '2026-11-19T07:05:00Z', started: '2026-11-19T07:00:00Z', schedule: 'nightly' }));
  await write('newer', backupRecord('newer', { completed: '2026-11-20T07:05:00Z', started: '2026-11-20T07:00:00Z', schedule: 'nightly' }));
  await write('running', backupRecord('running', { phase: 'InProgress', completed: '2026-11-21T07:05:00Z' }));
  await write('no-record', undefined);
  await write('Not_A_Name', backupRecord('x'));
  const catalog = new BucketBackupCatalog({ bucket: pathToFileURL(bucket).href, directory: bucket });
  const recent = await catalog.recentCompleted(3, Date.parse('2026-12-01T00:00:00Z'));
  t.deepEqual(
    recent.backups.map((b) => b.name),
    ['newer', 'older'],
  );
  t.is(recent.backups[0]?.previousCompletedAt, Date.parse('2026-11-19T07:05:00Z'));
  // A completion past the bound (a clock that runs ahead) is set apart, as from a bucket.
  t.deepEqual(
    (await catalog.recentCompleted(3, Date.parse('2026-11-19T12:00:00Z'))).future.map((b) => b.name),
    ['newer'],
  );
  t.is((await catalog.newestOfSchedule('nightly'))?.name, 'newer');
  t.is(await catalog.newestOfSchedule('weekly'), undefined);

  await write('broken', '{ not json');
  await t.throwsAsync(catalog.recentCompleted(1, Date.now()), {
    message: `${pathToFileURL(bucket).href}/backups/broken/velero-backup.json is not JSON`,
  });
  // An empty directory is an empty bucket; a directory removed under a running service is the location's failure.
  t.deepEqual(
    await new BucketBackupCatalog({ bucket: 'file:///empty', directory: join(dir, 'e2e', 'tkg', 'backups', BACKUP) }).recentCompleted(
      1,
      Date.now(),
    ),
    { backups: [], future: [] },
  );
  const gone = join(dir, 'gone');
  await t.throwsAsync(new BucketBackupCatalog({ bucket: pathToFileURL(gone).href, directory: gone }).recentCompleted(1, Date.now()), {
    message: /^the bucket directory not found: file:\/\/.*\/gone$/,
  });
});

test('docs/serve.md: the one-machine serve.yaml loads, with its bucket directory and inventory snapshot', async (t) => {
  const page = await readFile(new URL('../../../docs/serve.md', import.meta.url), 'utf8');
  const block = /^## Try it on one machine\n[\s\S]*?```yaml\n([\s\S]*?)```/m.exec(page)?.[1];
  if (!block) return t.fail('docs/serve.md: no serve.yaml under "Try it on one machine"');
  const root = join(dir, 'doc-example');
  const bucket = await exampleBucket(join(root, 'bucket'));
  await copyFile(new URL('inventory.json', EXAMPLE), join(root, 'inventory.json'));
  t.true(block.includes('file:///srv/velero-bucket'), 'the example names its bucket directory');
  const file = join(root, 'serve.yaml');
  await writeFile(file, block.replace('file:///srv/velero-bucket', pathToFileURL(bucket).href));
  const config = await loadServiceConfig({ file, env: {} });
  t.is(config.storageLocations[0]!.location.directory, bucket);
  t.is(config.analysis.inventory, join(root, 'inventory.json'));
  t.true(config.watch.enabled);
  t.is(config.watch.source, 'bucket');
});

test('detect --storage-location with a file:// bucket reads the backup from the directory, as serve does', async (t) => {
  const bucket = await exampleBucket(join(dir, 'cli'));
  const locationFile = join(dir, 'cli-location.yaml');
  await writeFile(locationFile, `bucket: ${pathToFileURL(bucket).href}\n`);
  const report = join(dir, 'cli-report.json');
  const inventory = new URL('inventory.json', EXAMPLE).pathname;
  const args = ['detect', '--storage-location', locationFile, '--inventory', inventory, '--skip-access-apiserver', '-o', report];
  const result = await runCli([...args, '--backup-name', BACKUP]);
  t.is(result.code, 0, result.stderr);
  const written = JSON.parse(await readFile(report, 'utf8')) as { summary: { status: string }; metadata: { backup: string } };
  t.is(written.summary.status, 'ManualRemediationRequired');
  t.is(written.metadata.backup, `${pathToFileURL(bucket).href}/backups/${BACKUP}/${BACKUP}.tar.gz`);
  const missing = await runCli([...args, '--backup-name', 'not-there']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /backup not-there not found: file:\/\/.*\/backups\/not-there\/not-there\.tar\.gz\n$/);
});
