/**
 * The loopback Kubernetes API answers as the API server does, to the client library the product
 * uses: paged lists with selectors, create and update conflicts, patches, watch, delete, and both
 * kinds of authentication.
 */
import { readFile } from 'node:fs/promises';
import test from 'ava';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';

let api: KubeApi;
test.before(async () => {
  api = await startKubeApi({ pageLimitMax: 2 });
});
test.after.always(() => api?.stop());

const backup = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'velero.io/v1',
  kind: 'Backup',
  metadata: { name, namespace: 'velero', labels },
  spec: { storageLocation: 'default' },
});

test('lists are paged and filtered by label selectors as the API server does', async (t) => {
  for (let i = 0; i < 5; i++) api.put(backup(`b${i}`, { 'velero.io/schedule-name': i % 2 ? 'daily' : 'weekly', tier: `t${i}` }));
  const custom = api.kubeConfig.makeApiClient(CustomObjectsApi);
  const names: string[] = [];
  let token: string | undefined;
  do {
    const page = (await custom.listNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'backups',
      labelSelector: 'velero.io/schedule-name=daily,tier notin (t9)',
      limit: 10,
      ...(token ? { _continue: token } : {}),
    })) as { items: { metadata: { name: string } }[]; metadata: { continue?: string } };
    names.push(...page.items.map((i) => i.metadata.name));
    token = page.metadata.continue;
  } while (token);
  t.deepEqual(names, ['b1', 'b3']);
  const all = api.requests.filter((r) => r.path === '/apis/velero.io/v1/namespaces/velero/backups');
  t.true(all.length >= 1);
  await t.throwsAsync(
    custom.listNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', labelSelector: '(((' }),
  );
});

test('create answers 409 AlreadyExists; update with a stale resourceVersion answers 409 Conflict', async (t) => {
  const leases = api.kubeConfig.makeApiClient(CoordinationV1Api);
  const body = { metadata: { name: 'leader', namespace: 'velero' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } };
  const created = await leases.createNamespacedLease({ namespace: 'velero', body });
  const again = await t.throwsAsync(leases.createNamespacedLease({ namespace: 'velero', body }));
  t.is((again as { code?: number }).code, 409);
  t.regex(String((again as { body?: string }).body), /AlreadyExists/);

  const updated = await leases.replaceNamespacedLease({
    name: 'leader',
    namespace: 'velero',
    body: { ...created, spec: { ...created.spec, holderIdentity: 'b' } },
  });
  t.is(updated.spec?.holderIdentity, 'b');
  t.not(updated.metadata?.resourceVersion, created.metadata?.resourceVersion);
  const stale = await t.throwsAsync(
    leases.replaceNamespacedLease({
      name: 'leader',
      namespace: 'velero',
      body: { ...created, spec: { ...created.spec, holderIdentity: 'c' } },
    }),
  );
  t.is((stale as { code?: number }).code, 409);
  t.regex(String((stale as { body?: string }).body), /Conflict/);
  t.is(api.get('coordination.k8s.io/v1', 'Lease', 'velero', 'leader')?.spec.holderIdentity, 'b');
});

test('merge patch, delete and 404 NotFound', async (t) => {
  api.put(backup('patched'));
  const custom = api.kubeConfig.makeApiClient(CustomObjectsApi);
  await custom.patchNamespacedCustomObject(
    {
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'backups',
      name: 'patched',
      body: { metadata: { labels: { 'driftdetector.dev/restore-verdict': 'Blocked' } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  t.is(api.get('velero.io/v1', 'Backup', 'velero', 'patched')?.metadata.labels?.['driftdetector.dev/restore-verdict'], 'Blocked');
  await custom.deleteNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', name: 'patched' });
  const gone = await t.throwsAsync(
    custom.getNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups', name: 'patched' }),
  );
  t.is((gone as { code?: number }).code, 404);
});

test('a watch streams the changes after its resourceVersion', async (t) => {
  const core = api.kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listNamespacedConfigMap({ namespace: 'watched' });
  const seen: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    void new Watch(api.kubeConfig)
      .watch(
        '/api/v1/namespaces/watched/configmaps',
        { resourceVersion: list.metadata?.resourceVersion },
        (type, object: { metadata: { name: string } }) => {
          seen.push(`${type} ${object.metadata.name}`);
          if (seen.length === 3) resolve();
        },
        (err) => (err ? reject(err as Error) : undefined),
      )
      .then((controller) => done.finally(() => controller.abort()));
  });
  await new Promise((r) => setTimeout(r, 100));
  await core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'one' }, data: { a: '1' } } });
  await core.patchNamespacedConfigMap(
    { namespace: 'watched', name: 'one', body: { data: { a: '2' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await core.deleteNamespacedConfigMap({ namespace: 'watched', name: 'one' });
  await done;
  t.deepEqual(seen, ['ADDED one', 'MODIFIED one', 'DELETED one']);
});

test('a client certificate of its CA is accepted; no credentials are 401', async (t) => {
  const [ca, cert, key] = await Promise.all([readFile(api.pki.caCert), readFile(api.pki.clientCert), readFile(api.pki.clientKey)]);
  const withCert = new KubeConfig();
  withCert.loadFromOptions({
    clusters: [{ name: 'c', server: api.server, caData: ca.toString('base64') }],
    users: [{ name: 'u', certData: cert.toString('base64'), keyData: key.toString('base64') }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  const nodes = await withCert.makeApiClient(CoreV1Api).listNode();
  t.deepEqual(nodes.items, []);
  const anonymous = new KubeConfig();
  anonymous.loadFromOptions({
    clusters: [{ name: 'c', server: api.server, caData: ca.toString('base64') }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  const refused = await t.throwsAsync(anonymous.makeApiClient(CoreV1Api).listNode());
  t.is((refused as { code?: number }).code, 401);
});
