/**
 * The service end to end with its real peers: TKG backups from the fixture builder in a real S3
 * protocol server (s3rver behind SigV4 checks), a vSphere simulator holding the VMs "as they are
 * now", and the real detection. One test runs `drift-detector serve` and `check` as a user would.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { status, type ServiceError } from '@grpc/grpc-js';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import { capvVM, CLI, runCli, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { startS3, storageLocationYaml, type S3Server } from '../helpers/s3.js';
import { DEFAULT_USERNAME } from '../fixtures/builder.js';
import { call, clusterItem, collect, executeRequest, makeClients, parseItem, startTestService } from './helpers.js';
import { veleroRestore } from '../helpers/velero.js';
import { closedPort } from '../helpers/vcsim.js';

const BUCKET = 'velero';
const PREFIX = 'tkg';

/** wc-clean matches vSphere; wc-drift got a worker after the backup (a Ghost). */
async function driftScenario(t: ExecutionContext, login?: { username: string; password: string }) {
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc-clean'), tkgCluster('wc-drift')] },
    {
      mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters.find((c) => c.name === 'wc-drift')!.machineDeploymentName}-7f9c8d-zzzzz`)),
      ...(login ? { login } : {}),
    },
  );
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, PREFIX, 'b1', s.backup.path);
  return { ...s, s3 };
}

function location(s3: S3Server, credentialsFile = s3.credentialsFile): ConfiguredStorageLocation {
  return {
    name: 'default',
    isDefault: true,
    location: { bucket: BUCKET, prefix: PREFIX, s3Url: s3.endpoint, s3ForcePathStyle: true, region: 'us-east-1', credentialsFile },
    timeoutMs: 10_000,
    deadlineMs: 60_000,
  };
}

const tarballGets = (s3: S3Server, backup: string) =>
  s3.requests.filter((r) => r.method === 'GET' && r.key === `${PREFIX}/backups/${backup}/${backup}.tar.gz`).length;

// ---------------------------------------------------------------------------------------------

test('serve and check as processes: verdicts, override, Velero Execute, one scan for concurrent items, metrics, SIGTERM', async (t) => {
  const { s3, backup } = await driftScenario(t);
  await s3.putBackup(BUCKET, PREFIX, 'b2', backup.path);
  const dir = await tempDir('drift-serve-');
  const token = randomBytes(24).toString('base64url');
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  await writeFile(
    join(dir, 'config.yaml'),
    [
      'listen: 127.0.0.1:0',
      'metrics: { listen: 127.0.0.1:0 }',
      'auth: { tokenFile: token }',
      ...storageLocationYaml(s3, BUCKET, PREFIX),
      'gate: { mode: block, failurePolicy: Fail }',
      'analysis: { skipAccessApiServer: true, cacheTTL: 10m }',
      'shutdownTimeout: 5s',
      '',
    ].join('\n'),
  );

  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const serving = await new Promise<{ address: string; metrics: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const line = stderr.split('\n').find((l) => l.includes('"@message":"serving"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });

  const tokenFile = join(dir, 'token');
  const blocked = await runCli(['check', '--server', serving.address, '--backup-name', 'b1', '--token-file', tokenFile]);
  t.is(blocked.code, 1, blocked.stderr);
  t.regex(blocked.stdout, /^BLOCK {2}backup s3:\/\/velero\/tkg\/backups\/b1\/b1\.tar\.gz \(ManualRemediationRequired\)/);
  t.regex(blocked.stdout, /BLOCK +default\/wc-drift +ManualRemediationRequired +ghost machines .*-zzzzz/);
  t.regex(blocked.stdout, /ALLOW +default\/wc-clean +Healthy/);

  const overridden = await runCli([
    'check',
    '--server',
    serving.address,
    '--backup-name',
    'b1',
    '--token-file',
    tokenFile,
    '--override',
    'ghost adopted',
    '--override-clusters',
    'default/wc-drift',
  ]);
  t.is(overridden.code, 0, overridden.stderr);
  // Not in a bucket that answered: allowed and not checked, as the webhook allows it (exit 0), with the warning.
  const missing = await runCli(['check', '--server', serving.address, '--backup-name', 'no-such-backup', '--token-file', tokenFile]);
  t.is(missing.code, 0, missing.stderr);
  t.is(
    missing.stdout,
    'ALLOW  backup no-such-backup (not checked)\n' +
      "  warning: drift-detector did not check this restore: backup no-such-backup is not in storage location default (the bucket answered; Velero's backup sync may not have run yet)\n",
  );
  const anonymous = await runCli(['check', '--server', serving.address, '--backup-name', 'b1']);
  t.is(anonymous.code, 2);
  t.regex(anonymous.stderr, /UNAUTHENTICATED/);

  // Velero restoring backup b2: many Cluster items at once, one analysis.
  const clients = makeClients(serving.address, grpc.credentials.createInsecure());
  t.teardown(() => clients.close());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const items = ['wc-clean', 'wc-drift', 'wc-clean', 'wc-drift', 'wc-clean', 'wc-clean'];
  const results = await Promise.allSettled(
    items.map((name, i) =>
      call<{ item: Buffer }>(
        i % 2 ? clients.riaV1 : clients.riaV2,
        'Execute',
        executeRequest(clusterItem('default', name), veleroRestore('b2')),
        { metadata, deadlineMs: 120_000 },
      ),
    ),
  );
  t.is(tarballGets(s3, 'b2'), 1, 'one download of the tarball for every item');
  for (const [i, r] of results.entries()) {
    if (items[i] === 'wc-clean') {
      t.is(r.status, 'fulfilled');
      if (r.status === 'fulfilled') t.is(parseItem(r.value.item).metadata.annotations!['driftdetector.dev/status'], 'Healthy');
    } else {
      t.is(r.status, 'rejected');
      if (r.status === 'rejected') {
        t.is((r.reason as ServiceError).code, status.FAILED_PRECONDITION);
        t.regex((r.reason as ServiceError).details, /Cluster default\/wc-drift: it has ghost machines .*-zzzzz/);
      }
    }
  }

  const metrics = await fetch(`http://${serving.metrics}/metrics`).then((r) => r.text());
  t.regex(metrics, /drift_detector_detections_total\{result="ok"\} 2/);
  t.regex(metrics, /drift_detector_gate_verdicts_total\{verdict="BLOCK",action="fail",source="execute"\} 2/);
  t.regex(metrics, /drift_detector_analysis_cache_hits_total\{kind="shared"\} 5/);
  t.regex(metrics, /drift_detector_detection_duration_seconds_count\{result="ok"\} 2/);

  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.is(stdout, '', 'nothing on stdout: logs go to stderr');
  for (const line of stderr.trim().split('\n')) t.notThrows(() => JSON.parse(line), line);
  t.false(stderr.includes(token));
  t.false(stderr.includes(s3.secretAccessKey));
  t.regex(stderr, /"@message":"stopped"/);
});

