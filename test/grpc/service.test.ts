/**
 * The service started for real on loopback with a detection the tests control: every RPC over a
 * real grpc-js channel, the gate's rules through Check and through Velero's Execute (v1 and v2).
 */
import test from 'ava';
import { CLUSTER_API_RESOURCES } from '../../src/rpc/restore-gate-actions.js';
import { status, type ServiceError } from '@grpc/grpc-js';
import { BackupSourceError } from '../../src/backup/errors.js';
import {
  call,
  cluster,
  clusterItem,
  collect,
  executeRequest,
  FakeDetection,
  Hold,
  listServices,
  machine,
  parseItem,
  report,
  standardReport,
  startTestService,
  type TestService,
  until,
} from './helpers.js';
import { veleroRestore } from '../helpers/velero.js';

const OVERRIDE = 'driftdetector.dev/override';
const SCOPE = 'driftdetector.dev/override-clusters';

async function withService(
  t: { teardown(fn: () => Promise<void>): void },
  setup: (fake: FakeDetection) => void = () => {},
  config: Parameters<typeof startTestService>[0]['config'] = {},
): Promise<{ service: TestService; fake: FakeDetection }> {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  setup(fake);
  const service = await startTestService({ deps: fake.deps(), config });
  t.teardown(() => service.stop());
  return { service, fake };
}

function execute(
  service: TestService,
  version: 'v1' | 'v2',
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
  backup = 'b1',
) {
  const client = version === 'v1' ? service.clients.riaV1 : service.clients.riaV2;
  return call<{ item: Buffer; skipRestore: boolean; additionalItems: unknown[] }>(
    client,
    'Execute',
    executeRequest(clusterItem(namespace, name), veleroRestore(backup, { annotations })),
  );
}

// ---------------------------------------------------------------------------------------------
// DriftDetector

test('Detect returns the typed report and the section 6 JSON', async (t) => {
  const { service } = await withService(t);
  const res = await call<{ report: any; report_json: string; cached: boolean }>(service.clients.detector, 'Detect', { backup_name: 'b1' });
  t.is(res.report.summary.status, 'ManualRemediationRequired');
  t.is(res.report.summary.clusters.total, 4);
  t.is(res.report.summary.clusters.manual_remediation_required, 1);
  const ghost = res.report.clusters.find((c: any) => c.name === 'wc-ghost');
  t.is(ghost.workers.machines[0].status, 'Ghost');
  t.is(ghost.control_plane.status, 'Healthy');
  const json = JSON.parse(res.report_json);
  t.deepEqual(Object.keys(json).sort(), ['clusters', 'errors', 'infraMachines', 'metadata', 'summary']);
  t.is(json.summary.infraMachinesNeedFurtherConfirmation, 0);
  t.is(json.clusters.length, 4);
  t.false(res.cached);
});

test('Detect with ignore_healthy_resources leaves Healthy clusters out and keeps the counts', async (t) => {
  const { service } = await withService(t);
  const res = await call<{ report: any; report_json: string }>(service.clients.detector, 'Detect', {
    backup_name: 'b1',
    ignore_healthy_resources: true,
  });
  t.deepEqual(res.report.clusters.map((c: any) => c.name).sort(), ['wc-ghost', 'wc-stale', 'wc-unknown']);
  t.is(res.report.summary.clusters.total, 4);
  t.false(JSON.parse(res.report_json).clusters.some((c: any) => c.name === 'wc-ok'));
});

test('DetectStream sends progress events, then the report', async (t) => {
  const { service } = await withService(t);
  const events = await collect<{ progress?: { stage: string; message: string }; result?: { report: any } }>(
    service.clients.detector,
    'DetectStream',
    { backup_name: 'b1' },
  );
  const progress = events.filter((e) => e.progress).map((e) => e.progress!.stage);
  t.deepEqual(progress, ['backup', 'vsphere', 'analysis']);
  t.truthy(events[events.length - 1]!.result);
  t.is(events[events.length - 1]!.result!.report.summary.status, 'ManualRemediationRequired');
});

