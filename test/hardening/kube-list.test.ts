/**
 * A Kubernetes list is read with a byte bound per answer: a page of Backups of hundreds of MiB
 * (each with large annotations, as anyone who may edit Backups can write) is refused, naming the
 * list, and the client's memory stays flat. The client runs in a child process, so its peak RSS is
 * its own; the API server streams the page as it writes it and holds none of it.
 */
import test from 'ava';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { kubeClient } from '../../src/kube/client.js';
import { startKubeApi } from '../helpers/kube-api.js';
import { runChild } from './rss.js';

const CHILD = new URL('./kube-list-child.js', import.meta.url);
const BACKUPS = 500;
const ANNOTATION_BYTES = 600 * 1024;
/** Node and a 64 MiB page in flight stay well under this; the whole page would be about 300 MiB, twice that parsed. */
const RSS_BOUND_MIB = 300;

/** Answers every list with one page of `count` Backups, each carrying an annotation of `bytes`, written as the socket drains. */
async function backupListServer(count: number, bytes: number): Promise<{ url: string; written: () => number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const annotation = 'x'.repeat(bytes);
  let written = 0;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let i = 0;
    const next = () => {
      if (res.destroyed) return;
      if (i === 0) res.write('{"apiVersion":"velero.io/v1","kind":"BackupList","metadata":{"resourceVersion":"1"},"items":[');
      while (i < count) {
        const item = JSON.stringify({
          apiVersion: 'velero.io/v1',
          kind: 'Backup',
          metadata: { name: `b${i}`, namespace: 'velero', annotations: { note: annotation } },
          status: { phase: 'Completed' },
        });
        const chunk = `${i > 0 ? ',' : ''}${item}`;
        written += chunk.length;
        i += 1;
        if (!res.write(chunk)) return void res.once('drain', next);
      }
      res.end(']}');
    };
    res.on('error', () => {});
    next();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    written: () => written,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('a page of Backups of about 300 MiB is refused past 64 MiB, naming the list, and RSS stays flat', async (t) => {
  const api = await backupListServer(BACKUPS, ANNOTATION_BYTES);
  t.teardown(api.stop);
  const outcome = await runChild(CHILD, [api.url]);
  t.false(outcome.ok, outcome.error);
  t.regex(outcome.error!, /^backups in velero: refused: the answer to this list at http:\/\/127\.0\.0\.1:\d+ is larger than 64 MiB$/);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
  t.true(api.written() < BACKUPS * ANNOTATION_BYTES, 'the client stopped reading: the server never wrote the whole page');
  t.log(`peak RSS ${outcome.maxRssMiB} MiB; the server wrote ${Math.round(api.written() / 2 ** 20)} MiB`);
});

test('a page under the bound is read whole', async (t) => {
  const api = await backupListServer(20, 64 * 1024);
  t.teardown(api.stop);
  const outcome = await runChild(CHILD, [api.url]);
  t.true(outcome.ok, outcome.error);
  t.is(outcome.error, '20 backups');
});

test('the bound is per page: the same Backups in pages the API server keeps small are read whole, and every page asks for a limit', async (t) => {
  const backups = 24;
  const note = 'y'.repeat(3 * 1024 * 1024);
  for (const pageLimitMax of [undefined, 8]) {
    const api = await startKubeApi(pageLimitMax ? { pageLimitMax } : {});
    t.teardown(() => api.stop());
    for (let i = 0; i < backups; i++) {
      api.put({ apiVersion: 'velero.io/v1', kind: 'Backup', metadata: { name: `b${i}`, namespace: 'velero', annotations: { note } } });
    }
    const client = await kubeClient(api.kubeConfig, { timeoutMs: 60_000 });
    const listing = client.listVeleroObjects('Backup', 'velero', '');
    if (pageLimitMax) t.is((await listing).length, backups);
    else await t.throwsAsync(listing, { message: /^backups in velero: refused: the answer to this list at .* is larger than 64 MiB$/ });
    const lists = api.requests.filter((r) => r.path === '/apis/velero.io/v1/namespaces/velero/backups');
    t.true(lists.length > 0 && lists.every((r) => r.query.get('limit') === '500'));
  }
});