test('DetectStream against the real peers: the stages of the analysis, then the report', async (t) => {
  const { s3 } = await driftScenario(t);
  const service = await startTestService({ config: { storageLocations: [location(s3)] } });
  t.teardown(() => service.stop());
  const events = await collect<any>(service.clients.detector, 'DetectStream', { backup_name: 'b1' });
  const stages = [...new Set(events.filter((e) => e.progress).map((e) => e.progress.stage))];
  t.deepEqual(stages, ['backup', 'vsphere', 'workload', 'analysis']);
  const result = events[events.length - 1].result;
  t.is(result.report.summary.status, 'ManualRemediationRequired');
  t.is(JSON.parse(result.report_json).summary.clusters.total, 2);
});

test('S3 refuses the credentials: PERMISSION_DENIED; failurePolicy decides what Execute does', async (t) => {
  const { s3 } = await driftScenario(t);
  const dir = await tempDir();
  const wrong = join(dir, 'cloud');
  await writeFile(wrong, `[default]\naws_access_key_id=${s3.accessKeyId}\naws_secret_access_key=not-the-secret\n`);
  const failing = await startTestService({ config: { storageLocations: [location(s3, wrong)] } });
  t.teardown(() => failing.stop());
  const err = await t.throwsAsync<ServiceError>(call(failing.clients.detector, 'Check', { backup_name: 'b1' }));
  t.is(err.code, status.PERMISSION_DENIED);
  t.regex(err.details, /access denied .*SignatureDoesNotMatch/);
  t.false(err.details.includes('not-the-secret'));
  const failed = await t.throwsAsync<ServiceError>(
    call(failing.clients.riaV2, 'Execute', executeRequest(clusterItem('default', 'wc-clean'), veleroRestore('b1'))),
  );
  t.is(failed.code, status.PERMISSION_DENIED);
  t.regex(failed.details, /Cluster default\/wc-clean: the drift check failed \(failurePolicy Fail\)/);

  const ignoring = await startTestService({
    config: { storageLocations: [location(s3, wrong)], gate: { mode: 'block', failurePolicy: 'Ignore', pauseOnDrift: false } },
  });
  t.teardown(() => ignoring.stop());
  const res = await call<{ item: Buffer }>(
    ignoring.clients.riaV1,
    'Execute',
    executeRequest(clusterItem('default', 'wc-clean'), veleroRestore('b1')),
  );
  const annotations = parseItem(res.item).metadata.annotations!;
  t.is(annotations['driftdetector.dev/status'], 'CheckFailed');
  t.regex(annotations['driftdetector.dev/check-error']!, /access denied/);
});

test('a backup missing from the bucket is NOT_FOUND', async (t) => {
  const { s3 } = await driftScenario(t);
  const service = await startTestService({ config: { storageLocations: [location(s3)] } });
  t.teardown(() => service.stop());
  const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Detect', { backup_name: 'b9' }));
  t.is(err.code, status.NOT_FOUND);
  t.regex(err.details, /s3:\/\/velero\/tkg\/backups\/b9\/b9\.tar\.gz/);
});

