import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { listAllWorkloadNodes, listWorkloadNodes } from '../../src/workload/nodes.js';
import type { WorkloadNodeListing } from '../../src/model/workload.js';
import { startApiServer, type ApiServer, type ApiServerOptions, type NodeSpec } from '../helpers/apiserver.js';

const uuid = (i: number) => `4223a39e-${String(i).padStart(4, '0')}-4c6a-9d1b-0c5e8a7f${String(i).padStart(4, '0')}`;

function workers(count: number, prefix = 'wc1-md-0'): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, providerID: `vsphere://${uuid(i)}` }));
}

async function server(t: ExecutionContext, options: ApiServerOptions): Promise<ApiServer> {
  const s = await startApiServer(options);
  t.teardown(() => s.stop());
  return s;
}

/** Every error must be free of key and certificate material, whatever went wrong. */
function assertNoSecrets(t: ExecutionContext, listing: WorkloadNodeListing, s: ApiServer, kubeconfig: string): void {
  const error = listing.error ?? '';
  t.false(/-----BEGIN|PRIVATE KEY|CERTIFICATE-----/.test(error), 'no PEM markers');
  for (const pem of s.clientKeyPems) {
    for (const line of pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'))) {
      t.false(error.includes(line), 'no PEM body line of a client key');
    }
  }
  for (const field of ['client-key-data', 'client-certificate-data', 'certificate-authority-data']) {
    const value = new RegExp(`${field}: (\\S+)`).exec(kubeconfig)?.[1] ?? '';
    t.true(value.length > 100, `${field} is in the kubeconfig`);
    for (let at = 0; at + 24 <= value.length; at += 24) {
      t.false(error.includes(value.slice(at, at + 24)), `no base64 slice of ${field}`);
    }
  }
  t.false(/[A-Za-z0-9+/=]{40,}/.test(error), 'no long base64 run');
}

test('reads every Node across several pages, on one connection', async (t) => {
  const nodes = workers(23);
  const s = await server(t, { nodes, pageLimitMax: 5 });
  const lines: string[] = [];
  const listing = await listWorkloadNodes(
    { namespace: 'tkg-ns', cluster: 'wc1', kubeconfig: s.kubeconfig({ clusterName: 'wc1' }) },
    { pageSize: 10, debug: (line) => lines.push(line) },
  );
  t.true(listing.reached, listing.error);
  t.is(listing.error, undefined);
  t.deepEqual(
    listing.nodes.map((n) => n.name),
    nodes.map((n) => n.name),
  );
  t.deepEqual(
    listing.nodes.map((n) => n.providerID),
    nodes.map((n) => n.providerID),
  );
  t.is(s.requests, 5, 'the server capped pages at 5 Nodes: 23 Nodes take 5 requests');
  t.is(s.connections, 1, 'pages reuse the connection');
  t.true(lines.some((l) => l.includes('page 5')));
  for (const line of lines) t.false(/BEGIN|[A-Za-z0-9+/=]{40,}/.test(line), `debug line without secrets: ${line}`);
});

test('asks for pageSize Nodes per page', async (t) => {
  const s = await server(t, { nodes: workers(7) });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() }, { pageSize: 3 });
  t.is(listing.nodes.length, 7);
  t.is(s.requests, 3);
});

test('a page of Nodes past the byte bound is refused, naming the listing and the bound; nothing of it is kept', async (t) => {
  const nodes = workers(40).map((n) => ({ ...n, labels: { 'example.com/note': 'x'.repeat(8 * 1024) } }));
  const s = await server(t, { nodes });
  const request = { namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() };
  const listing = await listWorkloadNodes(request, { maxResponseBytes: 256 * 1024 });
  t.false(listing.reached);
  t.deepEqual(listing.nodes, []);
  t.regex(
    listing.error!,
    /^the Node listing of the API server at https:\/\/127\.0\.0\.1:\d+ was refused: the answer to this list .* is larger than 256 KiB$/,
  );
  t.is((await listWorkloadNodes(request, { maxResponseBytes: 256 * 1024, pageSize: 10 })).nodes.length, 40, 'smaller pages pass');
});

test('a listing that goes on page after page is cut at 200 pages, naming why', async (t) => {
  const s = await server(t, { nodes: workers(201), pageLimitMax: 1 });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() }, { timeoutMs: 60_000 });
  t.false(listing.reached);
  t.regex(listing.error!, /the Node listing goes on beyond 200 pages/);
  t.is(s.requests, 200);
});

