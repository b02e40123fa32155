/**
 * Two `serve` replicas as the Deployment runs them, against their real peers: a loopback
 * Kubernetes API server (Leases with resourceVersion conflicts, Backups listed by label selector,
 * Events), s3rver holding the tarballs, vcsim holding the VMs as they are now, the real detection.
 * One replica leads and analyses; the other answers admissions from the verdicts the leader wrote
 * on the Backups without reading the bucket, ignores a verdict it did not sign, and points a denial
 * to the backup that restores; SIGTERM of the leader hands the Lease over at once, and the new
 * leader does not announce again what was announced.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { buildBackup, type FixtureCluster } from '../fixtures/builder.js';
import { makePki } from '../grpc/pki.js';
import * as grpc from '@grpc/grpc-js';
import { call, makeClients, pollUntil, type Clients } from '../grpc/helpers.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { capvVM, runCli, scenario, tkgCluster } from '../helpers/scenario.js';
import { completedBackup, startS3, storageLocationYaml, type S3Server } from '../helpers/s3.js';
import { startServeReplica, type ServeReplica } from '../helpers/serve-replica.js';
import { admissionReview, post, responseOf, restoreObject } from './helpers.js';

const LEASE = 'drift-detector-readiness';
/** Long, so that a take-over seen well within it can only be the leader's release. */
const LEASE_DURATION_S = 60;

function backupObject(name: string, completed: string, extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  const json = completedBackup(name) as any;
  return {
    ...json,
    metadata: { name, namespace: 'velero', labels: { ...json.metadata.labels, ...extra.labels }, annotations: extra.annotations ?? {} },
    status: { ...json.status, phase: 'Completed', startTimestamp: completed, completionTimestamp: completed },
  };
}

function config(s3: S3Server, pki: { serverCert: string; serverKey: string }): string {
  return [
    'listen: 127.0.0.1:0',
    'metrics: { listen: 127.0.0.1:0 }',
    ...storageLocationYaml(s3),
    'gate: { mode: block, failurePolicy: Fail }',
    'analysis: { skipAccessApiServer: true, maxAge: 1h }',
    'watch:',
    '  enabled: true',
    '  interval: 1h',
    '  events: true',
    '  source: cluster',
    '  depth: 2',
    `  leaderElection: { leaseDuration: ${LEASE_DURATION_S}s, renewDeadline: 40s, retryPeriod: 500ms }`,
    `webhook: { listen: 127.0.0.1:0, tls: { certFile: ${pki.serverCert}, keyFile: ${pki.serverKey} }, deadline: 60s }`,
    '',
  ].join('\n');
}

const analysedAt = (api: KubeApi, name: string) =>
  api.get('velero.io/v1', 'Backup', 'velero', name)?.metadata.annotations?.['driftdetector.dev/analyzed-at'];
const holder = (api: KubeApi) =>
  (api.get('coordination.k8s.io/v1', 'Lease', 'drift-detector', LEASE) as any)?.spec?.holderIdentity as string | undefined;
const bucketReads = (s3: S3Server) => s3.requests.filter((r) => r.method === 'GET').length;
const analysesBy = (r: ServeReplica) => r.lines.filter((l) => l['@message'] === 'analysis started').length;
/** The replica's readiness series: only the one running the watch has them (a follower's would raise the stale-analysis alert). */
async function readinessSeries(r: ServeReplica): Promise<string[]> {
  const address = r.lines.find((l) => l['@message'] === 'serving')!['metrics'] as string;
  const text = await (await fetch(`http://${address}/metrics`)).text();
  return text.split('\n').filter((l) => /^drift_detector_(readiness_(watch_start|last_success)|backup_restorable)/.test(l));
}

interface ReadinessLocation {
  storage_location: string;
  backup: string;
  analyzed: boolean;
  restorable: boolean;
  analyzed_at: string;
  summary_status: string;
  clusters: unknown[];
  infra_machines_to_confirm: number;
  verdict: string;
  verdict_summary: string;
  from_verdicts: boolean;
}

const grpcAddress = (r: ServeReplica) => String(r.lines.find((l) => l['@message'] === 'serving')!['address']);

function clientsOf(r: ServeReplica): Clients {
  return makeClients(grpcAddress(r), grpc.credentials.createInsecure());
}