test('DetectStream joining an analysis in flight sees its earlier progress and the same result', async (t) => {
  const { service, fake } = await withService(t, (f) => (f.delayMs = 300));
  const first = collect<any>(service.clients.detector, 'DetectStream', { backup_name: 'b1' });
  await new Promise((r) => setTimeout(r, 100));
  const second = collect<any>(service.clients.detector, 'DetectStream', { backup_name: 'b1' });
  const [a, b] = await Promise.all([first, second]);
  t.is(fake.calls.length, 1);
  t.deepEqual(
    b.filter((e: any) => e.progress).map((e: any) => e.progress.stage),
    ['backup', 'vsphere', 'analysis'],
  );
  t.false(a[a.length - 1].result.cached);
  t.true(b[b.length - 1].result.cached);
});

test('Check: per-cluster verdicts, overall BLOCK', async (t) => {
  const { service } = await withService(t);
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1' });
  t.is(res.verdict, 'BLOCK');
  const byName = Object.fromEntries(res.clusters.map((c: any) => [c.name, c]));
  t.is(byName['wc-ghost'].verdict, 'BLOCK');
  t.is(byName['wc-ghost'].action, 'fail');
  t.deepEqual(byName['wc-ghost'].ghost_machines, ['wc-ghost-md-0-x']);
  t.regex(byName['wc-ghost'].block_message, /driftdetector\.dev\/override/);
  t.is(byName['wc-ok'].verdict, 'ALLOW');
  t.is(byName['wc-stale'].verdict, 'ALLOW');
  t.is(byName['wc-unknown'].verdict, 'BLOCK', 'failurePolicy Fail blocks unconfirmed clusters');
  t.is(byName['wc-ok'].annotations['driftdetector.dev/status'], 'Healthy');
  t.is(res.summary_status, 'ManualRemediationRequired');
});

test('Check: failure_policy IGNORE lets the unconfirmed cluster through', async (t) => {
  const { service } = await withService(t);
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1', failure_policy: 'IGNORE' });
  t.is(res.clusters.find((c: any) => c.name === 'wc-unknown').verdict, 'ALLOW');
  t.is(res.verdict, 'BLOCK', 'the ghost cluster still blocks');
});

test('Check: an override for all clusters allows everything', async (t) => {
  const { service } = await withService(t);
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1', override_reason: 'INC-42: ghosts deleted by hand' });
  t.is(res.verdict, 'ALLOW');
  const ghost = res.clusters.find((c: any) => c.name === 'wc-ghost');
  t.true(ghost.overridden);
  t.is(ghost.annotations['driftdetector.dev/override-reason'], 'INC-42: ghosts deleted by hand');
});

test('Check: a scoped override covers only its clusters', async (t) => {
  const { service } = await withService(t);
  const res = await call<any>(service.clients.detector, 'Check', {
    backup_name: 'b1',
    override_reason: 'r',
    override_clusters: ['default/wc-ghost'],
  });
  t.is(res.verdict, 'BLOCK');
  t.is(res.clusters.find((c: any) => c.name === 'wc-ghost').verdict, 'ALLOW');
  t.is(res.clusters.find((c: any) => c.name === 'wc-unknown').verdict, 'BLOCK');
});

test('Check: a blank override reason overrides nothing', async (t) => {
  const { service } = await withService(t);
  const res = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1', override_reason: '   ' });
  t.is(res.verdict, 'BLOCK');
  t.false(res.clusters.some((c: any) => c.overridden));
});

test('Check with fail_on_block answers FAILED_PRECONDITION naming the blocked clusters', async (t) => {
  const { service } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Check', { backup_name: 'b1', fail_on_block: true }));
  t.is(err.code, status.FAILED_PRECONDITION);
  t.regex(err.details, /default\/wc-ghost.*wc-ghost-md-0-x/);
  t.regex(err.details, /default\/wc-unknown/);
  const line = service.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['method'] === 'Check');
  t.like(line, { code: 'FAILED_PRECONDITION', backup: 'b1', verdict: 'BLOCK' }, "the call's log line carries the verdict");
});