test('marks control-plane Nodes by role label, including the legacy master label', async (t) => {
  const s = await server(t, {
    nodes: [
      { name: 'wc1-cp-a', providerID: `vsphere://${uuid(1)}`, controlPlane: true },
      { name: 'wc1-cp-b', providerID: `vsphere://${uuid(2)}`, legacyMaster: true },
      { name: 'wc1-md-0-x', providerID: `vsphere://${uuid(3)}`, labels: { 'node-role.kubernetes.io/worker': '' } },
      { name: 'wc1-unprovisioned' },
    ],
  });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() });
  // uid and systemUUID too: remediate deletes a Node by name and uid, found by providerID or systemUUID.
  const facts = (i: number) => ({ providerID: `vsphere://${uuid(i)}`, systemUUID: uuid(i).toUpperCase() });
  t.deepEqual(listing.nodes, [
    { name: 'wc1-cp-a', ...facts(1), controlPlane: true, uid: 'uid-wc1-cp-a' },
    { name: 'wc1-cp-b', ...facts(2), controlPlane: true, uid: 'uid-wc1-cp-b' },
    { name: 'wc1-md-0-x', ...facts(3), controlPlane: false, uid: 'uid-wc1-md-0-x' },
    { name: 'wc1-unprovisioned', controlPlane: false, uid: 'uid-wc1-unprovisioned' },
  ]);
});

test('a server certificate from another CA is not trusted, unless insecureSkipVerify', async (t) => {
  const s = await server(t, { nodes: workers(2) });
  const other = await server(t, { nodes: [] });
  const kubeconfig = s.kubeconfig({ clusterName: 'wc1', certificateAuthorityPem: other.caPem });
  const request = { namespace: 'ns', cluster: 'wc1', kubeconfig };

  const refused = await listWorkloadNodes(request);
  t.false(refused.reached);
  t.deepEqual(refused.nodes, []);
  t.regex(refused.error ?? '', /server certificate .* is not trusted/);
  t.regex(refused.error ?? '', /certificate-authority-data in wc1-kubeconfig/);
  t.regex(refused.error ?? '', /--insecure-skip-verify/);
  assertNoSecrets(t, refused, s, kubeconfig);
  t.is(s.requests, 0);

  const accepted = await listWorkloadNodes(request, { insecureSkipVerify: true });
  t.true(accepted.reached, accepted.error);
  t.is(accepted.nodes.length, 2);
});

test('an expired server certificate is not trusted, unless insecureSkipVerify', async (t) => {
  const s = await server(t, { nodes: workers(1), mode: 'expired-server-cert' });
  const request = { namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() };
  const refused = await listWorkloadNodes(request);
  t.false(refused.reached);
  t.regex(refused.error ?? '', /server certificate .* is not trusted: it has expired.*--insecure-skip-verify/);
  const accepted = await listWorkloadNodes(request, { insecureSkipVerify: true });
  t.true(accepted.reached, accepted.error);
  t.is(accepted.nodes.length, 1);
});

test('a refused connection reports the API server unreachable', async (t) => {
  const s = await server(t, { nodes: workers(1), mode: 'refuse' });
  const kubeconfig = s.kubeconfig();
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig });
  t.false(listing.reached);
  t.regex(listing.error ?? '', new RegExp(`the API server at ${s.url} is unreachable: it refused the connection`));
  assertNoSecrets(t, listing, s, kubeconfig);
});

/** Below the default API server timeout (10 s), well above the ones given. */
const SLOW_MACHINE_BOUND_MS = 9_000;

test('a server that accepts the request and never answers times out within the timeout', async (t) => {
  const s = await server(t, { nodes: workers(1), mode: 'hang' });
  const started = Date.now();
  // Long enough for the TLS handshake and the request to reach the server on a loaded machine.
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() }, { timeoutMs: 3_000 });
  const elapsed = Date.now() - started;
  t.false(listing.reached);
  t.regex(listing.error ?? '', /^timed out after 3 s/);
  // Not before the timeout, and before the default one (10 s) would have ended it: a loaded
  // machine may add seconds, never take any away.
  t.true(elapsed >= 2_950 && elapsed < SLOW_MACHINE_BOUND_MS, `took ${elapsed} ms`);
  t.is(s.requests, 1, 'the request reached the server');
});

