/**
 * The forecast's reads of a live management cluster, against the loopback Kubernetes API holding
 * a restored one: paged listings, Secrets kept as names, what the ClusterRole of deploy/service
 * grants, and failures named by object. vCenters and workload clusters are out of reach here (a
 * closed port, --skip-access-apiserver): test/cli/unpause.test.ts covers them.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { forecastUnpause, readLiveObjects } from '../../src/app/unpause-forecast.js';
import { kindOf } from '../../src/app/failures.js';
import { kubeClient, type KubeClient } from '../../src/kube/client.js';
import { followObjects } from '../../src/kube/watch.js';
import { CAPI_RESOURCES } from '../../src/kube/capi-resources.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { storeScenario } from '../cli/unpause-world.js';
import { healthyCluster } from '../forecast/scenario.js';
import { ROOT } from '../plugin/helpers.js';

/** A port nothing listens on: the vCenter is unreachable at once. */
const NO_VCENTER = '127.0.0.1:9';

async function restored(t: { teardown: (fn: () => Promise<void>) => void }, pageLimitMax = 2): Promise<{ api: KubeApi; client: KubeClient }> {
  const api = await startKubeApi({ pageLimitMax });
  t.teardown(() => api.stop());
  storeScenario(api, healthyCluster('wc1').cluster('wc2').machine('wc2', 'wc2-cp-a', { controlPlane: true }), {
    server: NO_VCENTER,
    kubeconfigOf: () => 'apiVersion: v1\nkind: Config\n',
  });
  return { api, client: await kubeClient(api.kubeConfig, { timeoutMs: 30_000 }) };
}

test('every kind listed in pages across namespaces; Secrets as names, values only where the forecast needs them', async (t) => {
  const { api, client } = await restored(t);
  const objects = await readLiveObjects(client);
  t.is(objects.clusters.length, 2);
  t.is(objects.machines.length, 4);
  t.is(objects.machineHealthChecks.length, 4);
  t.is(objects.vsphereMachineTemplates.length, 3);
  t.deepEqual(objects.vsphereClusterIdentities, [], 'a CAPV without identities serves no such resource');
  t.true(objects.machines.every((m) => m.kind === 'Machine'));
  const machineLists = api.requests.filter((r) => r.path === '/apis/cluster.x-k8s.io/v1beta1/machines');
  t.true(machineLists.length >= 2, 'more than one page');
  t.true(machineLists.slice(1).every((r) => r.query.has('continue')));
  const withData = objects.secrets.filter((s) => s.data !== undefined).map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
  t.deepEqual(withData.sort(), ['capv-system/capv-manager-bootstrap-credentials', 'default/wc1-kubeconfig', 'default/wc2-kubeconfig']);
  t.true(objects.secrets.some((s) => s.metadata.name === 'wc1-ca' && s.data === undefined));
});

test('the forecast keeps no Secret value, and reads only what the ClusterRole of deploy/service grants', async (t) => {
  const { api, client } = await restored(t);
  const run = await forecastUnpause(client, { skipAccessApiServer: true, vcenterTimeoutMs: 5_000 });
  t.true(run.objects.secrets.every((s) => s.data === undefined));
  t.deepEqual(
    run.forecast.clusters.map((c) => c.name),
    ['wc1', 'wc2'],
  );
  t.true(run.forecast.errors.some((e) => e.scope === `vcenter:${NO_VCENTER}`));
  const requested = [...new Set(api.requests.map(rbacName))].sort();
  t.deepEqual(requested, grants('ClusterRole', 'drift-detector-unpause-forecast'));
});

test('a listing the API refuses names the resource and the access hint, and is a permission problem', async (t) => {
  const { api } = await restored(t);
  api.fail('/apis/cluster.x-k8s.io/v1beta1/machinehealthchecks', 403);
  const client = await kubeClient(api.kubeConfig, { timeoutMs: 30_000, accessHint: 'check the RBAC' });
  const err = await t.throwsAsync(forecastUnpause(client, { skipAccessApiServer: true }));
  t.regex(err.message, /^machinehealthchecks in all namespaces: forbidden \(403\): check the RBAC$/);
  t.is(kindOf(err), 'permission-denied');
});

test('an object the controllers could not read either is refused naming it and its field', async (t) => {
  const { api, client } = await restored(t);
  const machine = api.get('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-a')!;
  api.put({ ...machine, spec: { ...(machine.spec as object), providerID: 42 } });
  const err = await t.throwsAsync(readLiveObjects(client));
  t.regex(err.message, /Machine default\/wc1-md-0-a: spec\.providerID is a number/);
});

