/**
 * The tripwire of `unpause --apply --watch` end to end: after the unpause, the stand-ins change
 * what the forecast did not list (a Machine deleted, an etcd member gone) and the cluster must be
 * paused again; a quiet watch ends with exit 0.
 */
import test from 'ava';
import { pollUntil } from '../grpc/helpers.js';
import { healthyCluster } from '../forecast/scenario.js';
import type { CliResult } from '../helpers/scenario.js';
import { pausedIn, startWorld, type World } from './unpause-world.js';

/** Waits until the Cluster is unpaused by the running command; fails with its output if it ends first. */
async function unpaused(world: World, name: string, running: Promise<CliResult>): Promise<void> {
  const ended = running.then((r) => {
    throw new Error(`unpause ended before the Cluster was unpaused: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  });
  ended.catch(() => {});
  await Promise.race([
    ended,
    pollUntil(
      async () => pausedIn(world.api, 'default', name),
      (paused) => !paused,
      120_000,
      `Cluster default/${name} unpaused`,
    ),
  ]);
}

test('a Machine deleted after the unpause that the forecast did not list pauses the cluster again, exit 1', async (t) => {
  const world = await startWorld(t, healthyCluster('wc1'));
  const running = world.unpause('--apply', '--yes', '--watch', '10m');
  await unpaused(world, 'wc1', running);
  world.api.remove('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-b');
  const result = await running;
  t.is(result.code, 1, result.stderr);
  t.true(pausedIn(world.api, 'default', 'wc1'));
  t.regex(result.stdout, /^paused-again\tdefault\/wc1\tMachine wc1-md-0-b was deleted, which the forecast did not list$/m);
});

test('an etcd member removed after the unpause that the forecast did not list pauses the cluster again, exit 1', async (t) => {
  const world = await startWorld(t, healthyCluster('wc1'));
  const running = world.unpause('--apply', '--yes', '--watch', '10m');
  await unpaused(world, 'wc1', running);
  const { pods } = world.workloads.get('default/wc1')!;
  pods.splice(0, pods.length);
  const result = await running;
  t.is(result.code, 1, result.stderr);
  t.true(pausedIn(world.api, 'default', 'wc1'));
  t.regex(result.stdout, /^paused-again\tdefault\/wc1\tetcd member wc1-cp-a was removed, which the forecast did not list$/m);
});

test('a quiet watch: the cluster stays unpaused, exit 0', async (t) => {
  const world = await startWorld(t, healthyCluster('wc1'));
  const result = await world.unpause('--apply', '--yes', '--watch', '3s');
  t.is(result.code, 0, result.stderr);
  t.falsy(pausedIn(world.api, 'default', 'wc1'));
  t.regex(result.stdout, /^unpaused\tdefault\/wc1\tSafeToUnpause/m);
  t.notRegex(result.stdout, /paused-again/);
  t.true(world.api.requests.some((r) => r.path.endsWith('/machines') && r.query.get('watch') === 'true'));
});

test('a Machine the forecast listed as cloned does not trip it; one more does', async (t) => {
  // wc1's MachineDeployment wants 3 workers and has 2: one clone is forecast (ReviewBeforeUnpause).
  const world = await startWorld(t, healthyCluster('wc1').set('MachineDeployment', 'wc1-md-0', ['replicas'], 3));
  const read = JSON.parse((await world.unpause('--format', 'json')).stdout) as { digest: string };
  const running = world.unpause('--apply', '--yes', '--accept', read.digest, '--watch', '10m');
  await unpaused(world, 'wc1', running);
  const worker = world.api.get('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-a')!;
  const created = (name: string) => ({ ...worker, metadata: { name, namespace: 'default', labels: { ...worker.metadata.labels } } });
  world.api.put(created('wc1-md-0-c'));
  world.api.put(created('wc1-md-0-d'));
  const result = await running;
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /Machine wc1-md-0-c created, as forecast/);
  t.regex(result.stdout, /^paused-again\tdefault\/wc1\tMachine wc1-md-0-d was created beyond the clones the forecast listed$/m);
  t.true(pausedIn(world.api, 'default', 'wc1'));
});