test('requests are validated: backup name, storage location, override fields', async (t) => {
  const { service, fake } = await withService(t);
  const cases: Array<[string, object, RegExp]> = [
    ['Detect', { backup_name: '' }, /backup_name: required/],
    ['Detect', { backup_name: 'Not_A_Name' }, /not a Velero backup name/],
    ['Detect', { backup_name: `a${'b'.repeat(253)}` }, /not a Velero backup name/],
    ['Detect', { backup_name: '../etc' }, /not a Velero backup name/],
    ['Detect', { backup_name: 'b1', storage_location: 'nowhere' }, /storage location "nowhere" is not configured/],
    ['Check', { backup_name: 'b1', override_reason: 'x'.repeat(1025) }, /override_reason: longer than 1024/],
    [
      'Check',
      { backup_name: 'b1', override_reason: 'r', override_clusters: ['just-a-name'] },
      /override_clusters: "just-a-name" is not namespace\/name/,
    ],
    ['Check', { backup_name: 'b1', override_clusters: ['default/wc-ghost'] }, /without override_reason/],
  ];
  for (const [method, request, message] of cases) {
    const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, method, request));
    t.is(err.code, status.INVALID_ARGUMENT, JSON.stringify(request).slice(0, 80));
    t.regex(err.details, message);
  }
  t.is(fake.calls.length, 0, 'nothing invalid reaches the detection');
});

test('a missing backup is NOT_FOUND for Detect; Check allows it, not checked, as the webhook does', async (t) => {
  const { service } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Detect', { backup_name: 'nope' }));
  t.is(err.code, status.NOT_FOUND);
  t.regex(err.details, /nope/);
  const checked = await call<{ verdict: string; summary_status: string; clusters: unknown[]; not_checked: string }>(
    service.clients.detector,
    'Check',
    { backup_name: 'nope' },
  );
  t.like(checked, { verdict: 'ALLOW', summary_status: 'NotChecked', clusters: [] });
  t.regex(checked.not_checked, /did not check this restore: backup nope is not in storage location/);
});

test('a call whose deadline passes while the analysis runs gets DEADLINE_EXCEEDED, and the analysis goes on for the others', async (t) => {
  // The analysis waits for the test, not for a clock: it is still running when the deadline passes,
  // however slow the machine. The deadline is long enough for the call to reach the server first.
  const hold = new Hold();
  const { service, fake } = await withService(t, (f) => (f.hold = hold));
  await call(service.clients.health, 'check', { service: '' });
  const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Detect', { backup_name: 'b1' }, { deadlineMs: 2_000 }));
  t.is(err.code, status.DEADLINE_EXCEEDED);
  t.is(fake.calls.length, 1);
  const joined = call<any>(service.clients.detector, 'Detect', { backup_name: 'b1' });
  hold.release();
  const res = await joined;
  t.true(res.cached, 'joined the analysis the first call started');
  t.is(fake.calls.length, 1);
});

test('an analysis that outlives analysis.timeout fails with DEADLINE_EXCEEDED', async (t) => {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  fake.delayMs = 5000;
  const service = await startTestService({
    deps: fake.deps(),
    config: { analysis: { ...(await import('./helpers.js')).testConfig().analysis, timeoutMs: 200 } },
  });
  t.teardown(() => service.stop());
  const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, 'Detect', { backup_name: 'b1' }));
  t.is(err.code, status.DEADLINE_EXCEEDED);
  t.regex(err.details, /did not finish within 0.2 s/);
});

test('finished analyses are reused; refresh runs a new one', async (t) => {
  const { service, fake } = await withService(t);
  await call(service.clients.detector, 'Detect', { backup_name: 'b1' });
  const again = await call<any>(service.clients.detector, 'Check', { backup_name: 'b1' });
  t.true(again.cached);
  t.is(fake.calls.length, 1);
  await call(service.clients.detector, 'Detect', { backup_name: 'b1', refresh: true });
  t.is(fake.calls.length, 2);
  const metrics = await service.running.metrics.registry.metrics();
  t.regex(metrics, /drift_detector_analysis_cache_hits_total\{kind="cached"\} 1/);
  t.regex(metrics, /drift_detector_analysis_cache_misses_total 2/);
  t.regex(metrics, /drift_detector_detections_total\{result="ok"\} 2/);
});

// ---------------------------------------------------------------------------------------------
// Health and reflection

