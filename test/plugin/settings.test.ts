/**
 * The plugin's pure parts, table by table: settings from the ConfigMap, Velero's log-level flag,
 * the handshake line, plugin-mode detection, the Restore's summary and Events, the Secrets' keys.
 */
import test from 'ava';
import { jsonLogger, type LogLevel } from '../../src/util/jsonlog.js';
import { handshakeLine, isPluginInvocation, hasMagicCookie, NOT_A_PLUGIN_MESSAGE } from '../../src/plugin/protocol.js';
import { eventFor, restoreAnnotations, type ClusterOutcome } from '../../src/plugin/restore-report.js';
import { vcenterCredentialsFromSecret } from '../../src/plugin/restore-gate-plugin.js';
import { remoteCredentialsFromSecret } from '../../src/plugin/remote.js';
import { logLevelFromArgs } from '../../src/plugin/server.js';
import {
  defaultPluginSettings,
  parsePluginSettings,
  parsePluginSettingsFile,
  PLUGIN_CONFIG_SELECTOR,
  SETTINGS_KEYS,
} from '../../src/plugin/settings.js';

test('settings: defaults, every key, and errors naming the origin and the key', (t) => {
  const defaults = defaultPluginSettings();
  t.deepEqual(defaults.gate, { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false });
  t.false(defaults.skipAccessApiServer);
  t.is(defaults.analysisTimeoutMs, 600_000);
  t.is(defaults.remote, undefined);

  const everyKey = {
    mode: 'annotate',
    failurePolicy: 'Ignore',
    pauseOnDrift: 'true',
    skipAccessAPIServer: 'true',
    insecureSkipVerify: 'false',
    vsphereCredentialsSecret: 'vcenter-credentials',
    analysisTimeout: '20m',
    vsphereTimeout: '45s',
    apiserverTimeout: '5s',
    storageTimeout: '1m',
    storageDeadline: '30m',
    remoteEndpoint: 'drift-detector.velero.svc:50051',
    remoteCredentialsSecret: 'drift-detector-client',
    remoteTLS: 'true',
    remoteTimeout: '2m',
  };
  t.deepEqual(Object.keys(everyKey).sort(), [...SETTINGS_KEYS].sort(), 'the case below sets every key');
  const all = parsePluginSettings(everyKey, 'ConfigMap velero/drift-detector-plugin');
  t.deepEqual(all, {
    origin: 'ConfigMap velero/drift-detector-plugin',
    gate: { mode: 'annotate', failurePolicy: 'Ignore', pauseOnDrift: true },
    skipAccessApiServer: true,
    insecureSkipVerify: false,
    analysisTimeoutMs: 1_200_000,
    vsphereTimeoutMs: 45_000,
    apiserverTimeoutMs: 5_000,
    storageTimeoutMs: 60_000,
    storageDeadlineMs: 1_800_000,
    vsphereCredentialsSecret: 'vcenter-credentials',
    remote: { endpoint: 'drift-detector.velero.svc:50051', tls: true, timeoutMs: 120_000, credentialsSecret: 'drift-detector-client' },
  });

  const origin = 'ConfigMap velero/p';
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ mode: 'strict' }, /^ConfigMap velero\/p: mode: expected block or annotate, not "strict"$/],
    [{ failurePolicy: 'fail' }, /^ConfigMap velero\/p: failurePolicy: expected Fail or Ignore, not "fail"$/],
    [{ pauseOnDrift: 'yes' }, /^ConfigMap velero\/p: pauseOnDrift: expected true or false, not "yes"$/],
    [
      { analysisTimeout: 'soon' },
      /^ConfigMap velero\/p: analysisTimeout: expected a duration such as 30s, 10m or 1h \(more than zero\), not "soon"$/,
    ],
    [{ analysisTimeout: '0s' }, /analysisTimeout: expected a duration/],
    [{ vsphereCredentialsSecret: 'Not_A_Name' }, /vsphereCredentialsSecret: "Not_A_Name" is not a Secret name/],
    [{ remoteEndpoint: 'http://svc:50051' }, /remoteEndpoint: "http:\/\/svc:50051" is not host:port/],
    [{ remoteEndpoint: 'svc:0' }, /remoteEndpoint: "svc:0" is not host:port/],
    [{ remoteCredentialsSecret: 'x' }, /remoteCredentialsSecret: needs remoteEndpoint/],
    [{ remoteTLS: 'true' }, /remoteTLS: needs remoteEndpoint/],
    [{ skipAccessApiServer: 'true' }, /skipAccessApiServer: unknown key \(expected one of mode, failurePolicy, .*skipAccessAPIServer/],
    [{ mode: ['block'] }, /mode: expected a string/],
  ];
  for (const [data, message] of cases) {
    t.throws(() => parsePluginSettings(data, origin), { message }, JSON.stringify(data));
  }
});

