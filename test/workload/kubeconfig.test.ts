import test from 'ava';
import { parse, stringify } from 'yaml';
import { listWorkloadNodes } from '../../src/workload/nodes.js';
import { WorkloadKubeconfigError, parseWorkloadKubeconfig } from '../../src/workload/kubeconfig.js';
import { startApiServer, type ApiServer } from '../helpers/apiserver.js';

let apiServer: ApiServer;
let good: string;

test.before(async () => {
  apiServer = await startApiServer({ nodes: [{ name: 'n0' }] });
  good = apiServer.kubeconfig({ clusterName: 'wc1' });
});

test.after.always(async () => {
  await apiServer?.stop();
});

type Doc = Record<string, any>;

function edit(change: (doc: Doc) => void): string {
  const doc = parse(good) as Doc;
  change(doc);
  return stringify(doc);
}

async function errorFor(kubeconfig: string): Promise<string> {
  const listing = await listWorkloadNodes({ namespace: 'tkg-ns', cluster: 'wc1', kubeconfig });
  if (listing.reached) throw new Error('expected the listing to fail');
  return listing.error ?? '';
}

test('reads the Cluster API kubeconfig', (t) => {
  const credentials = parseWorkloadKubeconfig(good, 'tkg-ns/wc1-kubeconfig');
  t.is(credentials.server, apiServer.url);
  t.is(credentials.userEntry, 'wc1-admin');
  t.is(credentials.clusterEntry, 'wc1');
  t.is(credentials.caPem, apiServer.caPem);
  t.regex(credentials.clientCertPem ?? '', /BEGIN CERTIFICATE/);
  t.regex(credentials.clientKeyPem ?? '', /PRIVATE KEY/);
  t.false(credentials.insecureSkipTLSVerify);
});

const malformed: [string, () => string, RegExp][] = [
  ['empty', () => '', /is malformed: it is empty/],
  ['not a mapping', () => '- a\n- b\n', /is malformed: it is not a YAML mapping/],
  [
    'no current-context and two contexts',
    () =>
      edit((d) => {
        delete d['current-context'];
        d.contexts.push({ name: 'other', context: { cluster: 'wc1', user: 'wc1-admin' } });
      }),
    /current-context is missing/,
  ],
  [
    'current context without entry',
    () =>
      edit((d) => {
        d['current-context'] = 'nope';
      }),
    /current-context "nope" has no entry in contexts/,
  ],
  [
    'user entry missing',
    () =>
      edit((d) => {
        d.users = [];
      }),
    /user "wc1-admin" \(named by the current context\) has no entry in users/,
  ],
  [
    'cluster entry missing',
    () =>
      edit((d) => {
        d.clusters[0].name = 'other';
      }),
    /cluster "wc1" .* has no entry in clusters/,
  ],
  [
    'server missing',
    () =>
      edit((d) => {
        delete d.clusters[0].cluster.server;
      }),
    /clusters\["wc1"\]\.cluster\.server is missing/,
  ],
  [
    'plain http server',
    () =>
      edit((d) => {
        d.clusters[0].cluster.server = 'http://10.0.0.1:6443';
      }),
    /server is not an https:\/\/ address/,
  ],
  [
    'client key missing',
    () =>
      edit((d) => {
        delete d.users[0].user['client-key-data'];
      }),
    /users\["wc1-admin"\]\.user\.client-key-data is missing/,
  ],
  [
    'no credentials',
    () =>
      edit((d) => {
        d.users[0].user = {};
      }),
    /client-certificate-data and .*client-key-data are missing/,
  ],
  [
    'client key not base64',
    () =>
      edit((d) => {
        d.users[0].user['client-key-data'] = 'not base64 at all!';
      }),
    /client-key-data is not base64/,
  ],
  [
    'exec plugin',
    () =>
      edit((d) => {
        d.users[0].user = { exec: { command: 'rm', args: ['-rf', '/'] } };
      }),
    /user\.exec asks for a credential plugin, which the detector does not run/,
  ],
  [
    'local file',
    () =>
      edit((d) => {
        delete d.users[0].user['client-key-data'];
        d.users[0].user['client-key'] = '/etc/key.pem';
      }),
    /user\.client-key points to a local file/,
  ],
  [
    'CA from a file',
    () =>
      edit((d) => {
        delete d.clusters[0].cluster['certificate-authority-data'];
        d.clusters[0].cluster['certificate-authority'] = '/ca.crt';
      }),
    /certificate-authority points to a local file/,
  ],
];

for (const [name, make, expected] of malformed) {
  test(`malformed kubeconfig: ${name}`, async (t) => {
    const error = await errorFor(make());
    t.regex(error, /^the kubeconfig in tkg-ns\/wc1-kubeconfig is malformed: /);
    t.regex(error, expected);
    t.is(apiServer.connections, 0, 'no connection for a kubeconfig that cannot be used');
  });
}

test('invalid YAML is reported by position, without quoting the text', async (t) => {
  const key = apiServer.clientKeyPems[0]!;
  const secretLine = key.split('\n')[1]!;
  const broken = good.replace('kind: Config', `kind: Config\n  ]: {${secretLine}`);
  const error = await errorFor(broken);
  t.regex(error, /is malformed: it is not valid YAML \(line \d+, column \d+\)/);
  t.false(error.includes(secretLine.slice(0, 16)));
  t.throws(() => parseWorkloadKubeconfig(broken, 'x'), { instanceOf: WorkloadKubeconfigError });
});