test('health reports SERVING for the server, go-plugin\'s "plugin" and each service', async (t) => {
  const { service } = await withService(t);
  for (const name of ['', 'plugin', 'driftdetector.v1.DriftDetector', 'generated.RestoreItemAction', 'v2.RestoreItemAction']) {
    const res = await call<{ status: string }>(service.clients.health, 'check', { service: name });
    t.is(res.status, 'SERVING', name);
  }
  const err = await t.throwsAsync<ServiceError>(call(service.clients.health, 'check', { service: 'nope' }));
  t.is(err.code, status.NOT_FOUND);
});

test('reflection lists the services', async (t) => {
  const { service } = await withService(t);
  const names = await listServices(service.clients.reflection);
  for (const name of ['driftdetector.v1.DriftDetector', 'generated.RestoreItemAction', 'v2.RestoreItemAction'])
    t.true(names.includes(name), name);
});

test('shutdown: health turns NOT_SERVING, the call in flight finishes, a stream left open is cancelled at the timeout', async (t) => {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  // The call in flight finishes once the shutdown has begun (health says NOT_SERVING), well
  // within the timeout, whatever the load: its analysis waits for the test, not for a clock.
  fake.hold = new Hold();
  const service = await startTestService({ deps: fake.deps() });
  t.teardown(() => service.clients.close());
  const watch = (service.clients.health as unknown as { watch: (...args: any[]) => any }).watch({
    service: '',
  }) as import('@grpc/grpc-js').ClientReadableStream<{ status: string }>;
  const statuses: string[] = [];
  const watchEnded = new Promise<number>((resolve) => {
    watch.on('data', (m: { status: string }) => statuses.push(m.status));
    watch.on('error', (e: ServiceError) => resolve(e.code));
    watch.on('end', () => resolve(-1));
  });
  const inFlight = call<any>(service.clients.detector, 'Detect', { backup_name: 'b1' });
  await until(() => fake.calls.length > 0 && statuses.length > 0, 'the analysis and the first health status');
  const started = Date.now();
  const shutdown = service.running.shutdown(3_000);
  await until(() => statuses.includes('NOT_SERVING'), 'health NOT_SERVING');
  fake.hold.release();
  const res = await inFlight;
  await shutdown;
  t.is(res.report.summary.status, 'ManualRemediationRequired');
  t.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
  t.is(await watchEnded, status.CANCELLED);
  t.true(Date.now() - started >= 2_900, 'the open stream held the shutdown until the timeout');
});

// ---------------------------------------------------------------------------------------------
// Velero RestoreItemAction

