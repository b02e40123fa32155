/**
 * Object stores that misbehave (test/helpers/s3-faults.ts): one that never answers, objects that
 * never end, a connection closed halfway through the tarball. `detect` and `serve`'s analysis end
 * in bounded time with an error naming the bucket and key, and the process's peak RSS (VmHWM,
 * watched from outside) stays bounded. Bounds are generous: they separate "bounded" from "grows
 * with the attack", not one machine's speed from another's.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { call, makeClients } from '../grpc/helpers.js';
import { runNodeWatched, watchPeakRss } from '../helpers/peak-rss.js';
import { FAULT_BACKUP, startS3FaultServer, type S3Fault, type S3FaultServer } from '../helpers/s3-faults.js';
import { tempDir } from '../helpers/scenario.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const BUCKET = 'velero';
const TARBALL_KEY = `backups/${FAULT_BACKUP}/${FAULT_BACKUP}.tar.gz`;
const RSS_BOUND_MIB = 300;
/** Generous beside the bounds under test (a few seconds), far below what an unbounded read takes. */
const TIME_BOUND_MS = 20_000;

async function faultServer(t: { teardown(fn: () => Promise<void>): void }, fault: S3Fault): Promise<S3FaultServer> {
  const server = await startS3FaultServer(fault);
  t.teardown(() => server.stop());
  return server;
}

/** A flat storage-location file for `endpoint`, and a credentials file with a made-up key pair. */
async function locationFile(dir: string, name: string, endpoint: string): Promise<string> {
  const credentials = join(dir, `${name}-credentials`);
  await writeFile(credentials, '[default]\naws_access_key_id = AKIAFAULTFAULTFAULT\naws_secret_access_key = fault-secret-key\n');
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `bucket: ${BUCKET}\ns3Url: ${endpoint}\ns3ForcePathStyle: true\nregion: test\ncredentialsFile: ${credentials}\n`);
  return file;
}

async function detect(fault: S3Fault, server: S3FaultServer, flags: string[]) {
  const dir = await tempDir('drift-s3-fault-');
  const location = await locationFile(dir, fault, server.endpoint);
  const args = [MAIN, 'detect', '--backup-name', FAULT_BACKUP, '--storage-location', location, '-o', join(dir, 'r.json')];
  return runNodeWatched([...args, '--skip-access-apiserver', ...flags], 60_000);
}

test.serial('detect: a store that never answers is given up at --s3-deadline, not after every try of --s3-timeout', async (t) => {
  const server = await faultServer(t, 'hang');
  const run = await detect('hang', server, ['--s3-timeout', '8s', '--s3-deadline', '2s']);
  t.log(`${run.ms} ms, peak RSS ${run.peakRssMiB} MiB`);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, new RegExp(`reading s3://${BUCKET}/${TARBALL_KEY} from ${server.endpoint} did not finish within 2 s`));
  // Three tries of 8 s would take 24 s and more; the rest is the CLI's start on a loaded machine.
  t.true(run.ms < 16_000, `took ${run.ms} ms`);
  t.true(run.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${run.peakRssMiB} MiB`);
});

test.serial('detect: a store that never answers, each try bounded by --s3-timeout, at most three tries', async (t) => {
  const server = await faultServer(t, 'hang');
  const run = await detect('hang', server, ['--s3-timeout', '1s']);
  t.log(`${run.ms} ms, peak RSS ${run.peakRssMiB} MiB`);
  t.is(run.code, 2, run.stderr);
  t.regex(
    run.stderr,
    new RegExp(`cannot reach S3 endpoint ${server.endpoint}: timed out after 1000 ms \\(reading s3://${BUCKET}/${TARBALL_KEY}\\)`),
  );
  t.is(server.requests.length, 3, server.requests.join('\n'));
  t.true(run.ms < TIME_BOUND_MS, `took ${run.ms} ms`);
});