/** GetReadiness of the default location, through this replica. */
async function readinessOf(r: ServeReplica): Promise<ReadinessLocation> {
  const clients = clientsOf(r);
  try {
    return (await call<{ locations: ReadinessLocation[] }>(clients.detector, 'GetReadiness', { storage_location: 'default' })).locations[0]!;
  } finally {
    clients.close();
  }
}

/** The first message of WatchReadiness through this replica. */
async function firstWatchAnswer(r: ServeReplica): Promise<ReadinessLocation[]> {
  const clients = clientsOf(r);
  const detector = clients.detector as unknown as {
    WatchReadiness(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<{ locations: ReadinessLocation[] }>;
  };
  const stream = detector.WatchReadiness({}, new grpc.Metadata());
  try {
    return await new Promise((resolve, reject) => {
      stream.once('data', (m: { locations: ReadinessLocation[] }) => resolve(m.locations));
      stream.once('error', reject);
    });
  } finally {
    stream.on('error', () => {});
    stream.cancel();
    clients.close();
  }
}

test('two replicas: one analyses, any answers from the signed verdict, a forged one is ignored, SIGTERM hands over at once', async (t) => {
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc-clean'), tkgCluster('wc-drift')] },
    { mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters.find((c) => c.name === 'wc-drift')!.machineDeploymentName}-7f9c8d-zzzzz`)) },
  );
  // An older backup that holds only the clean cluster: it would restore cleanly today.
  const pointAt = (c: FixtureCluster): FixtureCluster => ({
    ...c,
    vcenter: { ...c.vcenter, server: s.vcsim.server, thumbprint: s.vcsim.thumbprint },
  });
  const clean = await buildBackup({ clusters: [pointAt(tkgCluster('wc-clean'))] });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup('velero', 'tkg', 'b-drift', s.backup.path);
  await s3.putBackup('velero', 'tkg', 'b-clean', clean.path);
  await s3.putBackup('velero', 'tkg', 'b-forged', s.backup.path);
  const api = await startKubeApi();
  t.teardown(() => api.stop());
  api.put(backupObject('b-drift', '2026-12-05T11:00:00Z'));
  api.put(backupObject('b-clean', '2026-12-05T10:00:00Z'));
  // Older than the watch's depth, and labelled Restorable by someone who does not hold the key.
  api.put(
    backupObject('b-forged', '2026-12-05T09:00:00Z', {
      labels: { 'driftdetector.dev/restore-verdict': 'Restorable' },
      annotations: {
        'driftdetector.dev/analyzed-at': new Date().toISOString(),
        'driftdetector.dev/restore-summary': '2 clusters would restore cleanly',
        'driftdetector.dev/verdict-signature': 'bm90IGEgc2lnbmF0dXJl',
      },
    }),
  );
  const kubeconfig = await api.writeKubeconfig();
  const pki = await makePki();
  t.teardown(() => pki.remove());
  const ca = await readFile(pki.caCert);
  const yaml = config(s3, pki);

  const a = await startServeReplica('replica-a', yaml, { kubeconfig });
  t.teardown(() => a.stop('SIGKILL'));
  await a.logged('leading: this replica runs the readiness watch');
  const b = await startServeReplica('replica-b', yaml, { kubeconfig });
  t.teardown(() => b.stop('SIGKILL'));
  await pollUntil(
    async () => [analysedAt(api, 'b-drift'), analysedAt(api, 'b-clean')],
    (v) => v.every(Boolean),
    120_000,
    'verdicts of the leader',
  );
  const backups = () =>
    Object.fromEntries(
      api.list('velero.io/v1', 'Backup', 'velero').map((o) => [o.metadata.name, o.metadata.labels?.['driftdetector.dev/restore-verdict']]),
    );
  t.deepEqual(backups(), { 'b-drift': 'Blocked', 'b-clean': 'Restorable', 'b-forged': 'Restorable' });
  t.regex(
    api.get('velero.io/v1', 'Backup', 'velero', 'b-drift')!.metadata.annotations!['driftdetector.dev/restore-summary']!,
    /^1 cluster blocked: default\/wc-drift \(1 ghost\)$/,
  );
  t.is(holder(api)?.split('_')[0], 'replica-a');
  t.true(analysesBy(a) >= 2);
  t.is(analysesBy(b), 0, 'the replica that does not lead does not analyse');
  t.is((await readinessSeries(a)).length, 3);
  t.deepEqual(await readinessSeries(b), [], 'no readiness series on the replica that does not run the watch');

  // GetReadiness and WatchReadiness through either replica: the same backup and verdict; the follower's from the signed verdicts.
  const [fromA, fromB] = await Promise.all([readinessOf(a), readinessOf(b)]);
  const shared = (l: ReadinessLocation) => {
    const { summary_status: _status, clusters: _clusters, infra_machines_to_confirm: _infra, from_verdicts: _from, ...rest } = l;
    return rest;
  };
  t.like(fromA, { backup: 'b-drift', analyzed: true, restorable: false, verdict: 'Blocked', from_verdicts: false });
  t.is(fromA.verdict_summary, '1 cluster blocked: default/wc-drift (1 ghost)');
  t.deepEqual(shared(fromB), shared(fromA));
  t.true(fromB.from_verdicts);
  t.is(fromA.analyzed_at, analysedAt(api, 'b-drift') ?? 'none');
  const streamed = await firstWatchAnswer(b);
  t.deepEqual(streamed.map(shared), [shared(fromA)]);
  const watched = await runCli(['check', '--server', grpcAddress(b), '--watch', '--timeout', '2s']);
  t.is(watched.code, 1, watched.stderr);
  t.regex(
    watched.stdout,
    /^DRIFT default: backup b-drift \(Blocked\) analysed \d{4}-.*\n {2}1 cluster blocked: default\/wc-drift \(1 ghost\)\n/,
  );

  // The replica that never analysed answers from the verdict, without a read of the bucket.
  const reads = bucketReads(s3);
  const denied = responseOf(await post(b.webhookPort, ca, admissionReview(restoreObject({ backupName: 'b-drift' }))));
  t.false(denied.allowed);
  t.regex(denied.status!.message, /backup b-drift: 1 cluster blocked: default\/wc-drift \(1 ghost\) \(verdict Blocked, analysed .* ago\)/);
  t.regex(
    denied.status!.message,
    /Backup b-clean of storage location default would restore cleanly \(completed .* ago, analysed .* ago\):\n {2}velero restore create --from-backup b-clean/,
  );
  t.regex(denied.status!.message, /velero restore create --from-backup b-drift --labels driftdetector.dev\/override=<ticket>/);
  const allowed = responseOf(await post(b.webhookPort, ca, admissionReview(restoreObject({ backupName: 'b-clean' }))));
  t.true(allowed.allowed);
  t.is(bucketReads(s3), reads, 'no bucket read for either answer');
  t.is(analysesBy(b), 0);

  // A verdict nobody signed is ignored: the backup is analysed (it holds the drift) and denied, with the pointer.
  const forged = responseOf(await post(b.webhookPort, ca, admissionReview(restoreObject({ backupName: 'b-forged' }))));
  t.false(forged.allowed);
  t.regex(forged.status!.message, /- Cluster default\/wc-drift: ManualRemediationRequired/);
  t.regex(forged.status!.message, /velero restore create --from-backup b-clean/);
  t.true(bucketReads(s3) > reads, 'the forged verdict sent it to the bucket');
  t.true(b.lines.some((l) => l['@message'] === 'the Backup carries a restore verdict this service did not sign: analysing'));

  // SIGTERM of the leader: the other replica holds the Lease long before the lease duration could pass.
  const events = () => api.list('v1', 'Event', 'velero').filter((e: any) => e.involvedObject?.name === 'default').length;
  t.is(events(), 1, 'one Event: the newest backup would not restore');
  const before = analysedAt(api, 'b-drift')!;
  const signalled = Date.now();
  await a.stop('SIGTERM');
  await pollUntil(
    async () => holder(api),
    (h) => h?.split('_')[0] === 'replica-b',
    (LEASE_DURATION_S * 1000) / 2,
    'hand-over',
  );
  t.log(`hand-over after SIGTERM: ${Date.now() - signalled} ms (lease ${LEASE_DURATION_S} s)`);
  t.true(a.lines.some((l) => l['@message'] === 'Lease released'));
  t.is((api.get('coordination.k8s.io/v1', 'Lease', 'drift-detector', LEASE) as any).spec.leaseTransitions, 1);
  await pollUntil(
    async () => analysedAt(api, 'b-drift'),
    (at) => at !== before,
    120_000,
    'the new leader re-analyses',
  );
  t.true(analysesBy(b) >= 2);
  t.is((await readinessSeries(b)).length, 3, 'the new leader exports them');
  t.is(events(), 1, 'the new leader does not announce again what its predecessor announced');
});