for (const version of ['v1', 'v2'] as const) {
  test(`${version} AppliesTo: the Cluster API resources by name; Secrets and ConfigMaps labelled with a cluster`, async (t) => {
    const { service } = await withService(t);
    const client = version === 'v1' ? service.clients.riaV1 : service.clients.riaV2;
    const res = await call<any>(client, 'AppliesTo', { plugin: 'driftdetector.dev/restore-gate' });
    t.deepEqual(res.ResourceSelector.includedResources, [...CLUSTER_API_RESOURCES]);
    t.true(res.ResourceSelector.includedResources.includes('clusters.cluster.x-k8s.io'));
    t.false(res.ResourceSelector.includedResources.some((r: string) => r === '*' || !r.includes('.cluster.x-k8s.io')));
    t.deepEqual(res.ResourceSelector.includedNamespaces, []);
    t.is(res.ResourceSelector.selector, '');
    const secrets = await call<any>(client, 'AppliesTo', { plugin: 'driftdetector.dev/restore-gate-secrets' });
    t.deepEqual(secrets.ResourceSelector.includedResources, ['secrets', 'configmaps']);
    t.is(secrets.ResourceSelector.selector, 'cluster.x-k8s.io/cluster-name');
    const tkg = await call<any>(client, 'AppliesTo', { plugin: 'driftdetector.dev/restore-gate-tkg' });
    t.deepEqual(tkg.ResourceSelector.includedResources, ['secrets', 'configmaps']);
    t.is(tkg.ResourceSelector.selector, 'tkg.tanzu.vmware.com/cluster-name');
  });

  test(`${version} Execute: a Secret TKG labels with a blocked cluster's name is skipped, the clean cluster's passes`, async (t) => {
    const { service } = await withService(t);
    const client = version === 'v1' ? service.clients.riaV1 : service.clients.riaV2;
    const secret = (cluster: string) =>
      Buffer.from(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: `vsphere-credentials-${cluster}`, namespace: 'default', labels: { 'tkg.tanzu.vmware.com/cluster-name': cluster } },
          data: { password: 'c2VjcmV0' },
        }),
      );
    type Answer = { item: Buffer; skipRestore: boolean };
    const plugin = 'driftdetector.dev/restore-gate-tkg';
    const skipped = await call<Answer>(client, 'Execute', executeRequest(secret('wc-ghost'), veleroRestore('b1'), plugin));
    t.true(skipped.skipRestore);
    const passed = await call<Answer>(client, 'Execute', executeRequest(secret('wc-ok'), veleroRestore('b1'), plugin));
    t.false(passed.skipRestore);
    t.deepEqual(Buffer.from(passed.item), secret('wc-ok'));
  });

  test(`${version} Execute: an object of a blocked cluster is skipped, one of a clean cluster passes byte for byte`, async (t) => {
    const { service } = await withService(t);
    const client = version === 'v1' ? service.clients.riaV1 : service.clients.riaV2;
    const object = (cluster: string) =>
      Buffer.from(
        JSON.stringify({
          apiVersion: 'cluster.x-k8s.io/v1beta1',
          kind: 'MachineDeployment',
          metadata: { name: `${cluster}-md-0`, namespace: 'default', labels: { 'cluster.x-k8s.io/cluster-name': cluster } },
          spec: { clusterName: cluster },
        }),
      );
    type Answer = { item: Buffer; skipRestore: boolean };
    const skipped = await call<Answer>(client, 'Execute', executeRequest(object('wc-ghost'), veleroRestore('b1')));
    t.true(skipped.skipRestore);
    t.deepEqual(Buffer.from(skipped.item), object('wc-ghost'));
    const passed = await call<Answer>(client, 'Execute', executeRequest(object('wc-ok'), veleroRestore('b1')));
    t.false(passed.skipRestore);
    t.deepEqual(Buffer.from(passed.item), object('wc-ok'));
    const byLabel = await call<Answer>(
      client,
      'Execute',
      executeRequest(object('wc-ghost'), veleroRestore('b1', { labels: { [OVERRIDE]: 'OPS-1234' } })),
    );
    t.false(byLabel.skipRestore);
    t.is(parseItem(byLabel.item).metadata.annotations!['driftdetector.dev/override-reason'], 'OPS-1234');
  });

  test(`${version} Execute: gate annotations from the backup are replaced, never passed through`, async (t) => {
    const { service } = await withService(t);
    const forged = { 'driftdetector.dev/override-reason': 'forged', 'driftdetector.dev/verdict': 'ALLOW', 'driftdetector.dev/x': 'y' };
    const res = await call<{ item: Buffer }>(
      version === 'v1' ? service.clients.riaV1 : service.clients.riaV2,
      'Execute',
      executeRequest(clusterItem('default', 'wc-ok', { annotations: forged }), veleroRestore('b1')),
    );
    const annotations = parseItem(res.item).metadata.annotations!;
    t.is(annotations['driftdetector.dev/override-reason'], undefined);
    t.is(annotations['driftdetector.dev/x'], undefined);
    t.is(annotations['driftdetector.dev/status'], 'Healthy');
    t.is(annotations['tkg.tanzu.vmware.com/cluster-controlplane-endpoint'], '10.0.0.10');
  });

  test(`${version} Execute, mode block: a drifted Cluster fails with the block message`, async (t) => {
    const { service } = await withService(t);
    const err = await t.throwsAsync<ServiceError>(execute(service, version, 'default', 'wc-ghost'));
    t.is(err.code, status.FAILED_PRECONDITION);
    t.regex(err.details, /Cluster default\/wc-ghost/);
    t.regex(err.details, /wc-ghost-md-0-x/);
    t.regex(err.details, /driftdetector\.dev\/override: "<reason>"/);
    t.regex(err.details, /driftdetector\.dev\/override=<ticket>/);
  });

  test(`${version} Execute, mode block: a clean Cluster is returned annotated`, async (t) => {
    const { service } = await withService(t);
    const res = await execute(service, version, 'default', 'wc-ok');
    const item = parseItem(res.item);
    t.is(item.metadata.annotations!['driftdetector.dev/status'], 'Healthy');
    t.is(item.metadata.annotations!['driftdetector.dev/ghost-machines'], '');
    t.is(item.metadata.annotations!['driftdetector.dev/stale-machines'], '');
    t.is(item.metadata.annotations!['tkg.tanzu.vmware.com/cluster-controlplane-endpoint'], '10.0.0.10', 'existing annotations stay');
    t.is(item.spec['paused'], undefined);
    t.false(res.skipRestore);
    t.deepEqual(res.additionalItems, []);
  });

  test(`${version} Execute: an override restores the drifted Cluster with the reason`, async (t) => {
    const { service } = await withService(t);
    const res = await execute(service, version, 'default', 'wc-ghost', { [OVERRIDE]: 'VMs adopted (INC-7)' });
    const item = parseItem(res.item);
    t.is(item.metadata.annotations!['driftdetector.dev/override-reason'], 'VMs adopted (INC-7)');
    t.is(item.metadata.annotations!['driftdetector.dev/status'], 'ManualRemediationRequired');
    t.is(item.metadata.annotations!['driftdetector.dev/ghost-machines'], 'wc-ghost-md-0-x');
  });
}

