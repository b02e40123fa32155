/**
 * `drift-detector unpause` end to end: a restored management cluster in the loopback Kubernetes
 * API, its VMs in vcsim, its workload clusters' Nodes and etcd Pods in API-server stand-ins.
 */
import test from 'ava';
import type { Forecast } from '../../src/forecast/model.js';
import { healthyCluster } from '../forecast/scenario.js';
import { startWorld } from './unpause-world.js';

const json = (stdout: string) => JSON.parse(stdout) as Forecast;

test('dry run of a healthy paused cluster: SafeToUnpause, exit 0, nothing patched', async (t) => {
  const world = await startWorld(t, healthyCluster('wc1'));
  const result = await world.unpause('--format', 'json');
  t.is(result.code, 0, result.stderr);
  const forecast = json(result.stdout);
  t.deepEqual(forecast.errors, []);
  t.deepEqual(
    forecast.clusters.map((c) => [c.name, c.verdict, c.summary]),
    [['wc1', 'SafeToUnpause', 'on unpause: nothing predicted']],
  );
  t.false(world.api.requests.some((r) => r.method === 'PATCH'));
});
