// `npm run example:serve`: the service tried on one machine with the bundled example. It lays out
// a temporary bucket directory from examples/backup (Velero's layout), makes a self-signed
// certificate for the admission webhook, starts `drift-detector serve` with the webhook, the
// readiness watch and the example's inventory snapshot, then shows what a cluster and a pipeline
// would see: the webhook's denial of a Restore of the backup, a `check` verdict and the readiness
// metrics. It stops the service and exits 0 when all three show the example's real drift.
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(repo, 'build/src/cli/main.js');
const backup = 'my-backup-data';
/** Each step's bound: the example is small, a loaded machine is slow. */
const STEP_TIMEOUT_MS = 60_000;

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'drift-detector-example-'));
  let service;
  try {
    const config = await layOut(dir);
    section(`serve --config ${config}`);
    service = await startServe(config);
    console.log(`gRPC ${service.grpc}, webhook https://${service.webhook}, metrics http://${service.metrics}/metrics`);
    await service.analysed;

    section(`the webhook: a Restore of ${backup}`);
    const review = await admit(service.webhook, await readFile(join(dir, 'webhook.crt')));
    console.log(`allowed: ${review.allowed}, code ${review.status?.code}`);
    console.log(review.status?.message);
    if (review.allowed !== false) throw new Error('the webhook let a Restore of the example through');

    section(`drift-detector check --server ${service.grpc} --backup-name ${backup}`);
    const check = await run(process.execPath, [cli, 'check', '--server', service.grpc, '--backup-name', backup]);
    process.stdout.write(check.stdout);
    console.log(`(exit ${check.code}: action needed)`);
    if (check.code !== 1 || !/BLOCK/.test(check.stdout))
      throw new Error(`check did not block the example (exit ${check.code}): ${check.stderr}`);

    section(`GET http://${service.metrics}/metrics (readiness)`);
    const metrics = await (await fetch(`http://${service.metrics}/metrics`, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) })).text();
    const lines = metrics
      .split('\n')
      .filter((l) => /^drift_detector_backup_(restorable|ghost_machines|stale_machines|unknown_machines)\{/.test(l));
    console.log(lines.join('\n'));
    if (!lines.some((l) => l.startsWith('drift_detector_backup_restorable{') && l.endsWith(' 0'))) {
      throw new Error('the readiness metrics do not say the example is not restorable');
    }

    section('stopping the service');
    console.log(`exit ${await service.stop()}`);
    service = undefined;
  } finally {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function section(title) {
  console.log(`\n== ${title}`);
}

/** The bucket directory, the webhook's certificate and serve.yaml, in `dir`; returns the configuration's path. */
async function layOut(dir) {
  const backupDir = join(dir, 'bucket', 'backups', backup);
  await mkdir(backupDir, { recursive: true });
  await copyFile(join(repo, 'examples/backup', `${backup}.tar.gz`), join(backupDir, `${backup}.tar.gz`));
  // What Velero uploads when the backup has finished: the Backup object, read by the watch.
  const record = {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: backup, namespace: 'velero' },
    spec: { storageLocation: 'default' },
    status: { phase: 'Completed', startTimestamp: '2026-11-20T07:00:00Z', completionTimestamp: '2026-11-20T07:05:00Z' },
  };
  await writeFile(join(backupDir, 'velero-backup.json'), `${JSON.stringify(record, null, 2)}\n`);
  await promisify(execFile)(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'webhook.key'),
      '-out',
      join(dir, 'webhook.crt'),
    ]),
    { timeout: STEP_TIMEOUT_MS },
  );
  const config = join(dir, 'serve.yaml');
  await writeFile(
    config,
    [
      'listen: 127.0.0.1:0',
      'metrics: { listen: 127.0.0.1:0 }',
      'storageLocations:',
      '  - name: default',
      `    bucket: ${pathToFileURL(join(dir, 'bucket')).href}`,
      `analysis: { inventory: ${JSON.stringify(join(repo, 'examples/inventory.json'))}, skipAccessApiServer: true }`,
      'watch: { enabled: true, source: bucket, events: false }',
      'webhook: { listen: 127.0.0.1:0, tls: { certFile: webhook.crt, keyFile: webhook.key } }',
      '',
    ].join('\n'),
  );
  return config;
}

/** `serve` in a child process; its addresses and the watch's first analysis read from its JSON log. */
function startServe(config) {
  const child = spawn(process.execPath, [cli, 'serve', '--config', config], { stdio: ['ignore', 'inherit', 'pipe'] });
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const found = {};
  let analysed;
  const analysedOnce = new Promise((done) => (analysed = done));
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => rejectStart(new Error('serve did not start in time')), STEP_TIMEOUT_MS);
    void exited.then((code) => rejectStart(new Error(`serve exited (${code}) before serving`)));
    createInterface({ input: child.stderr }).on('line', (line) => {
      const entry = parseLine(line);
      if (entry?.['@level'] === 'error' || !entry) console.log(`  serve: ${line}`);
      if (entry?.['@message'] === 'serving') Object.assign(found, { grpc: entry.address, metrics: entry.metrics });
      if (entry?.['@message'] === 'webhook serving') found.webhook = entry.address;
      if (entry?.['@message'] === 'analysis finished' || entry?.['@message'] === 'analysis failed') analysed();
      if (found.grpc && found.webhook) {
        clearTimeout(timer);
        resolveStart({ ...found, analysed: analysedOnce, stop: () => (child.exitCode === null ? child.kill('SIGTERM') : undefined, exited) });
      }
    });
  });
}

function parseLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** An AdmissionReview of a Restore of the example, as kube-apiserver sends it: over HTTPS, trusting only the webhook's certificate. */
function admit(address, ca) {
  const restore = {
    apiVersion: 'velero.io/v1',
    kind: 'Restore',
    metadata: { name: `${backup}-restore`, namespace: 'velero' },
    spec: { backupName: backup, includedNamespaces: ['*'] },
  };
  const kind = { group: 'velero.io', version: 'v1', kind: 'Restore' };
  const resource = { group: 'velero.io', version: 'v1', resource: 'restores' };
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '8f3c1a52-7d0e-4c1b-9a57-1f2e3d4c5b6a',
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: restore.metadata.name,
      namespace: 'velero',
      operation: 'CREATE',
      userInfo: { username: 'example' },
      object: restore,
      dryRun: false,
    },
  });
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((done, fail) => {
    const req = request(
      { host, port, path: '/validate/restores', method: 'POST', ca, timeout: STEP_TIMEOUT_MS, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            done(JSON.parse(Buffer.concat(chunks).toString('utf8')).response);
          } catch (err) {
            fail(new Error(`the webhook answered ${res.statusCode} with no AdmissionReview`, { cause: err }));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the webhook did not answer in time')));
    req.on('error', fail);
    req.end(body);
  });
}

function run(command, args) {
  return new Promise((done) => {
    execFile(command, args, { timeout: STEP_TIMEOUT_MS }, (err, stdout, stderr) => done({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

main().catch((err) => {
  console.error(`example:serve failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
