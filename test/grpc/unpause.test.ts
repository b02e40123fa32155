/**
 * ForecastUnpause of `serve` and `check --unpause`, against the unpause world (the loopback
 * Kubernetes API holding a restored management cluster, vcsim, workload stand-ins).
 */
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { Forecast } from '../../src/forecast/model.js';
import { healthyCluster } from '../forecast/scenario.js';
import { runCli } from '../helpers/scenario.js';
import { startWorld } from '../cli/unpause-world.js';
import { call, startTestService, testConfig } from './helpers.js';

/** serve with the world's kubeconfig, reading the workload clusters. */
const withCluster = (kubeconfig: string) => ({
  env: { KUBECONFIG: kubeconfig },
  config: { analysis: { ...testConfig().analysis, skipAccessApiServer: false, timeoutMs: 120_000 } },
});

interface ForecastUnpauseResponse {
  verdict: string;
  digest: string;
  source: string;
  clusters: Array<{
    namespace: string;
    name: string;
    verdict: string;
    summary: string;
    reasons: string[];
    actions: Array<{ kind: string; object_name: string; when: string; rule: string }>;
  }>;
  errors: Array<{ scope: string; message: string }>;
  forecast_json: string;
}

/** wc1 healthy, wc2 without its CA Secret. */
function twoClusters() {
  return healthyCluster('wc1')
    .cluster('wc2')
    .deployment('wc2', 'md-0', 1)
    .machine('wc2', 'wc2-cp-a', { controlPlane: true })
    .machine('wc2', 'wc2-md-0-a')
    .withoutSecret('wc2', 'wc2-ca');
}

test('ForecastUnpause: the forecast of the management cluster serve runs against, the digest the CLI shows', async (t) => {
  const world = await startWorld(t, twoClusters());
  const service = await startTestService(withCluster(world.kubeconfig));
  t.teardown(() => service.stop());
  const response = await call<ForecastUnpauseResponse>(service.clients.detector, 'ForecastUnpause', { clusters: [] }, { deadlineMs: 120_000 });
  t.is(response.verdict, 'UnsafeToUnpause');
  t.deepEqual(
    response.clusters.map((c) => [c.name, c.verdict]),
    [
      ['wc1', 'SafeToUnpause'],
      ['wc2', 'UnsafeToUnpause'],
    ],
  );
  t.true(response.clusters[1]!.actions.some((a) => a.kind === 'new-certificates' && a.object_name === 'wc2-ca' && a.when === 'at unpause'));
  t.deepEqual(response.errors, []);
  const forecast = JSON.parse(response.forecast_json) as Forecast;
  t.is(forecast.digest, response.digest);
  const cli = await world.unpause('--format', 'json');
  t.is((JSON.parse(cli.stdout) as Forecast).digest, response.digest, 'the same forecast through both doors');
  t.true(
    world.api.requests.every((r) => r.method === 'GET'),
    'the service only reads',
  );

  const one = await call<ForecastUnpauseResponse>(
    service.clients.detector,
    'ForecastUnpause',
    { clusters: ['default/wc1'] },
    { deadlineMs: 120_000 },
  );
  t.is(one.verdict, 'SafeToUnpause');
  const bad = await t.throwsAsync(call(service.clients.detector, 'ForecastUnpause', { clusters: ['wc1'] }));
  t.is((bad as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
});

test('ForecastUnpause is found through reflection; without a cluster it is FAILED_PRECONDITION', async (t) => {
  const service = await startTestService({});
  t.teardown(() => service.stop());
  const err = await t.throwsAsync(call(service.clients.detector, 'ForecastUnpause', { clusters: [] }));
  t.is((err as grpc.ServiceError).code, grpc.status.FAILED_PRECONDITION);
  t.regex((err as grpc.ServiceError).details, /no management cluster/);
  const files = await symbolFiles(service.clients.reflection, 'driftdetector.v1.DriftDetector.ForecastUnpause');
  t.true(files.length > 0);
  t.true(files.some((f) => f.includes('ForecastUnpauseRequest')));
});

test('check --unpause prints the service forecast and exits 1 on unsafe, 0 when every cluster asked for is safe', async (t) => {
  const world = await startWorld(t, twoClusters());
  const service = await startTestService(withCluster(world.kubeconfig));
  t.teardown(() => service.stop());
  const all = await runCli(['check', '--server', service.running.address, '--unpause']);
  t.is(all.code, 1, all.stderr);
  t.regex(all.stdout, /Cluster default\/wc2/);
  t.regex(all.stdout, /UnsafeToUnpause/);
  t.regex(all.stdout, /Forecast digest: [0-9a-f]{64}/);
  const safe = await runCli(['check', '--server', service.running.address, '--unpause', '--cluster', 'default/wc1']);
  t.is(safe.code, 0, safe.stderr);
  t.notRegex(safe.stdout, /wc2/);
  const mixed = await runCli(['check', '--server', service.running.address, '--unpause', '--backup-name', 'b1']);
  t.is(mixed.code, 2);
  t.regex(mixed.stderr, /--backup-name: not with --unpause/);
});

/** The file descriptors reflection returns for a symbol, as text (names inside are readable). */
function symbolFiles(client: grpc.Client, symbol: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const stream = (
      client as unknown as { ServerReflectionInfo: (...args: unknown[]) => grpc.ClientDuplexStream<object, Record<string, unknown>> }
    ).ServerReflectionInfo(new grpc.Metadata());
    stream.on('data', (res: { file_descriptor_response?: { file_descriptor_proto: Buffer[] }; error_response?: { error_message: string } }) => {
      if (res.error_response) reject(new Error(res.error_response.error_message));
      else resolve((res.file_descriptor_response?.file_descriptor_proto ?? []).map((b) => Buffer.from(b).toString('latin1')));
      stream.end();
    });
    stream.on('error', reject);
    stream.write({ file_containing_symbol: symbol });
  });
}
