/**
 * `drift-detector unpause` end to end: a restored management cluster in the loopback Kubernetes
 * API, its VMs in vcsim, its workload clusters' Nodes and etcd Pods in API-server stand-ins.
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/scenario.js';
import type { Forecast } from '../../src/forecast/model.js';
import { healthyCluster } from '../forecast/scenario.js';
import type { KubeApi } from '../helpers/kube-api.js';
import { pausedIn, startWorld } from './unpause-world.js';

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

/** Three paused clusters: wc1 healthy, wc2 with a Stale worker (Review), wc3 without its CA Secret (Unsafe). */
function threeClusters() {
  return healthyCluster('wc1')
    .cluster('wc2')
    .deployment('wc2', 'md-0', 2)
    .machine('wc2', 'wc2-cp-a', { controlPlane: true })
    .machine('wc2', 'wc2-md-0-a')
    .machine('wc2', 'wc2-md-0-b', { vm: 'gone' })
    .cluster('wc3')
    .deployment('wc3', 'md-0', 1)
    .machine('wc3', 'wc3-cp-a', { controlPlane: true })
    .machine('wc3', 'wc3-md-0-a')
    .withoutSecret('wc3', 'wc3-ca');
}

test('dry run: the verdict of each cluster, exit 1 when one needs review or is unsafe', async (t) => {
  const world = await startWorld(t, threeClusters());
  const result = await world.unpause('--format', 'json');
  t.is(result.code, 1, result.stderr);
  const forecast = json(result.stdout);
  t.deepEqual(
    forecast.clusters.map((c) => [c.name, c.verdict]),
    [
      ['wc1', 'SafeToUnpause'],
      ['wc2', 'ReviewBeforeUnpause'],
      ['wc3', 'UnsafeToUnpause'],
    ],
  );
  const wc2 = forecast.clusters[1]!;
  t.true(wc2.actions.some((a) => a.kind === 'delete' && a.object.name === 'wc2-md-0-b' && a.when === 'after nodeStartupTimeout 20m'));
  t.true(forecast.clusters[2]!.actions.some((a) => a.kind === 'new-certificates' && a.object.name === 'wc3-ca'));
  const dir = await tempDir('unpause-html-');
  const html = await world.unpause('--format', 'html', '-o', join(dir, 'forecast.html'));
  t.is(html.code, 1, html.stderr);
  const page = await readFile(join(dir, 'forecast.html'), 'utf8');
  t.regex(page, /^<!DOCTYPE html>/i);
  t.regex(page, /UnsafeToUnpause/);
  t.is(html.stdout, '', 'with -o, nothing on stdout');
  const console = await world.unpause('--cluster', 'default/wc1');
  t.is(console.code, 0, console.stderr);
  t.regex(console.stdout, /Cluster default\/wc1/);
  t.notRegex(console.stdout, /wc2/);
  t.regex(console.stdout, /Forecast digest: [0-9a-f]{64}/);
});

test('--apply unpauses the safe cluster only; --accept with the digest read unpauses the one to review; never the unsafe one', async (t) => {
  const world = await startWorld(t, threeClusters());
  const first = await world.unpause('--apply', '--yes', '--format', 'json');
  t.is(first.code, 1, first.stderr);
  t.falsy(pausedIn(world.api, 'default', 'wc1'));
  t.true(pausedIn(world.api, 'default', 'wc2'));
  t.true(pausedIn(world.api, 'default', 'wc3'));
  t.regex(first.stdout, /^unpaused\tdefault\/wc1\tSafeToUnpause/m);
  t.regex(first.stdout, /^refused\tdefault\/wc2\tReviewBeforeUnpause\t.*--accept [0-9a-f]{64}/m);
  t.regex(first.stdout, /^refused\tdefault\/wc3\tUnsafeToUnpause\t.*never unpaused: fix first: .*wc3-ca/m);

  const read = json((await world.unpause('--format', 'json')).stdout);
  const second = await world.unpause('--apply', '--yes', '--accept', read.digest, '--format', 'json');
  t.is(second.code, 1, second.stderr);
  t.falsy(pausedIn(world.api, 'default', 'wc2'));
  t.true(pausedIn(world.api, 'default', 'wc3'));
  t.regex(second.stdout, /^already-running\tdefault\/wc1/m);
  t.regex(second.stdout, /^unpaused\tdefault\/wc2/m);
  const patched = world.api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path);
  t.false(patched.some((p) => p.includes('wc3')));
});

