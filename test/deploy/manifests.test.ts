/**
 * deploy/ and the Dockerfile against the code: every manifest parses and is listed by its
 * kustomization; the plugin's ConfigMap carries the labels the plugin selects by and settings it
 * accepts; its Role allows exactly the requests the plugin makes (recorded against a loopback API
 * server), and so does the service's Role for what serve does in Velero's namespace; the service's
 * configuration loads, and its ports, labels, mounts and image agree with the Deployment, Service,
 * NetworkPolicy and Dockerfile.
 */
import test from 'ava';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULTS } from '../../src/config/defaults.js';
import { WEBHOOK_PATH } from '../../src/webhook/server.js';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { kubeVeleroCluster } from '../../src/plugin/cluster.js';
import { PLUGIN_EXECUTABLE_NAME, RESTORE_GATE_KIND, RESTORE_GATE_NAME } from '../../src/plugin/protocol.js';
import { REMOTE_SECRET_KEYS } from '../../src/plugin/remote.js';
import { PluginRestoreGate, vcenterCredentialsFromSecret } from '../../src/plugin/restore-gate-plugin.js';
import { PLUGIN_CONFIG_LABELS, parsePluginSettings } from '../../src/plugin/settings.js';
import { silentLogger } from '../../src/util/jsonlog.js';
import { DETECTOR_VERSION } from '../../src/version.js';
import { clusterScheduleBackups } from '../../src/kube/schedule-backups.js';
import { clusterBackupLocations } from '../../src/kube/backup-location.js';
import { OVERRIDE_ANNOTATION, restoreOverride } from '../../src/gate/override.js';
import { clusterItem, cluster, FakeDetection, machine, report, standardReport, startTestService } from '../grpc/helpers.js';
import { tempDir } from '../helpers/scenario.js';
import { startFakeKube } from '../plugin/fake-kube.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { selfSignedCertificate } from '../helpers/tls.js';
import { veleroRestore } from '../helpers/velero.js';
import { ROOT } from '../plugin/helpers.js';

type Doc = Record<string, any> & {
  kind: string;
  apiVersion: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
};

const DEPLOY = join(ROOT, 'deploy');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') ? [path] : [];
  });
}

function docsOf(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${relative(ROOT, path)}: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  });
}

const all = new Map(yamlFiles(DEPLOY).map((path) => [relative(DEPLOY, path), docsOf(path)]));
const find = (kind: string, name: string, namespace?: string): Doc => {
  for (const docs of all.values()) {
    const doc = docs.find(
      (d) => d.kind === kind && d.metadata?.name === name && (namespace === undefined || d.metadata?.namespace === namespace),
    );
    if (doc) return doc;
  }
  throw new Error(`no ${kind} ${namespace ?? '*'}/${name} in deploy/`);
};
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** `group/resource:verb` of each request a loopback API server recorded, as RBAC names them. */
function requestedOf(requests: Array<{ method: string; path: string }>): string[] {
  const names = requests.map((r) => {
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(\/[^/]+)?$/.exec(r.path)!;
    const verb =
      r.method === 'GET'
        ? m[3]
          ? 'get'
          : 'list'
        : (({ PATCH: 'patch', POST: 'create', PUT: 'update' } as Record<string, string>)[r.method] ?? r.method);
    return `${m[1] ?? ''}/${m[2]}:${verb}`;
  });
  return [...new Set(names)].sort();
}

/** `group/resource:verb` of everything a Role grants. */
function grantsOf(role: Doc): string[] {
  const rules = role['rules'] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
  return [
    ...new Set(rules.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((r) => rule.verbs.map((v) => `${g}/${r}:${v}`))))),
  ].sort();
}

