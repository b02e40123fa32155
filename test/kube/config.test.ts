/**
 * The one kubeconfig loader: which source wins (an explicit file, KUBECONFIG, the in-cluster
 * service account, ~/.kube/config), how a KUBECONFIG list merges, and errors that name the source
 * without quoting it.
 */
import test from 'ava';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { apiServerOf, KubeConfigError, loadKubeConfig, ownNamespace } from '../../src/kube/config.js';
import { tempDir } from '../helpers/scenario.js';

/** A kubeconfig file for one cluster `name` at `server`, its context current unless `current` is false. */
async function kubeconfigFile(dir: string, name: string, server: string, current = true): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name, server, skipTLSVerify: false }],
    users: [{ name: `${name}-user`, token: `token-of-${name}` }],
    contexts: [{ name, cluster: name, user: `${name}-user` }],
    currentContext: current ? name : '',
  });
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, kc.exportConfig());
  return file;
}

test('an explicit file beats KUBECONFIG, which beats ~/.kube/config', async (t) => {
  const dir = await tempDir('drift-kube-');
  const explicit = await kubeconfigFile(dir, 'explicit', 'https://explicit.example:6443');
  const fromEnv = await kubeconfigFile(dir, 'env', 'https://env.example:6443');
  const home = join(dir, 'home');
  await mkdir(join(home, '.kube'), { recursive: true });
  await rename(await kubeconfigFile(join(home, '.kube'), 'home', 'https://home.example:6443'), join(home, '.kube', 'config'));

  const env = { KUBECONFIG: fromEnv, HOME: home };
  t.is(apiServerOf(await loadKubeConfig(env, { file: explicit })), 'https://explicit.example:6443');
  t.is(apiServerOf(await loadKubeConfig(env)), 'https://env.example:6443');
  t.is(apiServerOf(await loadKubeConfig({ HOME: home })), 'https://home.example:6443');
  t.is(apiServerOf(await loadKubeConfig({ KUBECONFIG: '', HOME: home })), 'https://home.example:6443', 'an empty KUBECONFIG is unset');
});

test('a KUBECONFIG list is merged; the first file that sets current-context wins, as with kubectl', async (t) => {
  const dir = await tempDir('drift-kube-');
  const none = await kubeconfigFile(dir, 'none', 'https://none.example:6443', false);
  const first = await kubeconfigFile(dir, 'first', 'https://first.example:6443');
  const second = await kubeconfigFile(dir, 'second', 'https://second.example:6443');
  const kc = await loadKubeConfig({ KUBECONFIG: [none, first, second].join(delimiter) });
  t.is(kc.getCurrentContext(), 'first');
  t.deepEqual(
    kc
      .getClusters()
      .map((c) => c.name)
      .sort(),
    ['first', 'none', 'second'],
  );
});

test('no source, or one that cannot be loaded: a KubeConfigError naming it, never its content', async (t) => {
  const dir = await tempDir('drift-kube-');
  const none = await t.throwsAsync(loadKubeConfig({ HOME: dir }), { instanceOf: KubeConfigError });
  t.is(none.message, 'not running in a pod (KUBERNETES_SERVICE_HOST unset or no service-account token), no ~/.kube/config and no KUBECONFIG');

  const broken = join(dir, 'broken.yaml');
  await writeFile(broken, 'clusters: [\n  token: hunter2-secret\n');
  const err = await t.throwsAsync(loadKubeConfig({ KUBECONFIG: broken }), { instanceOf: KubeConfigError });
  t.is(err.message, `cannot load KUBECONFIG=${broken}`);
  const explicit = await t.throwsAsync(loadKubeConfig({}, { file: join(dir, 'missing.yaml') }), { instanceOf: KubeConfigError });
  t.is(explicit.message, `cannot load ${join(dir, 'missing.yaml')}`);
  for (const e of [err, explicit]) t.false(e.message.includes('hunter2'));
});

test("the service's own namespace: POD_NAMESPACE, else none outside a pod (the configuration's default applies)", async (t) => {
  t.is(await ownNamespace({ POD_NAMESPACE: ' tanzu-tools ' }), 'tanzu-tools');
  t.is(await ownNamespace({ KUBECONFIG: '/x' }), undefined);
});