test.serial('detect: a tarball that never ends is cut at the deadline, with memory flat', async (t) => {
  const server = await faultServer(t, 'huge');
  const run = await detect('huge', server, ['--s3-deadline', '4s']);
  t.log(`${run.ms} ms, peak RSS ${run.peakRssMiB} MiB`);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, new RegExp(`s3://${BUCKET}/${TARBALL_KEY} from ${server.endpoint} did not finish within 4 s`));
  t.true(run.ms < TIME_BOUND_MS, `took ${run.ms} ms`);
  t.true(run.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${run.peakRssMiB} MiB`);
});

test.serial('detect: a connection closed halfway through the tarball names the object', async (t) => {
  const server = await faultServer(t, 'midclose');
  const run = await detect('midclose', server, []);
  t.log(`${run.ms} ms, peak RSS ${run.peakRssMiB} MiB`);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, new RegExp(`reading s3://${BUCKET}/${TARBALL_KEY} from ${server.endpoint} failed: connection reset`));
  t.true(run.ms < TIME_BOUND_MS, `took ${run.ms} ms`);
  t.true(run.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${run.peakRssMiB} MiB`);
});

test('serve: each fault ends its analysis with an error naming the object; the watch refuses an endless velero-backup.json', async (t) => {
  const servers = { hang: await faultServer(t, 'hang'), huge: await faultServer(t, 'huge'), midclose: await faultServer(t, 'midclose') };
  const dir = await tempDir('drift-s3-fault-serve-');
  const entries = await Promise.all(
    Object.entries(servers).map(
      async ([name, server]) => `  - { name: ${name}, file: ${await locationFile(dir, name, server.endpoint)}, timeout: 2s, deadline: 4s }`,
    ),
  );
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    ['listen: 127.0.0.1:0', 'watch: { enabled: true, interval: 10m, events: false }', 'storageLocations:', ...entries, ''].join('\n'),
  );
  const child = spawn(process.execPath, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const rss = watchPeakRss(child);
  t.teardown(() => {
    rss.stop();
    child.kill('SIGKILL');
  });
  let logs = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      logs += d;
      const serving = /"@message":"serving".*?"address":"([^"]+)"/.exec(logs);
      if (serving) resolve(serving[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${logs}`)));
  });
  const clients = makeClients(address, grpc.credentials.createInsecure());
  t.teardown(() => clients.close());

  const expected: Record<keyof typeof servers, RegExp> = {
    hang: /did not finish within 4 s/,
    // Whichever bound comes first on a loaded machine: the whole read's, or a stall of one try.
    huge: /did not finish within 4 s|timed out after 2000 ms/,
    midclose: /failed: connection reset/,
  };
  const started = Date.now();
  await Promise.all(
    (Object.keys(servers) as (keyof typeof servers)[]).map(async (name) => {
      const err = await t.throwsAsync<grpc.ServiceError>(
        call(clients.detector, 'Detect', { backup_name: FAULT_BACKUP, storage_location: name }, { deadlineMs: TIME_BOUND_MS }),
      );
      t.regex(err.details, new RegExp(`s3://${BUCKET}/${TARBALL_KEY}`), name);
      t.regex(err.details, expected[name], `${name}: ${err.details}`);
    }),
  );
  t.true(Date.now() - started < TIME_BOUND_MS, `took ${Date.now() - started} ms`);

  // The watch read each location's velero-backup.json: the endless one is refused at its size bound.
  const readiness = await call<{ locations: Array<{ storage_location: string; error: string }> }>(clients.detector, 'GetReadiness', {});
  const huge = readiness.locations.find((l) => l.storage_location === 'huge');
  t.regex(huge?.error ?? '', new RegExp(`s3://${BUCKET}/backups/${FAULT_BACKUP}/velero-backup.json is larger than 1048576 bytes`));
  t.log(`${Date.now() - started} ms, peak RSS ${rss.peak()} MiB`);
  t.true(rss.peak() < RSS_BOUND_MIB, `peak RSS ${rss.peak()} MiB`);
});