test('a peer that accepts TCP and never speaks TLS times out too', async (t) => {
  const held: net.Socket[] = [];
  let closedByClient = 0;
  const silent = net.createServer((socket) => {
    held.push(socket);
    socket.on('close', () => (closedByClient += 1));
    socket.resume(); // read (and ignore) the ClientHello, so that the client's close is seen
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    held.forEach((socket) => socket.destroy());
    silent.close();
  });
  const port = (silent.address() as net.AddressInfo).port;
  const s = await server(t, { nodes: [] });
  const kubeconfig = s.kubeconfig().replace(s.url, `https://127.0.0.1:${port}`);
  const started = Date.now();
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig }, { timeoutMs: 500 });
  const elapsed = Date.now() - started;
  t.regex(listing.error ?? '', /^timed out after 0\.5 s/);
  t.true(elapsed >= 450 && elapsed < SLOW_MACHINE_BOUND_MS, `took ${elapsed} ms`);
  t.is(held.length, 1);
  for (let waited = 0; closedByClient === 0 && waited < 10_000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.is(closedByClient, 1, 'the client closed the stuck socket');
});

test('a caller abort stops the listing', async (t) => {
  const s = await server(t, { nodes: workers(1), mode: 'hang' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const listing = await listWorkloadNodes(
    { namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() },
    { timeoutMs: 5000, signal: controller.signal },
  );
  t.regex(listing.error ?? '', /^cancelled/);
});

test('an expired client certificate is reported without connecting', async (t) => {
  const s = await server(t, { nodes: workers(1) });
  const kubeconfig = s.kubeconfig({ clusterName: 'wc1', expiredClientCert: true });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig });
  t.false(listing.reached);
  t.regex(listing.error ?? '', /^the client certificate in wc1-kubeconfig expired on 2024-03-01\b/);
  t.regex(listing.error ?? '', /one year/);
  t.is(s.connections, 0);
  t.is(s.requests, 0);
  assertNoSecrets(t, listing, s, kubeconfig);
});

test('a client certificate signed by another CA is rejected', async (t) => {
  const s = await server(t, { nodes: workers(1) });
  const kubeconfig = s.kubeconfig({ clusterName: 'wc1', foreignClientCert: true });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig });
  t.false(listing.reached);
  t.regex(listing.error ?? '', /rejected the client certificate in wc1-kubeconfig \(HTTP 401 Unauthorized\)/);
  t.regex(listing.error ?? '', /expired or replaced client certificates.*one year/);
  t.is(s.requests, 1);
  assertNoSecrets(t, listing, s, kubeconfig);
});

test('a server that no longer accepts the client certificate is reported as a rejection', async (t) => {
  const s = await server(t, { nodes: workers(1), mode: 'reject-client' });
  const listing = await listWorkloadNodes({ namespace: 'ns', cluster: 'wc1', kubeconfig: s.kubeconfig() });
  t.regex(listing.error ?? '', /rejected the client certificate in wc1-kubeconfig/);
});

test('lists many clusters with at most `concurrency` in flight, results in request order', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const onRequest = (phase: 'start' | 'end') => {
    inFlight += phase === 'start' ? 1 : -1;
    peak = Math.max(peak, inFlight);
  };
  const servers = await Promise.all(
    [3, 1, 4, 2, 5].map((count, i) => server(t, { nodes: workers(count, `wc${i}-md-0`), pageLimitMax: 2, responseDelayMs: 60, onRequest })),
  );
  const requests = servers.map((s, i) => ({ namespace: 'ns', cluster: `wc${i}`, kubeconfig: s.kubeconfig({ clusterName: `wc${i}` }) }));
  const listings = await listAllWorkloadNodes(requests, { concurrency: 2 });
  t.deepEqual(
    listings.map((l) => l.cluster),
    ['wc0', 'wc1', 'wc2', 'wc3', 'wc4'],
  );
  t.deepEqual(
    listings.map((l) => l.nodes.length),
    [3, 1, 4, 2, 5],
  );
  t.true(listings.every((l) => l.reached && l.nodes.every((n, j) => n.name === `${l.cluster}-md-0-${j}`)));
  t.is(peak, 2, 'two clusters were read at once, never more');
  t.true(servers.every((s) => s.requests > 0));
});

test('one unreachable cluster does not spoil the others', async (t) => {
  const good = await server(t, { nodes: workers(2) });
  const down = await server(t, { nodes: workers(2), mode: 'refuse' });
  const listings = await listAllWorkloadNodes([
    { namespace: 'ns', cluster: 'down', kubeconfig: down.kubeconfig({ clusterName: 'down' }) },
    { namespace: 'ns', cluster: 'good', kubeconfig: good.kubeconfig({ clusterName: 'good' }) },
  ]);
  t.deepEqual(
    listings.map((l) => [l.cluster, l.reached, l.nodes.length]),
    [
      ['down', false, 0],
      ['good', true, 2],
    ],
  );
  t.deepEqual(await listAllWorkloadNodes([]), []);
});