test('every manifest parses, has a kind, and every file is listed by its kustomization (examples are not)', (t) => {
  const kinds = new Set<string>();
  for (const [file, docs] of all) {
    for (const doc of docs) {
      t.truthy(doc.apiVersion, `${file}: apiVersion`);
      t.truthy(doc.kind, `${file}: kind`);
      kinds.add(doc.kind);
      if (doc.kind !== 'Kustomization') t.truthy(doc.metadata?.name, `${file}: metadata.name`);
    }
  }
  t.deepEqual([...kinds].sort(), [
    'Certificate',
    'ClusterRole',
    'ClusterRoleBinding',
    'ConfigMap',
    'Deployment',
    'Issuer',
    'Kustomization',
    'Namespace',
    'NetworkPolicy',
    'PodDisruptionBudget',
    'PrometheusRule',
    'Role',
    'RoleBinding',
    'Secret',
    'Service',
    'ServiceAccount',
    'ValidatingWebhookConfiguration',
  ]);

  for (const [file, docs] of all) {
    const kustomization = docs.find((d) => d.kind === 'Kustomization');
    if (!kustomization) continue;
    const dir = join(DEPLOY, dirname(file));
    for (const resource of kustomization['resources'] as string[]) {
      const path = join(dir, resource);
      t.true(existsSync(path) && (statSync(path).isFile() || existsSync(join(path, 'kustomization.yaml'))), `${file}: ${resource} exists`);
      t.false(resource.includes('example'), `${file}: templates are not applied`);
    }
    const siblings = readdirSync(dir).filter((n) => n.endsWith('.yaml') && n !== 'kustomization.yaml' && !n.includes('.example.'));
    for (const sibling of siblings) t.true((kustomization['resources'] as string[]).includes(sibling), `${file} lists ${sibling}`);
    // Objects sit in the namespace the kustomization sets.
    if (kustomization['namespace']) {
      for (const sibling of siblings) {
        for (const doc of all.get(join(dirname(file), sibling))!) {
          if (doc.kind !== 'Namespace')
            t.is(doc.metadata?.namespace, kustomization['namespace'], `${sibling}: ${doc.kind} ${doc.metadata?.name}`);
        }
      }
    }
  }
});