test('Execute: a scoped override covers its cluster only', async (t) => {
  const { service } = await withService(t);
  const annotations = { [OVERRIDE]: 'checked', [SCOPE]: 'default/wc-ghost' };
  const res = await execute(service, 'v2', 'default', 'wc-ghost', annotations);
  t.is(parseItem(res.item).metadata.annotations!['driftdetector.dev/override-reason'], 'checked');
  const err = await t.throwsAsync<ServiceError>(execute(service, 'v2', 'default', 'wc-unknown', annotations));
  t.is(err.code, status.FAILED_PRECONDITION);
  t.regex(err.details, /covers only: default\/wc-ghost/);
});

test('Execute: an empty override reason overrides nothing', async (t) => {
  const { service } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(execute(service, 'v2', 'default', 'wc-ghost', { [OVERRIDE]: '' }));
  t.is(err.code, status.FAILED_PRECONDITION);
});

test('Execute, mode annotate: every Cluster is restored and annotated', async (t) => {
  const { service } = await withService(t, undefined, { gate: { mode: 'annotate', failurePolicy: 'Fail', pauseOnDrift: false } });
  const ghost = parseItem((await execute(service, 'v2', 'default', 'wc-ghost')).item);
  t.is(ghost.metadata.annotations!['driftdetector.dev/status'], 'ManualRemediationRequired');
  t.is(ghost.metadata.annotations!['driftdetector.dev/verdict'], 'BLOCK');
  t.is(ghost.metadata.annotations!['driftdetector.dev/ghost-machines'], 'wc-ghost-md-0-x');
  t.is(ghost.spec['paused'], undefined);
  const stale = parseItem((await execute(service, 'v1', 'tkg', 'wc-stale')).item);
  t.is(stale.metadata.annotations!['driftdetector.dev/stale-machines'], 'wc-stale-md-0-a');
});

test('Execute, mode annotate with pauseOnDrift: BLOCK-worthy Clusters are restored paused', async (t) => {
  const { service } = await withService(t, undefined, { gate: { mode: 'annotate', failurePolicy: 'Fail', pauseOnDrift: true } });
  t.is(parseItem((await execute(service, 'v2', 'default', 'wc-ghost')).item).spec['paused'], true);
  t.is(parseItem((await execute(service, 'v2', 'default', 'wc-unknown')).item).spec['paused'], true);
  t.is(parseItem((await execute(service, 'v2', 'default', 'wc-ok')).item).spec['paused'], undefined);
  t.is(parseItem((await execute(service, 'v2', 'default', 'wc-ghost', { [OVERRIDE]: 'r' })).item).spec['paused'], undefined);
});