test("vCenter refuses the backup's credentials: clusters need confirmation; failurePolicy and credential overrides decide", async (t) => {
  const password = 'Correct-Horse-Battery-1';
  const { s3, vcsim } = await driftScenario(t, { username: DEFAULT_USERNAME, password });
  const strict = await startTestService({ config: { storageLocations: [location(s3)] } });
  t.teardown(() => strict.stop());
  const checked = await call<any>(strict.clients.detector, 'Check', { backup_name: 'b1' });
  t.is(checked.summary_status, 'NeedFurtherConfirmation');
  t.is(checked.verdict, 'BLOCK');
  t.true(checked.clusters.every((c: any) => c.status === 'NeedFurtherConfirmation' && c.verdict === 'BLOCK'));
  t.regex(checked.clusters[0].reason, /unknown machines/);
  const lenient = await call<any>(strict.clients.detector, 'Check', { backup_name: 'b1', failure_policy: 'IGNORE' });
  t.is(lenient.verdict, 'ALLOW');

  const annotate = await startTestService({
    config: { storageLocations: [location(s3)], gate: { mode: 'annotate', failurePolicy: 'Fail', pauseOnDrift: true } },
  });
  t.teardown(() => annotate.stop());
  const paused = parseItem(
    (await call<{ item: Buffer }>(annotate.clients.riaV2, 'Execute', executeRequest(clusterItem('default', 'wc-clean'), veleroRestore('b1'))))
      .item,
  );
  t.is(paused.spec['paused'], true);
  t.is(paused.metadata.annotations!['driftdetector.dev/status'], 'NeedFurtherConfirmation');
  t.truthy(paused.metadata.annotations!['driftdetector.dev/unknown-machines']);

  // The operator's credentials (from the configuration) go only to a vCenter the configuration trusts.
  const untrusted = await startTestService({
    config: { storageLocations: [location(s3)] },
    secrets: { vcenterCredentials: { username: DEFAULT_USERNAME, password } },
  });
  t.teardown(() => untrusted.stop());
  const notSent = await call<any>(untrusted.clients.detector, 'Detect', { backup_name: 'b1' });
  t.regex(JSON.stringify(notSent), new RegExp(`operator's vSphere credentials were not sent to ${vcsim.server}: .*vsphere\\.trustedHosts`));

  // Then they win over the backup's.
  const fixed = await startTestService({
    config: { storageLocations: [location(s3)] },
    secrets: { vcenterCredentials: { username: DEFAULT_USERNAME, password, trust: { hosts: [vcsim.server] } } },
  });
  t.teardown(() => fixed.stop());
  const res = await call<any>(fixed.clients.detector, 'Check', { backup_name: 'b1' });
  t.is(res.clusters.find((c: any) => c.name === 'wc-clean').status, 'Healthy');
  t.is(res.clusters.find((c: any) => c.name === 'wc-drift').status, 'ManualRemediationRequired');
  t.false(JSON.stringify([checked, res, strict.logs, fixed.logs]).includes(password));
});

test('check with a vCenter refusing connections: the cause once, under Errors, and short cluster lines that refer to it', async (t) => {
  const down = await closedPort();
  const s = await scenario(t, { clusters: [tkgCluster('wc-a', { workers: 6 }), tkgCluster('wc-b', { workers: 6 })] }, { server: down });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, PREFIX, 'b1', s.backup.path);
  const service = await startTestService({ config: { storageLocations: [location(s3)] } });
  t.teardown(() => service.stop());

  const answer = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1' });
  t.deepEqual(
    answer.errors.map((e: any) => [e.scope, e.severity]),
    [[`vcenter:${down}`, 'error']],
  );
  // What a Velero user reads when the restore is blocked: the machines, and the vCenter's cause once.
  const blockMessage: string = answer.clusters[0].block_message;
  t.is(blockMessage.split(`vcenter:${down}: connection refused`).length - 1, 1, blockMessage);

  const checked = await runCli(['check', '--server', service.running.address, '--backup-name', 'b1']);
  t.is(checked.code, 1, checked.stderr);
  const lines = checked.stdout.trimEnd().split('\n');
  // Seven machine names per cluster line, and the vCenter's failure named once: 436 characters, not 1,006.
  t.true(
    lines.every((l) => l.length < 500 && l.split('could not be listed').length <= 2),
    checked.stdout,
  );
  t.is(checked.stdout.split('ECONNREFUSED').length - 1, 1, 'the cause is said once');
  for (const cluster of ['wc-a', 'wc-b']) {
    t.regex(checked.stdout, new RegExp(`BLOCK +default/${cluster} +NeedFurtherConfirmation +.*the error for vcenter:${down} says why`));
  }
  t.regex(checked.stdout, new RegExp(`\\n\\nErrors\\n  vcenter:${down}: connection refused by ${down} \\(ECONNREFUSED\\)`));
});