test('plugin ConfigMap: the labels the plugin selects by, and settings it accepts (the commented ones too)', (t) => {
  const configMap = find('ConfigMap', 'drift-detector-plugin', 'velero');
  t.deepEqual(configMap.metadata!.labels, { ...PLUGIN_CONFIG_LABELS });
  t.is(configMap.metadata!.labels![RESTORE_GATE_NAME], RESTORE_GATE_KIND);
  t.notThrows(() => parsePluginSettings(configMap['data'], 'deploy/plugin/configmap.yaml'));

  // The examples left commented out are valid settings too, once uncommented.
  const text = readFileSync(join(DEPLOY, 'plugin', 'configmap.yaml'), 'utf8');
  const commented = Object.fromEntries([...text.matchAll(/^ {2}# ([a-zA-Z]+): (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  t.deepEqual(Object.keys(commented).sort(), ['remoteCredentialsSecret', 'remoteEndpoint', 'vsphereCredentialsSecret']);
  const settings = parsePluginSettings({ ...configMap['data'], ...commented }, 'deploy/plugin/configmap.yaml');

  // remoteEndpoint names the service's Service, at its gRPC port.
  const service = find('Service', 'drift-detector', 'drift-detector');
  const grpcPort = (service['spec'].ports as Array<{ name: string; port: number }>).find((p) => p.name === 'grpc')!.port;
  t.is(settings.remote!.endpoint, `${service.metadata!.name}.${service.metadata!.namespace}.svc:${grpcPort}`);
  // The Secrets they name have templates with keys the plugin reads.
  const client = find('Secret', settings.remote!.credentialsSecret!, 'velero');
  t.true(Object.keys(client['stringData']).every((k) => (Object.values(REMOTE_SECRET_KEYS) as string[]).includes(k)));
  const vcenter = find('Secret', settings.vsphereCredentialsSecret!, 'velero');
  t.notThrows(() => vcenterCredentialsFromSecret(vcenter['stringData'], 'template'));
});

test("plugin Role allows exactly the requests the plugin makes, for Velero's service account", async (t) => {
  // Record the plugin's requests for one restore, with every Secret reference in use.
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  const ns = 'velero';
  const configMap = find('ConfigMap', 'drift-detector-plugin', ns);
  kube.put(`/api/v1/namespaces/${ns}/configmaps/drift-detector-plugin`, {
    ...configMap,
    data: { ...configMap['data'], vsphereCredentialsSecret: 'vc' },
  } as any);
  kube.put(`/api/v1/namespaces/${ns}/secrets/vc`, { metadata: { name: 'vc' }, data: { username: 'dQ==', password: 'cA==' } });
  kube.put(`/apis/velero.io/v1/namespaces/${ns}/backups/b1`, { metadata: { name: 'b1' }, spec: { storageLocation: 'default' } });
  kube.put(`/apis/velero.io/v1/namespaces/${ns}/backupstoragelocations/default`, {
    apiVersion: 'velero.io/v1',
    kind: 'BackupStorageLocation',
    metadata: { name: 'default' },
    spec: {
      provider: 'aws',
      objectStorage: { bucket: 'b', caCertRef: { name: 'ca', key: 'ca.crt' } },
      credential: { name: 'cloud', key: 'cloud' },
      config: { region: 'r' },
    },
  });
  const { cert: caPem } = await selfSignedCertificate({ commonName: 'ca', ip: null });
  kube.put(`/api/v1/namespaces/${ns}/secrets/ca`, { metadata: { name: 'ca' }, data: { 'ca.crt': Buffer.from(caPem).toString('base64') } });
  kube.put(`/api/v1/namespaces/${ns}/secrets/cloud`, {
    metadata: { name: 'cloud' },
    data: { cloud: Buffer.from('[default]\naws_access_key_id=a\naws_secret_access_key=b\n').toString('base64') },
  });
  kube.put(`/apis/velero.io/v1/namespaces/${ns}/restores/r1`, { metadata: { name: 'r1', namespace: ns } });
  const gate = new PluginRestoreGate({
    env: { VELERO_NAMESPACE: ns },
    logger: silentLogger,
    cluster: () => kubeVeleroCluster(kube.kubeConfig, ns),
    detect: async () => report('b1', cluster('default', 'wc', [machine('wc-cp', 'Healthy')])),
  });
  const item = clusterItem('default', 'wc');
  await gate.execute(
    { plugin: RESTORE_GATE_NAME, item, restore: veleroRestore('b1', { name: 'r1' }), itemFromBackup: item },
    { signal: new AbortController().signal, fields: {} },
  );

  const role = find('Role', 'drift-detector-plugin', ns);
  t.deepEqual(requestedOf(kube.requests), grantsOf(role), 'the Role grants what is used, and nothing else');

  const binding = find('RoleBinding', 'drift-detector-plugin', ns);
  t.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name });
  t.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'velero', namespace: ns }]);
});

