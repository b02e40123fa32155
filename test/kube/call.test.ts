/**
 * The one bounded Kubernetes call, against an API stand-in on loopback: each failure becomes a
 * KubeCallError naming the object and the status, with the caller's hint after a refusal; the
 * deadline and the caller's signal bound it; a response body never reaches the message.
 */
import test from 'ava';
import http from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeCallError } from '../../src/kube/call.js';
import { decodeSecretValue, kubeClient } from '../../src/kube/client.js';

/** Answers by the last path segment: ok, forbidden, unauthorized, broken (500), hang; else 404. */
async function startApi(): Promise<{ kubeConfig: (server?: string) => KubeConfig; requests: string[]; stop: () => Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const status = (res: http.ServerResponse, code: number, message: string) =>
    res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code, message }));
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    requests.push(path);
    const last = path.slice(path.lastIndexOf('/') + 1);
    if (last === 'hang') return;
    if (last === 'ok')
      return void res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ kind: 'Secret', data: { cloud: Buffer.from('[default]\n').toString('base64') } }));
    if (last === 'forbidden') return status(res, 403, 'secrets "forbidden" is forbidden: body-text-must-not-show');
    if (last === 'unauthorized') return status(res, 401, 'Unauthorized');
    if (last === 'broken') return status(res, 500, 'etcdserver: request timed out');
    return status(res, 404, 'not found');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    requests,
    kubeConfig: (at = address) => {
      const kc = new KubeConfig();
      // client-node refuses plain http:// unless TLS verification is off.
      kc.loadFromClusterAndUser({ name: 'api', server: at, skipTLSVerify: true }, { name: 'reader', token: 'test-token' });
      return kc;
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('answers become KubeCallErrors naming the object and the status; the hint follows a refusal only', async (t) => {
  const api = await startApi();
  t.teardown(api.stop);
  const client = await kubeClient(api.kubeConfig(), { timeoutMs: 5000, accessHint: 'check the RBAC' });
  const data = await client.readSecretData('velero', 'ok');
  t.is(decodeSecretValue(data['cloud']!), '[default]\n');

  const read = (name: string) => t.throwsAsync(client.readSecretData('velero', name), { instanceOf: KubeCallError });
  const forbidden = await read('forbidden');
  t.is(forbidden.message, 'Secret velero/forbidden: forbidden (403): check the RBAC');
  t.is(forbidden.failure, 'forbidden');
  t.is(forbidden.status, 403);
  t.is((await read('unauthorized')).message, 'Secret velero/unauthorized: unauthorized (401): check the RBAC');
  t.is((await read('missing')).message, 'Secret velero/missing: not found (404)');
  const broken = await read('broken');
  t.is(broken.message, `Secret velero/broken: read at ${client.server} failed with HTTP 500`);
  t.is(broken.statusMessage, 'etcdserver: request timed out', 'the Status message is there for callers that show it');
  t.false(forbidden.message.includes('body-text-must-not-show'));

  const named = await t.throwsAsync(
    client.readSecretData('velero', 'missing', { object: 'Secret velero/missing (named by spec.credential)' }),
    { instanceOf: KubeCallError },
  );
  t.is(named.message, 'Secret velero/missing (named by spec.credential): not found (404)');
});

test("the deadline and the caller's signal bound a call; an aborted signal sends nothing", async (t) => {
  const api = await startApi();
  t.teardown(api.stop);
  const client = await kubeClient(api.kubeConfig(), { timeoutMs: 300 });
  const started = Date.now();
  const late = await t.throwsAsync(client.readSecretData('velero', 'hang'), { instanceOf: KubeCallError });
  t.true(Date.now() - started < 3000);
  t.is(late.failure, 'timeout');
  t.is(late.message, `Secret velero/hang: read at ${client.server} timed out after 300 ms`);
  t.is((late.cause as Error).name, 'TimeoutError');

  const patient = await kubeClient(api.kubeConfig(), { timeoutMs: 10_000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const stopped = await t.throwsAsync(patient.readSecretData('velero', 'hang', { signal: controller.signal }), { instanceOf: KubeCallError });
  t.is(stopped.failure, 'cancelled');
  t.is(stopped.message, 'Secret velero/hang: read cancelled');

  const before = api.requests.length;
  await t.throwsAsync(patient.readSecretData('velero', 'ok', { signal: AbortSignal.abort() }), { message: 'Secret velero/ok: read cancelled' });
  t.is(api.requests.length, before);
});

test('an API server that is not there is unreachable, with the system code', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const api = await startApi();
  t.teardown(api.stop);
  const client = await kubeClient(api.kubeConfig(`http://127.0.0.1:${port}`), { timeoutMs: 5000 });
  const err = await t.throwsAsync(client.readVeleroObject('Backup', 'velero', 'b1'), { instanceOf: KubeCallError });
  t.is(err.failure, 'unreachable');
  t.is(err.code, 'ECONNREFUSED');
  t.is(err.message, `Backup velero/b1: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`);
});