test("Execute: failurePolicy Fail fails the item when the analysis fails, with the cause's code; a backup its bucket does not hold is restored unchecked", async (t) => {
  const denied = new BackupSourceError('access-denied', 'velero', 'backups/b1/b1.tar.gz', 'access denied to s3://velero/backups/b1/b1.tar.gz');
  const { service } = await withService(t, (f) => (f.failWith = denied));
  const err = await t.throwsAsync<ServiceError>(execute(service, 'v2', 'default', 'wc-ok'));
  t.is(err.code, status.PERMISSION_DENIED);
  t.regex(err.details, /drift check failed \(failurePolicy Fail\): backup b1: storage location default: access denied/);
  t.regex(err.details, /Cluster default\/wc-ok/);

  const { service: other } = await withService(t);
  const item = parseItem((await execute(other, 'v2', 'default', 'wc-ok', {}, 'missing-backup')).item);
  t.is(item.metadata.annotations!['driftdetector.dev/status'], 'CheckFailed');
  t.is(item.metadata.annotations!['driftdetector.dev/verdict'], 'ALLOW');
  t.regex(item.metadata.annotations!['driftdetector.dev/check-error']!, /backup missing-backup is not in storage location default/);
});

test('Execute: failurePolicy Ignore restores the Cluster with the check failure annotated', async (t) => {
  const { service } = await withService(t, (f) => (f.failWith = new Error('vCenter listing exploded')), {
    gate: { mode: 'block', failurePolicy: 'Ignore', pauseOnDrift: false },
  });
  const item = parseItem((await execute(service, 'v1', 'default', 'wc-ok')).item);
  t.is(item.metadata.annotations!['driftdetector.dev/status'], 'CheckFailed');
  t.regex(item.metadata.annotations!['driftdetector.dev/check-error']!, /vCenter listing exploded/);
});

test('Execute: a failed analysis is not cached for long', async (t) => {
  // The cache's clock is the test's: the burst comes within the failure TTL (1 s) and the retry
  // after it, however long the calls take.
  let clock = Date.now();
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  fake.failWith = new Error('transient');
  const service = await startTestService({ deps: { ...fake.deps(), now: () => clock } });
  t.teardown(() => service.stop());
  await t.throwsAsync(execute(service, 'v2', 'default', 'wc-ok'));
  clock += 999;
  await t.throwsAsync(execute(service, 'v2', 'default', 'wc-ok'));
  t.is(fake.calls.length, 1, 'a burst shares the failure');
  delete fake.failWith;
  clock += 2;
  await execute(service, 'v2', 'default', 'wc-ok');
  t.is(fake.calls.length, 2);
});

test('concurrent Executes for one backup share one analysis', async (t) => {
  // The analysis waits until every call has joined it (the metric counts them), however slowly they arrive.
  const hold = new Hold();
  const { service, fake } = await withService(t, (f) => (f.hold = hold));
  const names = ['wc-ok', 'wc-ok', 'wc-ghost', 'wc-unknown', 'wc-ok', 'wc-ok', 'wc-ok', 'wc-ok'];
  const settled = Promise.allSettled(names.map((n, i) => execute(service, i % 2 ? 'v1' : 'v2', 'default', n)));
  const registry = service.running.metrics.registry;
  await until(async () => /drift_detector_analysis_cache_hits_total\{kind="shared"\} 7/.test(await registry.metrics()), 'seven calls joining');
  hold.release();
  const results = await settled;
  t.is(fake.calls.length, 1);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 6);
  const metrics = await registry.metrics();
  t.regex(metrics, /drift_detector_analysis_cache_hits_total\{kind="shared"\} 7/);
  t.regex(metrics, /drift_detector_gate_verdicts_total\{verdict="BLOCK",action="fail",source="execute"\} 2/);
});

test('Execute: a Cluster not in the report follows failurePolicy', async (t) => {
  const { service } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(execute(service, 'v2', 'default', 'not-backed-up'));
  t.is(err.code, status.FAILED_PRECONDITION);
  t.regex(err.details, /not in the drift report/);
});