test('service: its configuration loads; ports, labels, mounts and image agree across Deployment, Service, NetworkPolicy and Dockerfile', async (t) => {
  const deployment = find('Deployment', 'drift-detector', 'drift-detector');
  const pod = deployment['spec'].template;
  const container = pod.spec.containers[0];
  const configMap = find('ConfigMap', 'drift-detector-config', 'drift-detector');

  // The configuration is one the service accepts.
  const dir = await tempDir('drift-deploy-');
  await writeFile(join(dir, 'config.yaml'), configMap['data']['config.yaml']);
  const config = await loadServiceConfig({ file: join(dir, 'config.yaml'), env: {} });

  // Ports: the configuration's, the container's, the Service's, the NetworkPolicy's, the image's.
  const containerPorts = Object.fromEntries(
    (container.ports as Array<{ name: string; containerPort: number }>).map((p) => [p.name, p.containerPort]),
  );
  t.deepEqual(containerPorts, { grpc: portOf(config.listen), metrics: portOf(config.metricsListen!) });
  t.is(containerPorts['grpc'], portOf(DEFAULTS.service.listen), 'the usual gRPC port');
  const service = find('Service', 'drift-detector', 'drift-detector');
  for (const port of service['spec'].ports as Array<{ name: string; port: number; targetPort: string }>) {
    t.is(port.targetPort, port.name);
    t.is<number | undefined, number | undefined>(port.port, containerPorts[port.name]);
  }
  const policy = find('NetworkPolicy', 'drift-detector', 'drift-detector');
  const policyPorts = (policy['spec'].ingress as Array<{ ports: Array<{ port: number }> }>).flatMap((i) => i.ports.map((p) => p.port)).sort();
  t.deepEqual(policyPorts, Object.values(containerPorts).sort());
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  t.deepEqual(/^EXPOSE (.+)$/m.exec(dockerfile)![1]!.split(' ').map(Number).sort(), Object.values(containerPorts).sort());

  // Labels: one set selects the pods everywhere.
  const podLabels = pod.metadata.labels as Record<string, string>;
  const subset = (labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => podLabels[k] === v);
  t.true(subset(deployment['spec'].selector.matchLabels));
  t.true(subset(service['spec'].selector));
  t.true(subset(policy['spec'].podSelector.matchLabels));
  // The token is mounted by this pod (the watch lists Backups and writes Events), not by every pod of the account.
  t.is(find('ServiceAccount', pod.spec.serviceAccountName, 'drift-detector')['automountServiceAccountToken'], false);
  t.true(pod.spec.automountServiceAccountToken);

  // Every file the configuration names is mounted, from a Secret whose template has that key.
  const mounts = container.volumeMounts as Array<{ name: string; mountPath: string; subPath?: string }>;
  const volumes = pod.spec.volumes as Array<{ name: string; secret?: { secretName: string }; configMap?: { name: string }; emptyDir?: object }>;
  const files = [config.tls!.certFile, config.tls!.keyFile, config.tokenFile!, config.storageLocations[0]!.location.credentialsFile!];
  for (const file of files) {
    const mount = mounts.find((m) => file.startsWith(`${m.mountPath}/`));
    t.truthy(mount, `${file} is mounted`);
    const volume = volumes.find((v) => v.name === mount!.name)!;
    const secret = find('Secret', volume.secret!.secretName, 'drift-detector');
    t.true(file.slice(mount!.mountPath.length + 1) in secret['stringData'], `${secret.metadata!.name} has ${file}`);
  }
  const configMount = mounts.find((m) => m.subPath === 'config.yaml')!;
  t.is<string | undefined, string | undefined>(volumes.find((v) => v.name === configMount.name)!.configMap!.name, configMap.metadata!.name);
  t.deepEqual(container.args, ['serve', '--config', configMount.mountPath]);
  t.true(dockerfile.includes(`CMD ["serve", "--config", "${configMount.mountPath}"]`));
  // A read-only root: the executable's proto copy goes to an emptyDir at /tmp.
  t.true(container.securityContext.readOnlyRootFilesystem);
  t.truthy(volumes.find((v) => v.name === mounts.find((m) => m.mountPath === '/tmp')?.name)?.emptyDir);

  // Highly available: two replicas spread over nodes, and a drain that keeps one of them.
  t.is(deployment['spec'].replicas, 2);
  const spread = pod.spec.topologySpreadConstraints as Array<{
    topologyKey: string;
    maxSkew: number;
    labelSelector: { matchLabels: Record<string, string> };
  }>;
  const byNode = spread.find((c) => c.topologyKey === 'kubernetes.io/hostname')!;
  t.is(byNode.maxSkew, 1);
  t.deepEqual(byNode.labelSelector.matchLabels, deployment['spec'].selector.matchLabels);
  const [antiAffinity] = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
  t.is(antiAffinity.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
  t.deepEqual(antiAffinity.podAffinityTerm.labelSelector.matchLabels, deployment['spec'].selector.matchLabels);
  const budget = find('PodDisruptionBudget', 'drift-detector', 'drift-detector');
  t.is(budget['spec'].minAvailable, 1);
  t.true(budget['spec'].minAvailable < deployment['spec'].replicas);
  t.deepEqual(budget['spec'].selector.matchLabels, deployment['spec'].selector.matchLabels);

  // Image: the program's name, tagged with its version.
  const kustomization = all.get(join('service', 'kustomization.yaml'))![0]!;
  t.is(container.image, 'drift-detector');
  t.deepEqual(kustomization['images'], [{ name: 'drift-detector', newTag: DETECTOR_VERSION }]);
});

test('Dockerfile and docs/plugin.md: the plugin image installs the executable under its plugin name and copies it to /target', (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const targets = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  t.true(targets.includes('plugin') && targets.includes('service'), targets.join(', '));
  const plugin = dockerfile.slice(dockerfile.indexOf('AS plugin'), dockerfile.indexOf('AS service'));
  t.regex(plugin, /^USER 65532:65532$/m, 'non-root');
  t.regex(plugin, /^ENTRYPOINT \["cp", "-r", "\/plugins\/\.", "\/target\/\."\]$/m);
  t.regex(dockerfile, /^RUN npm run build:plugin$/m);
  // The build stage and scripts/build-images.sh lay out the images with one script.
  t.regex(dockerfile, /^RUN sh scripts\/image-layout\.sh dist\/drift-detector \/out$/m);
  const layout = readFileSync(join(ROOT, 'scripts', 'image-layout.sh'), 'utf8');
  t.regex(layout, new RegExp(`^plugin=${PLUGIN_EXECUTABLE_NAME}$`, 'm'));
  t.regex(layout, /^runtime_libs="libstdc\+\+\.so\.6 libgcc_s\.so\.1"$/m);
  t.regex(layout, /^ {2}chmod 0644 "\$out\/plugins\/\$lib"$/m, 'libraries are not executable: Velero would run them as plugins');
  t.regex(layout, /^chmod 0755 "\$out\/plugins\/\$plugin"$/m);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    version: string;
    license: string;
  };
  t.truthy(pkg.scripts['build:plugin']);
  t.is(pkg.version, DETECTOR_VERSION);
  // Both images' labels: package.json's version and license.
  t.deepEqual(
    [...dockerfile.matchAll(/^ARG VERSION=(\S+)$/gm)].map((m) => m[1]),
    [pkg.version, pkg.version],
  );
  t.is([...dockerfile.matchAll(new RegExp(`org\\.opencontainers\\.image\\.licenses="${pkg.license}"`, 'g'))].length, 2);

  const readme = readFileSync(join(ROOT, 'docs', 'plugin.md'), 'utf8');
  const images = [...readme.matchAll(/registry\.example\.com\/([a-z-]+):(\d+\.\d+\.\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
  t.true(images.length > 0);
  t.deepEqual([...new Set(images)].sort(), [`drift-detector:${DETECTOR_VERSION}`, `${PLUGIN_EXECUTABLE_NAME}:${DETECTOR_VERSION}`]);
  t.true(readme.includes(`velero plugin add registry.example.com/${PLUGIN_EXECUTABLE_NAME}:${DETECTOR_VERSION}`));
  t.true(readme.includes(`${RESTORE_GATE_NAME}   ${RESTORE_GATE_KIND}`));
});

test('webhook: the ValidatingWebhookConfiguration, Service, certificate, RBAC and Deployment patch agree with the code and the service configuration', async (t) => {
  const vwc = find('ValidatingWebhookConfiguration', 'drift-detector');
  const [hook] = vwc['webhooks'] as Array<Record<string, any>>;
  t.is((vwc['webhooks'] as unknown[]).length, 1);
  t.deepEqual(hook!['rules'], [
    { apiGroups: ['velero.io'], apiVersions: ['v1'], resources: ['restores'], operations: ['CREATE'], scope: 'Namespaced' },
  ]);
  t.is(hook!['sideEffects'], 'None');
  t.deepEqual(hook!['admissionReviewVersions'], ['v1']);
  t.deepEqual(hook!['namespaceSelector'], { matchLabels: { 'kubernetes.io/metadata.name': DEFAULTS.velero.namespace } });
  t.is(hook!['timeoutSeconds'], 10);
  // Break glass: a Restore carrying the override label never reaches the webhook (the service may be
  // down); the label is the one the gate reads as an override.
  t.deepEqual(hook!['objectSelector'], { matchExpressions: [{ key: OVERRIDE_ANNOTATION, operator: 'DoesNotExist' }] });
  t.deepEqual(restoreOverride({ [OVERRIDE_ANNOTATION]: 'INC-42' }, undefined), { [OVERRIDE_ANNOTATION]: 'INC-42' });
  // The service answers by failurePolicy itself before the API server gives up.
  t.true(DEFAULTS.webhook.deadlineMs < hook!['timeoutSeconds'] * 1000);

  // The Deployment patch: the webhook's settings through the environment, as the service reads them.
  const kustomization = all.get('webhook/kustomization.yaml')![0]!;
  const patches = (kustomization['patches'] as Array<{ patch: string }>).map((p) => parseAllDocuments(p.patch)[0]!.toJS() as Doc);
  const deploymentPatch = patches.find((p) => p.kind === 'Deployment')!;
  const container = deploymentPatch['spec'].template.spec.containers[0];
  const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
  const configMap = find('ConfigMap', 'drift-detector-config', 'drift-detector');
  const dir = await tempDir('drift-deploy-webhook-');
  await writeFile(join(dir, 'config.yaml'), configMap['data']['config.yaml']);
  const config = await loadServiceConfig({ file: join(dir, 'config.yaml'), env });
  t.truthy(config.webhook);
  t.is(hook!['failurePolicy'], config.gate.failurePolicy);

  // Path and ports: VWC -> Service -> container port -> webhook.listen.
  const client = hook!['clientConfig'].service;
  t.is(client.path, WEBHOOK_PATH);
  const service = find('Service', client.name, client.namespace);
  const servicePort = (service['spec'].ports as Array<{ port: number; targetPort: string }>).find((p) => p.port === client.port)!;
  t.truthy(servicePort);
  const containerPort = (container.ports as Array<{ name: string; containerPort: number }>).find((p) => p.name === servicePort.targetPort)!;
  t.is(containerPort.containerPort, portOf(config.webhook!.listen));
  const policy = find('NetworkPolicy', 'drift-detector-webhook', 'drift-detector');
  t.deepEqual(policy['spec'].ingress[0].ports, [{ port: servicePort.targetPort, protocol: 'TCP' }]);

  // Certificate: the Secret mounted where webhook.tls points, the DNS name the API server dials, the CA injected.
  const certificate = find('Certificate', 'drift-detector-webhook', 'drift-detector');
  t.is(
    (vwc['metadata'] as any).annotations['cert-manager.io/inject-ca-from'],
    `${certificate.metadata!.namespace}/${certificate.metadata!.name}`,
  );
  t.true((certificate['spec'].dnsNames as string[]).includes(`${client.name}.${client.namespace}.svc`));
  find(certificate['spec'].issuerRef.kind, certificate['spec'].issuerRef.name, 'drift-detector');
  const volume = (deploymentPatch['spec'].template.spec.volumes as Array<{ name: string; secret: { secretName: string } }>).find(
    (v) => v.secret?.secretName === certificate['spec'].secretName,
  )!;
  const mount = (container.volumeMounts as Array<{ name: string; mountPath: string }>).find((m) => m.name === volume.name)!;
  t.is(config.webhook!.certFile, join(mount.mountPath, 'tls.crt'));
  t.is(config.webhook!.keyFile, join(mount.mountPath, 'tls.key'));

  // The schedule lookup lists Backups with the service's account and Role (deploy/service), not a Role of its own.
  t.false(
    [...all.values()]
      .flat()
      .some((d) => (d.kind === 'Role' || d.kind === 'RoleBinding') && d.metadata?.labels?.['app.kubernetes.io/component'] === 'webhook'),
  );
});

test("service Roles allow exactly the requests serve makes: in Velero's namespace (the watch, its Events and verdicts, the schedule and location lookups) and, for the Lease and the verdict key, its own", async (t) => {
  const api = await startKubeApi({ pageLimitMax: 1 });
  t.teardown(() => api.stop());
  const ns = DEFAULTS.velero.namespace;
  const backup = (name: string) => ({
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: ns, labels: { 'velero.io/schedule-name': 'daily' } },
    spec: { storageLocation: 'default' },
    status: { phase: 'Completed', completionTimestamp: `2026-11-30T1${name.slice(1)}:00:00Z` },
  });
  api.put(backup('b1'));
  api.put(backup('b2'));
  // Another replica made the verdict key first: this one's create is refused (409) and it reads the Secret.
  api.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: DEFAULTS.watch.verdictKeySecret, namespace: 'drift-detector' },
    data: { 'hmac-sha256-key': Buffer.alloc(32, 1).toString('base64') },
  });
  const file = await api.writeKubeconfig();

  // serve as deployed: leader election, the watch on the cluster's Backups with Events and verdicts, over a drifted backup.
  const fake = new FakeDetection();
  fake.reports.set('b2', standardReport('b2'));
  fake.reports.set('b1', standardReport('b1'));
  const service = await startTestService({
    config: { watch: { enabled: true, intervalMs: 60_000, events: true, source: 'cluster' } },
    deps: fake.deps(),
    env: { KUBECONFIG: file },
  });
  t.teardown(() => service.stop());
  const deadline = Date.now() + 20_000;
  const verdictOn = (name: string) => api.get('velero.io/v1', 'Backup', ns, name)?.metadata.labels?.['driftdetector.dev/restore-verdict'];
  const done = () => api.list('v1', 'Event', ns).length > 0 && verdictOn('b1') && verdictOn('b2');
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.like(api.list('v1', 'Event', ns)[0], { involvedObject: { kind: 'BackupStorageLocation', name: 'default' }, reason: 'BackupNotRestorable' });
  t.is(verdictOn('b2'), 'Blocked');
  // The webhook's `--from-schedule` lookup and the pointer of a denial, as serve composes them.
  const backups = await clusterScheduleBackups({ loadConfig: () => Promise.resolve(api.kubeConfig) }).list(
    ns,
    'daily',
    new AbortController().signal,
  );
  t.is(backups.length, 2);
  const denial = await service.running.assembly.verdictAdmission!.pointer({ backup: 'b2' }, undefined, new AbortController().signal);
  t.regex(denial.join('\n'), /No recent backup of storage location default/);
  // The storage location of a restore's backup, read by the webhook and the RestoreItemAction.
  const locationOf = clusterBackupLocations({ env: {}, loadConfig: () => Promise.resolve(api.kubeConfig) });
  t.is(await locationOf(ns, 'b1', new AbortController().signal), 'default');
  await service.stop();

  const deployment = find('Deployment', 'drift-detector', 'drift-detector');
  for (const [namespace, name] of [
    [ns, 'drift-detector'],
    ['drift-detector', 'drift-detector-leader-election'],
  ] as const) {
    const role = find('Role', name, namespace);
    const requests = api.requests.filter((r) => r.path.includes(`/namespaces/${namespace}/`));
    t.deepEqual(requestedOf(requests), grantsOf(role), `${namespace}: the Role grants what is used, and nothing else`);
    for (const r of requests) t.true(allowsName(role, r), `${namespace}: ${r.method} ${r.path} is within the Role's resourceNames`);
    const binding = find('RoleBinding', name, namespace);
    t.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name });
    t.deepEqual(binding['subjects'], [
      { kind: 'ServiceAccount', name: deployment['spec'].template.spec.serviceAccountName, namespace: 'drift-detector' },
    ]);
  }
  const roleNames = find('Role', 'drift-detector-leader-election', 'drift-detector')['rules'].flatMap((r: any) => r.resourceNames ?? []);
  t.deepEqual(roleNames, [DEFAULTS.watch.leaderElection.leaseName, DEFAULTS.watch.verdictKeySecret]);

  // What the deployed configuration asks for is what this test ran.
  const configMap = find('ConfigMap', 'drift-detector-config', 'drift-detector');
  const dir = await tempDir('drift-deploy-watch-');
  await writeFile(join(dir, 'config.yaml'), configMap['data']['config.yaml']);
  const config = await loadServiceConfig({ file: join(dir, 'config.yaml'), env: {} });
  t.like(config.watch, { enabled: true, events: true, source: 'auto' });
  t.not(config.watch.leaderElection?.enabled, false, 'leader election on, for more than one replica');
});