test('--accept refuses a forecast that changed since it was read', async (t) => {
  const world = await startWorld(t, threeClusters());
  const read = json((await world.unpause('--format', 'json', '--cluster', 'default/wc2')).stdout);
  t.is(read.clusters[0]!.verdict, 'ReviewBeforeUnpause');
  // Another worker's VM disappears after the operator read the forecast.
  await world.vcsim.removeVM('wc2-md-0-a');
  const result = await world.unpause('--apply', '--yes', '--cluster', 'default/wc2', '--accept', read.digest, '--format', 'json');
  t.is(result.code, 1, result.stderr);
  t.regex(result.stdout, /^refused\tdefault\/wc2\tReviewBeforeUnpause\t.*changed since the one accepted/m);
  t.true(pausedIn(world.api, 'default', 'wc2'));
});

test('--skip-remediation annotates the Machines a health check would delete, before the unpause; the paused annotations go', async (t) => {
  const world = await startWorld(t, threeClusters());
  annotatePaused(world.api);
  const read = json((await world.unpause('--format', 'json', '--cluster', 'default/wc2')).stdout);
  const result = await world.unpause('--apply', '--yes', '--cluster', 'default/wc2', '--accept', read.digest, '--skip-remediation');
  t.is(result.code, 0, result.stderr);
  const machine = (name: string) => world.api.get('cluster.x-k8s.io/v1beta1', 'Machine', 'default', name)!;
  t.true(Object.hasOwn(machine('wc2-md-0-b').metadata.annotations ?? {}, 'cluster.x-k8s.io/skip-remediation'));
  t.false(Object.hasOwn(machine('wc2-md-0-a').metadata.annotations ?? {}, 'cluster.x-k8s.io/skip-remediation'));
  for (const list of ['Machine', 'MachineSet', 'MachineDeployment', 'KubeadmControlPlane'] as const) {
    const group = list === 'KubeadmControlPlane' ? 'controlplane.cluster.x-k8s.io/v1beta1' : 'cluster.x-k8s.io/v1beta1';
    for (const o of world.api.list(group, list, 'default').filter((o) => o.metadata.labels?.['cluster.x-k8s.io/cluster-name'] === 'wc2')) {
      t.false(Object.hasOwn(o.metadata.annotations ?? {}, 'cluster.x-k8s.io/paused'), `${list} ${o.metadata.name}`);
    }
  }
  t.true(
    Object.hasOwn(
      world.api.get('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-a')!.metadata.annotations ?? {},
      'cluster.x-k8s.io/paused',
    ),
  );
  const patches = world.api.requests.filter((r) => r.method === 'PATCH').map((r) => r.path);
  // The skip-remediation annotation lands before the Cluster is unpaused.
  t.true(patches.findIndex((p) => p.endsWith('/machines/wc2-md-0-b')) < patches.findIndex((p) => p.endsWith('/clusters/wc2')));
});

test('options that only mean something with --apply are refused without it; --apply needs --yes off a terminal; an unknown --cluster is an error', async (t) => {
  const world = await startWorld(t, healthyCluster('wc1'));
  const refused = await world.unpause('--accept', 'abc', '--watch', '1m');
  t.is(refused.code, 2);
  t.regex(refused.stderr, /--accept, --watch only with --apply/);
  const unknown = await world.unpause('--cluster', 'default/wc9');
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /no Cluster default\/wc9 in the management cluster https:\/\/127\.0\.0\.1:\d+/);
  const noYes = await world.unpause('--apply');
  t.is(noYes.code, 2);
  t.regex(noYes.stderr, /give --yes when stdin is not a terminal/);
  t.true(pausedIn(world.api, 'default', 'wc1'));
});

/** The paused annotation on the clusters' objects, as a pause by hand leaves it. */
function annotatePaused(api: KubeApi): void {
  for (const [apiVersion, kind] of [
    ['cluster.x-k8s.io/v1beta1', 'Machine'],
    ['cluster.x-k8s.io/v1beta1', 'MachineSet'],
    ['cluster.x-k8s.io/v1beta1', 'MachineDeployment'],
    ['controlplane.cluster.x-k8s.io/v1beta1', 'KubeadmControlPlane'],
  ] as const) {
    for (const o of api.list(apiVersion, kind)) {
      o.metadata.annotations = { ...(o.metadata.annotations ?? {}), 'cluster.x-k8s.io/paused': '' };
      api.put(o);
    }
  }
}