test('settings file: a ConfigMap manifest or a flat mapping; YAML errors with their position', (t) => {
  const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: p }\ndata:\n  mode: annotate\n  pauseOnDrift: "true"\n';
  t.is(parsePluginSettingsFile(manifest, '/etc/p/configmap.yaml').gate.mode, 'annotate');
  t.is(parsePluginSettingsFile(manifest, '/etc/p/configmap.yaml').origin, 'configmap.yaml');
  t.true(parsePluginSettingsFile('skipAccessAPIServer: true\n', 'flat.yaml').skipAccessApiServer);
  t.throws(() => parsePluginSettingsFile('kind: Secret\ndata: {}\n', 's.yaml'), { message: 's.yaml: kind: "Secret" is not ConfigMap' });
  t.throws(() => parsePluginSettingsFile('mode: [\n', 'bad.yaml'), { message: /^bad\.yaml: not valid YAML \(line \d+, column \d+\)$/ });
  t.throws(() => parsePluginSettingsFile('- a\n', 'list.yaml'), { message: /^list\.yaml: expected a mapping/ });
  t.is(parsePluginSettingsFile('', 'empty.yaml').gate.mode, 'block');
});

test("the ConfigMap selector is Velero's plugin-config convention", (t) => {
  t.is(PLUGIN_CONFIG_SELECTOR, 'velero.io/plugin-config=,driftdetector.dev/restore-gate=RestoreItemAction');
});

test('--log-level as Velero passes it (logrus names), among unknown flags', (t) => {
  const cases: Array<[string[], LogLevel]> = [
    [[], 'info'],
    [['--features=EnableCSI', '--uploader-type=kopia'], 'info'],
    [['--log-level=debug'], 'debug'],
    [['--log-level', 'warning', '--features='], 'warn'],
    [['--log-level=trace'], 'debug'],
    [['--log-level=panic'], 'error'],
    [['--log-level=fatal'], 'error'],
    [['--log-level=ERROR'], 'error'],
    [['--log-level=loud'], 'info'],
  ];
  for (const [args, level] of cases) t.is(logLevelFromArgs(args), level, args.join(' '));
});

test('handshake line, cookie and plugin-mode detection', (t) => {
  t.is(handshakeLine(2, { network: 'unix', address: '/tmp/plugin123' }), '1|2|unix|/tmp/plugin123|grpc\n');
  t.is(handshakeLine(2, { network: 'tcp', address: '127.0.0.1:10000' }), '1|2|tcp|127.0.0.1:10000|grpc\n');
  t.true(hasMagicCookie({ VELERO_PLUGIN: 'hello' }));
  t.false(hasMagicCookie({ VELERO_PLUGIN: 'Hello' }));
  t.false(hasMagicCookie({}));
  t.true(isPluginInvocation('/usr/local/bin/drift-detector', { VELERO_PLUGIN: 'hello' }));
  t.true(
    isPluginInvocation('/usr/local/bin/drift-detector', { VELERO_PLUGIN: '' }),
    'a wrong cookie still means plugin mode: it gets the message',
  );
  t.true(isPluginInvocation('/plugins/velero-plugin-drift-detector', {}));
  t.true(isPluginInvocation('./velero-plugin-drift-detector', {}));
  t.false(isPluginInvocation('/usr/local/bin/drift-detector', {}));
  t.false(isPluginInvocation('build/src/cli/main.js', {}));
  t.is(NOT_A_PLUGIN_MESSAGE.split('\n')[0], 'This binary is a plugin. These are not meant to be executed directly.');
});

test("the Restore's summary annotations and the Event of each outcome", (t) => {
  const outcome = (
    cluster: string,
    status: string,
    verdict: 'ALLOW' | 'BLOCK',
    action: ClusterOutcome['action'],
    overridden = false,
  ): ClusterOutcome => ({
    cluster,
    status,
    verdict,
    action,
    overridden,
    message: `${cluster} ${status}`,
  });
  const ok = outcome('default/a', 'Healthy', 'ALLOW', 'restore');
  const ghost = outcome('default/b', 'ManualRemediationRequired', 'BLOCK', 'fail');
  const paused = outcome('tkg/c', 'ManualRemediationRequired', 'BLOCK', 'pause');
  const overridden = outcome('tkg/d', 'ManualRemediationRequired', 'ALLOW', 'restore', true);
  const failedCheck = outcome('tkg/e', 'CheckFailed', 'ALLOW', 'restore');

  t.deepEqual(restoreAnnotations([ok]), {
    'driftdetector.dev/verdict': 'ALLOW',
    'driftdetector.dev/summary': '1 Cluster: 1 restored',
    'driftdetector.dev/clusters': '[{"cluster":"default/a","status":"Healthy","verdict":"ALLOW","action":"restore","overridden":false}]',
  });
  const all = restoreAnnotations([paused, ghost, ok, overridden]);
  t.is(all['driftdetector.dev/verdict'], 'BLOCK');
  t.is(all['driftdetector.dev/summary'], '4 Clusters: 2 restored, 1 restored paused (tkg/c), 1 blocked (default/b)');
  t.deepEqual(
    JSON.parse(all['driftdetector.dev/clusters']!).map((c: { cluster: string }) => c.cluster),
    ['default/a', 'default/b', 'tkg/c', 'tkg/d'],
  );

  t.deepEqual(eventFor(ok), {
    type: 'Normal',
    reason: 'ClusterRestoreAllowed',
    message: 'Cluster default/a restored (Healthy): default/a Healthy',
  });
  t.deepEqual(eventFor(ghost), { type: 'Warning', reason: 'ClusterRestoreBlocked', message: 'default/b ManualRemediationRequired' });
  t.is(eventFor(paused).reason, 'ClusterRestoredPaused');
  t.is(eventFor(overridden).reason, 'ClusterRestoreOverridden');
  t.is(eventFor(failedCheck).reason, 'ClusterRestoredWithDrift');
  t.is(eventFor(failedCheck).type, 'Warning');
});