test('Execute, failurePolicy Fail: the old management cluster, left out of the analysis with a warning, is restored as the webhook allows it', async (t) => {
  const { service } = await withService(t, (fake) => {
    const mgmt = report('mgmt', cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')]));
    mgmt.errors.push({
      scope: 'cluster:tkg-system/tkg-mgmt',
      message: 'tkg-system/tkg-mgmt is the old management cluster',
      severity: 'warning',
    });
    mgmt.errors.push({ scope: 'cluster:default/wc-bad', message: 'unusable objects', severity: 'error' });
    fake.reports.set('mgmt', mgmt);
  });
  for (const version of ['v1', 'v2'] as const) {
    const res = await execute(service, version, 'tkg-system', 'tkg-mgmt', {}, 'mgmt');
    t.false(res.skipRestore);
    const annotations = parseItem(res.item).metadata.annotations!;
    t.is(annotations['driftdetector.dev/verdict'], 'ALLOW');
    t.is(annotations['driftdetector.dev/status'], 'NotAnalyzed');
    // A cluster the analysis could not judge is still blocked.
    const err = await t.throwsAsync<ServiceError>(execute(service, version, 'default', 'wc-bad', {}, 'mgmt'));
    t.is(err.code, status.FAILED_PRECONDITION);
  }
});

test('Execute: objects of no cluster pass untouched; bad input is INVALID_ARGUMENT', async (t) => {
  const { service, fake } = await withService(t);
  const configMap = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }));
  const res = await call<any>(service.clients.riaV2, 'Execute', executeRequest(configMap, veleroRestore('b1')));
  t.deepEqual(Buffer.from(res.item), configMap);
  t.false(res.skipRestore);
  t.is(fake.calls.length, 1, "the backup's analysis tells which objects belong to a cluster");

  const bad: Array<[object, RegExp]> = [
    [executeRequest(Buffer.from('{not json'), veleroRestore('b1')), /item: not valid JSON/],
    [executeRequest(Buffer.alloc(0), veleroRestore('b1')), /item: empty/],
    [executeRequest(clusterItem('default', 'wc-ok'), Buffer.from('[]')), /restore: not a JSON object/],
    [
      executeRequest(clusterItem('default', 'wc-ok'), Buffer.from(JSON.stringify({ spec: { scheduleName: 's' } }))),
      /spec.backupName: required/,
    ],
  ];
  for (const [request, message] of bad) {
    const err = await t.throwsAsync<ServiceError>(call(service.clients.riaV1, 'Execute', request));
    t.is(err.code, status.INVALID_ARGUMENT);
    t.regex(err.details, message);
  }
});

test("Execute takes items larger than grpc-js's 4 MiB default", async (t) => {
  const { service } = await withService(t);
  const big = clusterItem('default', 'wc-ok', { padding: 6 * 1024 * 1024 });
  const res = await call<any>(service.clients.riaV2, 'Execute', executeRequest(big, veleroRestore('b1')), {});
  t.true(res.item.length > 6 * 1024 * 1024);
  t.is(parseItem(res.item).metadata.annotations!['driftdetector.dev/status'], 'Healthy');
});

test('v2 Progress, Cancel and AreAdditionalItemsReady answer as for an action without operations', async (t) => {
  const { service } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(
    call(service.clients.riaV2, 'Progress', { plugin: 'p', operationID: 'x', restore: veleroRestore('b1') }),
  );
  t.is(err.code, status.UNIMPLEMENTED);
  t.deepEqual(await call(service.clients.riaV2, 'Cancel', { plugin: 'p', operationID: 'x', restore: veleroRestore('b1') }), {});
  t.deepEqual(
    await call(service.clients.riaV2, 'AreAdditionalItemsReady', { plugin: 'p', restore: veleroRestore('b1'), additionalItems: [] }),
    { ready: true },
  );
});

test('the logs are JSON lines naming backup and cluster', async (t) => {
  const { service } = await withService(t);
  await t.throwsAsync(execute(service, 'v2', 'default', 'wc-ghost'));
  const lines = service.logs.map((l) => JSON.parse(l));
  const blocked = lines.find((l) => l['@message'] === 'restore of the Cluster blocked');
  t.truthy(blocked);
  t.is(blocked.backup, 'b1');
  t.is(blocked.cluster, 'default/wc-ghost');
  t.regex(blocked['@timestamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const done = lines.find((l) => l['@message'] === 'call failed' && l.method === 'v2.RestoreItemAction/Execute');
  t.is(done.code, 'FAILED_PRECONDITION');
  t.is(done.cluster, 'default/wc-ghost');
});