/** A request for a named object is within the rule's resourceNames, when the rule that grants its verb has some. */
function allowsName(role: Doc, request: { method: string; path: string }): boolean {
  const [verb] = requestedOf([request])[0]!.split(':').slice(1);
  const m = /\/([^/]+)\/([^/]+)$/.exec(request.path)!;
  const rules = (role['rules'] as Array<{ resources: string[]; verbs: string[]; resourceNames?: string[] }>).filter(
    (r) => r.verbs.includes(verb!) && (r.resources.includes(m[2]!) || r.resources.includes(m[1]!)),
  );
  return rules.some((r) => !r.resourceNames || r.resourceNames.includes(m[2]!));
}

test('service PrometheusRule: its alerts read only series the service exports, matched label for label, with no threshold written in', async (t) => {
  const rule = find('PrometheusRule', 'drift-detector-readiness', 'drift-detector');
  const { registry, readiness } = createMetrics({ defaultMetrics: false });
  // Every series of the watch present: one location analysed, its newest backup a day after the one before.
  const completedAt = Date.now() - 3_600_000;
  readiness.bind(
    () => [
      {
        location: 'default',
        backup: { name: 'b2', completedAt, previousCompletedAt: completedAt - 86_400_000 },
        readiness: { restorable: false, status: 'ManualRemediationRequired', clusters: [], infraMachinesToConfirm: 0 },
        analyzedAt: Date.now(),
      },
    ],
    600,
  );
  readiness.analysed('default', { ok: true, seconds: 1 });
  readiness.failed('default');
  const exported = new Map(
    (await registry.getMetricsAsJSON()).map((m) => [m.name, new Set(m.values.flatMap((v) => Object.keys(v.labels)))] as const),
  );

  const rules = (rule['spec'].groups as Array<{ rules: Array<{ alert: string; expr: string }> }>).flatMap((g) => g.rules);
  t.deepEqual(
    rules.map((r) => r.alert),
    ['DriftDetectorBackupNotRestorable', 'DriftDetectorReadinessStale', 'DriftDetectorBackupTooOld'],
  );
  for (const r of rules) {
    const names = r.expr.match(/drift_detector_[a-z_]+/g) ?? [];
    t.true(names.length > 0, `${r.alert} reads a drift_detector metric`);
    for (const name of names) t.true(exported.has(name.replace(/_(bucket|count|sum)$/, '')), `${r.alert}: ${name} is exported`);
    // Two series in one expression match one to one (no on/ignoring): they must carry the same labels.
    const labelSets = names.map((n) => [...exported.get(n)!].sort().join(','));
    t.is(new Set(labelSets).size, 1, `${r.alert}: ${names.join(' and ')} carry the same labels`);
    // A threshold of time (600, 93600) written into the rule goes stale with the configuration; small factors may stay.
    t.notRegex(r.expr, /(?<![a-z_])\d{2,}/, `${r.alert}: no constant threshold`);
  }
  const stale = rules.find((r) => r.alert === 'DriftDetectorReadinessStale')!;
  t.regex(stale.expr, /drift_detector_readiness_watch_interval_seconds/, 'missed analyses are counted in configured intervals');
  t.regex(
    stale.expr,
    /drift_detector_readiness_last_success_timestamp_seconds or drift_detector_readiness_watch_start_timestamp_seconds/,
    'a location that never had a success counts from when the watch started on it',
  );
  const old = rules.find((r) => r.alert === 'DriftDetectorBackupTooOld')!;
  t.regex(old.expr, /drift_detector_backup_interval_seconds/, "a missed backup is measured against the location's own cadence");
});
