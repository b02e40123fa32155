/**
 * The webhook's listener against clients that would hold it (docs/restore-gate.md §9), with
 * `drift-detector serve` as a process and raw TLS sockets as the clients: 400 clients stalling
 * halfway through their bodies, a client trickling its headers (slowloris), a body declared too
 * large, a chunked body that never stops. The service's peak RSS is read from outside.
 */
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, type TLSSocket } from 'node:tls';
import { makePki, type Pki } from '../grpc/pki.js';
import { watchPeakRss } from '../helpers/peak-rss.js';
import { tempDir } from '../helpers/scenario.js';
import { admissionReview, post, responseOf, restoreObject, spawnServe } from './helpers.js';

const STALLERS = 400;
/** What each staller sends of the 900 KB it declares before it stops. */
const STALLED_AT = 200 * 1024;
/** Peak RSS of serve with the stallers connected: its own start (~100 MiB) and a bounded share of their bodies. */
const RSS_BOUND_MIB = 256;

let pki: Pki;
let ca: Buffer;
let port: number;
let child: ChildProcess;
let rss: ReturnType<typeof watchPeakRss>;

test.before(async () => {
  pki = await makePki();
  ca = await readFile(pki.caCert);
  const dir = await tempDir('drift-slow-clients-');
  const served = await spawnServe(
    dir,
    [
      'listen: 127.0.0.1:0',
      // A store on a closed port: a review is answered at once (denied, naming the location), without S3.
      'storageLocations: [{ name: default, bucket: velero, s3Url: "http://127.0.0.1:1", s3ForcePathStyle: true, region: us-east-1 }]',
      'analysis: { skipAccessApiServer: true }',
      `webhook: { listen: 127.0.0.1:0, tls: { certFile: ${pki.serverCert}, keyFile: ${pki.serverKey} }, deadline: 20s }`,
    ],
    { AWS_ACCESS_KEY_ID: 'AKIATEST', AWS_SECRET_ACCESS_KEY: 'test-secret' },
  );
  child = served.child;
  port = served.port;
  rss = watchPeakRss(child);
});

test.after.always(async () => {
  rss?.stop();
  child?.kill('SIGKILL');
  await pki?.remove();
});

/** A TLS connection that trusts only the test CA; `closed` settles when the server (or anyone) ends it. */
async function open(): Promise<{ socket: TLSSocket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port, ca });
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('close', () => reject(new Error('closed before the handshake')));
  });
  return { socket, received: () => text, closed };
}

function drainedOrClosed(socket: TLSSocket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

const head = (headers: string) => `POST /validate/restores HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\n${headers}\r\n`;

const review = () => admissionReview(restoreObject({ backupName: 'b1' }));

test.serial(
  '400 clients stalling mid-body cost a bounded amount of memory; a normal review is still answered; the stalled are cut off',
  async (t) => {
    const before = rss.peak();
    const stallers = await Promise.all(
      Array.from({ length: STALLERS }, async () => {
        const c = await open();
        c.socket.write(head('Content-Length: 900000\r\n'));
        c.socket.write(Buffer.alloc(STALLED_AT, 'x'));
        return c;
      }),
    );
    // Every staller's bytes have reached serve: a review sent now queues behind none of them.
    const answer = responseOf(await post(port, ca, review()));
    t.false(answer.allowed);
    t.regex(answer.status!.message, /^drift-detector: backup b1 could not be analysed: storage location default: /);
    const refused = stallers.filter((c) => /^HTTP\/1\.1 503/.test(c.received())).length;
    t.log(
      `serve peak RSS: ${before} MiB before, ${rss.peak()} MiB with ${STALLERS} stallers of ${STALLED_AT / 1024} KiB (${refused} refused with 503)`,
    );
    t.true(rss.peak() < RSS_BOUND_MIB, `peak RSS ${rss.peak()} MiB`);
    // The shared budget refuses the large bodies it cannot hold, rather than holding them all.
    t.true(refused > 0);
    // The request timeout (deadline + 2 s) ends every one that is left.
    await Promise.all(stallers.map((c) => c.closed));
    t.pass();
  },
);

test.serial('a client trickling its headers is cut off by the headers timeout', async (t) => {
  const c = await open();
  c.socket.write('POST /validate/restores HTTP/1.1\r\n');
  const trickle = setInterval(() => c.socket.writable && c.socket.write('X-Slow: a\r\n'), 500);
  await c.closed;
  clearInterval(trickle);
  t.notRegex(c.received(), /^HTTP\/1\.1 200/);
});

test.serial('a body declared over 1 MiB is refused with 413 before any of it is sent; a chunked one is cut at 1 MiB', async (t) => {
  const declared = await open();
  declared.socket.write(head(`Content-Length: ${2 * 1024 * 1024}\r\n`));
  await declared.closed;
  t.regex(declared.received(), /^HTTP\/1\.1 413 [^\r]*\r\n[\s\S]*larger than 1048576 bytes/);

  const chunked = await open();
  chunked.socket.write(head('Transfer-Encoding: chunked\r\n'));
  const chunk = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  // Sends for as long as the connection takes it (at the pace it reads): the server answers and ends
  // it once the body passes the bound, while this client would go on (to 64 MiB).
  while (!chunked.socket.destroyed && chunked.received() === '' && sent < 1024 * chunk.length) {
    const more = chunked.socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    sent += chunk.length;
    // Not events.once: a write the server no longer reads ends in EPIPE, which is the point, not a failure.
    if (!more) await drainedOrClosed(chunked.socket);
  }
  await chunked.closed;
  t.regex(chunked.received(), /^HTTP\/1\.1 413 [^\r]*\r\n[\s\S]*larger than 1048576 bytes/);
  t.log(`the chunked client had sent ${Math.round(sent / 1024)} KiB when it was cut off`);
  // Still serving.
  t.false(responseOf(await post(port, ca, review())).allowed);
});
