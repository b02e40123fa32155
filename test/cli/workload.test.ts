/** `detect` with workload API-server access: Nodes read through the kubeconfigs in the backup. */
import test, { type ExecutionContext } from 'ava';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import type { FixtureBackup } from '../fixtures/builder.js';
import { startApiServer, type ApiServer, type ApiServerMode, type KubeconfigOptions, type NodeSpec } from '../helpers/apiserver.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster, type CliResult } from '../helpers/scenario.js';
import type { SeedVM } from '../helpers/seed.js';

/** The Nodes of the backed-up machines of a cluster, as the workload cluster lists them. */
function nodesOf(backup: FixtureBackup, cluster: string): NodeSpec[] {
  return backup.clusters
    .find((c) => c.name === cluster)!
    .machines.map((m) => ({ name: m.name, providerID: `vsphere://${m.biosUuid}`, controlPlane: m.controlPlane }));
}

interface WorkloadScenario {
  report: DriftReport;
  result: CliResult;
  api: ApiServer;
}

/**
 * A cluster wc1 whose kubeconfig points at a test API server. The API server's Nodes are the
 * backed-up machines plus `extraNodes`; vSphere holds the backed-up VMs plus `extraVMs`.
 */
async function run(
  t: ExecutionContext,
  options: {
    extraVMs?: SeedVM[];
    extraNodes?: (backup: FixtureBackup) => NodeSpec[];
    mode?: ApiServerMode;
    kubeconfig?: KubeconfigOptions;
    flags?: string[];
  },
): Promise<WorkloadScenario> {
  // The Node list depends on the backup's machines, so the API server starts empty and is
  // given its Nodes once the backup is built.
  const nodes: NodeSpec[] = [];
  const api = await startApiServer({ nodes, ...(options.mode ? { mode: options.mode } : {}), pageLimitMax: 2 });
  t.teardown(() => api.stop());
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { kubeconfig: api.kubeconfig({ clusterName: 'wc1', ...options.kubeconfig }) })] },
    {
      mutate: (dcs) => dcs[0]!.vms.push(...(options.extraVMs ?? [])),
    },
  );
  nodes.push(...nodesOf(backup, 'wc1'), ...(options.extraNodes?.(backup) ?? []));
  const output = join(await tempDir(), 'report.json');
  const result = await runCli(['detect', '--backup', backup.path, '-o', output, '--apiserver-timeout', '2s', ...(options.flags ?? [])]);
  t.is(result.code, 0, result.stderr);
  const report = JSON.parse(await readFile(output, 'utf8')) as DriftReport;
  return { report, result, api };
}

test('a ghost worker confirmed by its Node alone (its VM name lacks the cluster prefix)', async (t) => {
  const uuid = randomUUID();
  const { report } = await run(t, {
    extraVMs: [capvVM('recovered-vm-17', { uuid })],
    extraNodes: () => [{ name: 'wc1-md-0-extra-node', providerID: `vsphere://${uuid.toUpperCase()}` }],
  });
  const cluster = report.clusters[0]!;
  t.true(cluster.apiServer.reached);
  const ghost = cluster.workers.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'recovered-vm-17');
  t.is(ghost.nodeName, 'wc1-md-0-extra-node');
  t.regex(ghost.reason, /Node wc1-md-0-extra-node has its providerID/);
  t.is(report.summary.infraMachinesNeedFurtherConfirmation, 0);
  t.true(
    cluster.workers.machines.filter((m) => m.status === 'Healthy').every((m) => m.nodeName === m.name),
    'machines show their Node',
  );
});

test('a ghost control plane recognised by the Node role label', async (t) => {
  const uuid = randomUUID();
  const { report } = await run(t, {
    extraVMs: [capvVM('cp-rebuilt', { uuid })],
    extraNodes: () => [{ name: 'cp-rebuilt', providerID: `vsphere://${uuid}`, controlPlane: true }],
  });
  const cp = report.clusters[0]!.controlPlane;
  t.is(cp.status, 'ManualRemediationRequired');
  const ghost = cp.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'cp-rebuilt');
  t.regex(ghost.reason, /etcd member cp-rebuilt/);
});

test('a Node whose VM is in no listed vCenter is a Ghost of its cluster', async (t) => {
  const { report } = await run(t, { extraNodes: () => [{ name: 'wc1-md-0-elsewhere', providerID: `vsphere://${randomUUID()}` }] });
  const ghost = report.clusters[0]!.workers.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'wc1-md-0-elsewhere');
  t.is(ghost.source, 'node');
  t.is(report.clusters[0]!.status, 'ManualRemediationRequired');
});

test('an unreachable API server is a warning scoped to the cluster; name evidence still finds ghosts', async (t) => {
  const { report } = await run(t, {
    mode: 'refuse',
    extraVMs: [capvVM('wc1-md-0-abcde-zzzzz')],
  });
  const cluster = report.clusters[0]!;
  t.false(cluster.apiServer.reached);
  t.is(cluster.status, 'ManualRemediationRequired', 'the ghost is found by its name');
  const warning = report.errors.find((e) => e.scope === 'cluster:default/wc1')!;
  t.is(warning.severity, 'warning');
  t.regex(warning.message, /unreachable|refused/i);
  t.false(report.summary.hasErrors);
});

test('an API server that hangs is cut off by --apiserver-timeout', async (t) => {
  const started = Date.now();
  const { report } = await run(t, { mode: 'hang' });
  t.true(Date.now() - started < 60_000);
  t.regex(report.errors.find((e) => e.scope === 'cluster:default/wc1')!.message, /timed out after 2 s/);
  t.is(report.clusters[0]!.status, 'Healthy');
});

test('an expired client certificate is said in plain words, and nothing is sent with it', async (t) => {
  const { report, api } = await run(t, { kubeconfig: { expiredClientCert: true } });
  const warning = report.errors.find((e) => e.scope === 'cluster:default/wc1')!;
  t.regex(warning.message, /expired on 2024-03-01/);
  t.is(api.connections, 0);
  t.is(report.clusters[0]!.apiServer.reached, false);
});

test('--skip-access-apiserver opens no connection', async (t) => {
  const { report, api, result } = await run(t, { flags: ['--skip-access-apiserver', '-D'] });
  t.is(api.connections, 0);
  t.is(api.requests, 0);
  t.deepEqual(report.clusters[0]!.apiServer, { reached: false, skipped: true });
  t.regex(result.stderr, /API servers not contacted/);
});

test('no kubeconfig material reaches the report, stdout or the debug log', async (t) => {
  const { report, result, api } = await run(t, { flags: ['-D'], kubeconfig: { expiredClientCert: true } });
  for (const pem of api.clientKeyPems) {
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'))[0]!;
    for (const text of [JSON.stringify(report), result.stdout, result.stderr]) t.false(text.includes(body.slice(0, 40)));
  }
  for (const text of [JSON.stringify(report), result.stdout, result.stderr]) t.false(/BEGIN [A-Z ]*PRIVATE KEY/.test(text));
});