test('following Machines: a listing, then the watch from its resourceVersion; appearances and disappearances by name', async (t) => {
  const { api, client } = await restored(t);
  const stop = new AbortController();
  const seen: string[] = [];
  const following = followObjects(
    client,
    CAPI_RESOURCES.machines,
    {
      namespace: 'default',
      labelSelector: 'cluster.x-k8s.io/cluster-name=wc1',
      known: ['wc1-cp-a', 'wc1-md-0-a', 'wc1-md-0-b', 'wc1-md-0-gone'],
      signal: stop.signal,
      relistMs: 50,
      connectTimeoutMs: 10_000,
      watchSeconds: 300,
    },
    (type, name) => {
      seen.push(`${type} ${name}`);
      if (type === 'DELETED' && name === 'wc1-md-0-a') stop.abort();
    },
  );
  // Known but not there: the first listing reports it gone.
  await until(() => seen.includes('DELETED wc1-md-0-gone'));
  await until(() => api.requests.some((r) => r.query.get('watch') === 'true' && r.query.has('resourceVersion')));
  const template = api.get('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-b')!;
  api.put({ ...template, metadata: { ...template.metadata, name: 'wc1-md-0-new', uid: undefined, resourceVersion: undefined } });
  api.put({
    ...template,
    metadata: {
      ...template.metadata,
      name: 'wc2-md-0-other',
      labels: { 'cluster.x-k8s.io/cluster-name': 'wc2' },
      uid: undefined,
      resourceVersion: undefined,
    },
  });
  await until(() => seen.includes('ADDED wc1-md-0-new'));
  api.remove('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-a');
  await following;
  t.deepEqual(seen, ['DELETED wc1-md-0-gone', 'ADDED wc1-md-0-new', 'DELETED wc1-md-0-a']);
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** `group/resource:verb` of a request, as RBAC names it. */
function rbacName(r: { method: string; path: string; query: URLSearchParams }): string {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([^/]+)(\/[^/]+)?$/.exec(r.path)!;
  const verb = r.method === 'GET' ? (r.query.get('watch') === 'true' ? 'watch' : m[3] ? 'get' : 'list') : r.method.toLowerCase();
  return `${m[1] ?? ''}/${m[2]}:${verb}`;
}

/** `group/resource:verb` of everything a role of deploy/service/rbac.yaml grants. */
function grants(kind: string, name: string): string[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'service', 'rbac.yaml'), 'utf8')).map((d) => d.toJSON());
  const role = docs.find((d) => d.kind === kind && d.metadata.name === name);
  const rules = role.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  return [
    ...new Set(
      rules.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}/${res}:${v}`)))),
    ),
  ].sort();
}

test('following Machines: when the watch ends and the listing fails, a later listing still sees what happened meanwhile', async (t) => {
  const { api, client } = await restored(t);
  const stop = new AbortController();
  const seen: string[] = [];
  const path = '/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machines';
  const following = followObjects(
    client,
    CAPI_RESOURCES.machines,
    {
      namespace: 'default',
      labelSelector: 'cluster.x-k8s.io/cluster-name=wc1',
      known: ['wc1-cp-a', 'wc1-md-0-a', 'wc1-md-0-b'],
      signal: stop.signal,
      relistMs: 50,
      connectTimeoutMs: 10_000,
      // The server ends every watch after a second: the follow lists again each time.
      watchSeconds: 1,
    },
    (type, name) => {
      seen.push(`${type} ${name}`);
      stop.abort();
    },
  );
  await until(() => api.requests.some((r) => r.path === path && r.query.get('watch') === 'true'));
  t.is(api.requests.find((r) => r.path === path && r.query.get('watch') === 'true')?.query.get('timeoutSeconds'), '1');
  api.fail(path, 500);
  const failedFrom = api.requests.length;
  // The watch open before ends within its second; the listing after it fails.
  await until(() => api.requests.slice(failedFrom).some((r) => r.path === path && r.query.get('watch') !== 'true'));
  // Neither a watch nor a listing can see this while the path fails.
  api.remove('cluster.x-k8s.io/v1beta1', 'Machine', 'default', 'wc1-md-0-b');
  const removedAt = api.requests.length;
  await until(() => api.requests.slice(removedAt).some((r) => r.path === path));
  t.deepEqual(seen, []);
  api.heal(path);
  await following;
  t.deepEqual(seen, ['DELETED wc1-md-0-b']);
});