test("Secrets: vCenter credentials and the remote service's client credentials; errors name keys, never values", (t) => {
  const origin = 'Secret velero/s';
  t.deepEqual(vcenterCredentialsFromSecret({ username: ' u@vsphere.local\n', password: 'p4ss\n' }, origin), {
    username: 'u@vsphere.local',
    password: 'p4ss',
  });
  t.deepEqual(vcenterCredentialsFromSecret({ 'credentials.yaml': 'vc1:\n  username: a\n  password: b\n' }, origin), {
    byServer: { vc1: { username: 'a', password: 'b' } },
  });
  t.throws(() => vcenterCredentialsFromSecret({ user: 'x' }, origin), {
    message: 'Secret velero/s: unknown key "user" (expected username, password, credentials.yaml, ca.crt, thumbprints, trustedHosts)',
  });
  const sha256 = Array.from({ length: 32 }, () => 'AB').join(':');
  t.deepEqual(
    vcenterCredentialsFromSecret(
      { password: 'p', thumbprints: `VC1.example.com=${sha256}\n`, trustedHosts: 'https://vc2:443/sdk\nvc3:8443' },
      origin,
    ),
    { password: 'p', trust: { thumbprints: { 'vc1.example.com': sha256 }, hosts: ['vc2', 'vc3:8443'] } },
    'the vCenters trusted with them, keyed as vCenters are compared',
  );
  t.throws(() => vcenterCredentialsFromSecret({ password: 'p', thumbprints: 'vc1' }, origin), {
    message: 'Secret velero/s key thumbprints: vc1: expected server=thumbprint, e.g. vc01.example.com=3F:A2:...',
  });
  t.throws(() => vcenterCredentialsFromSecret({ password: 'p', 'ca.crt': 'not a certificate' }, origin), {
    message: 'Secret velero/s key ca.crt: holds no PEM certificate',
  });
  t.throws(() => vcenterCredentialsFromSecret({}, origin), { message: 'Secret velero/s: holds no username, password or credentials.yaml' });
  const bad = t.throws(() => vcenterCredentialsFromSecret({ 'credentials.yaml': 'vc1: [secret-value' }, origin));
  t.regex(bad.message, /^Secret velero\/s key credentials\.yaml: not valid YAML \(line \d+, column \d+\)$/);

  t.deepEqual(remoteCredentialsFromSecret({ 'ca.crt': 'PEM', token: ' tok \n' }, origin), { caCert: 'PEM\n', token: 'tok' });
  t.throws(() => remoteCredentialsFromSecret({ 'tls.crt': 'PEM' }, origin), { message: 'Secret velero/s: tls.crt and tls.key go together' });
  t.throws(() => remoteCredentialsFromSecret({ password: 'x' }, origin), { message: /unknown key "password"/ });
});

test('jsonLogger without @timestamp: the line hclog and Velero expect from a plugin', (t) => {
  const lines: string[] = [];
  const logger = jsonLogger({ level: 'debug', timestamp: false, write: (l) => lines.push(l) });
  logger.warn('restore of the Cluster blocked', { cluster: 'default/a', password: 'x' });
  t.deepEqual(JSON.parse(lines[0]!), {
    '@level': 'warn',
    '@message': 'restore of the Cluster blocked',
    cluster: 'default/a',
    password: '[redacted]',
  });
  const stamped: string[] = [];
  jsonLogger({ write: (l) => stamped.push(l), now: () => new Date('2026-01-02T03:04:05.678Z') }).info('x');
  t.is(JSON.parse(stamped[0]!)['@timestamp'], '2026-01-02T03:04:05.678000Z');
});
