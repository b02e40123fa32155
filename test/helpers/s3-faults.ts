/**
 * Object stores that misbehave, on loopback, speaking just enough S3 (path-style, no signature
 * check) for the detector's reads: one that accepts and never answers, one whose objects never
 * end (a tarball of one 8 GiB entry, a velero-backup.json without end), one that closes the
 * connection halfway through the tarball, and endpoints that are no S3 at all: one that answers
 * 404 with a web page to everything, one that answers every request with a 200 web page. Each
 * records what was asked.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';

export type S3Fault = 'hang' | 'huge' | 'midclose' | 'not-found-page' | 'web-page';

export interface S3FaultServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** `METHOD /bucket/key?query` of each request received. */
  requests: string[];
  stop(): Promise<void>;
}

/** The backup every listing names. */
export const FAULT_BACKUP = 'hostile';

/** One tar entry the reader skips (no kind it reads), declared at the largest size a tar header holds. */
const ENDLESS_ENTRY = 'resources/pods/namespaces/default/endless.json';
const MAX_TAR_SIZE = 0o77777777777;
/** Each gzip member holds this many zero bytes of the entry, in a few KiB on the wire. */
const ZEROS_PER_MEMBER = 16 * 1024 * 1024;
/** midclose: the Content-Length promised, and how much of it is sent before the socket closes. */
const PROMISED_BYTES = 4 * 1024 * 1024;

export async function startS3FaultServer(fault: S3Fault): Promise<S3FaultServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (fault === 'hang') return;
    if (fault === 'not-found-page' || fault === 'web-page') return webPage(res, fault === 'web-page' ? 200 : 404);
    const url = new URL(req.url ?? '/', 'http://s3');
    if (url.searchParams.get('list-type') === '2') return answerListing(res, url);
    if (url.pathname.endsWith('/velero-backup.json'))
      return streamEndless(res, Buffer.from('{"status":{"phase":"'), Buffer.alloc(64 * 1024, 'A'));
    if (url.pathname.endsWith('.tar.gz')) {
      return fault === 'huge' ? streamEndless(res, tarballHead(), ZEROS_MEMBER) : closeMidway(res);
    }
    res.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ZEROS_MEMBER = gzipSync(Buffer.alloc(ZEROS_PER_MEMBER));

/** `metadata/version`, then the header of the endless entry, as gzip members (a reader joins them). */
function tarballHead(): Buffer {
  const version = Buffer.concat([tarHeader('metadata/version', 2), pad(Buffer.from('1\n'))]);
  return gzipSync(Buffer.concat([version, tarHeader(ENDLESS_ENTRY, MAX_TAR_SIZE)]));
}

/** 200 with no length: `head`, then `chunk` for as long as the client reads. */
function streamEndless(res: http.ServerResponse, head: Buffer, chunk: Buffer): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  res.write(head);
  const more = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', more);
  more();
}

/** Promises PROMISED_BYTES of tarball, sends half, and closes the connection. */
function closeMidway(res: http.ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': PROMISED_BYTES });
  const body = Buffer.concat([tarballHead(), ZEROS_MEMBER, ZEROS_MEMBER, ZEROS_MEMBER]).subarray(0, PROMISED_BYTES / 2);
  res.write(body, () => setTimeout(() => res.socket?.destroy(), 50));
}

function answerListing(res: http.ServerResponse, url: URL): void {
  const prefix = url.searchParams.get('prefix') ?? '';
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>bucket</Name><Prefix>${prefix}</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>` +
    `<CommonPrefixes><Prefix>${prefix}${FAULT_BACKUP}/</Prefix></CommonPrefixes></ListBucketResult>`;
  res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) }).end(xml);
}

/** What a web server or a login portal answers in place of S3. */
function webPage(res: http.ServerResponse, status: number): void {
  const html = `<!DOCTYPE html><html><head><title>${status === 200 ? 'Welcome' : 'Not Found'}</title></head><body><h1>nginx</h1></body></html>`;
  res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html) }).end(html);
}

function pad(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A ustar header of a regular file. */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) => header.write(value, offset, length, 'ascii');
  const octal = (value: number, digits: number) => value.toString(8).padStart(digits, '0');
  field(0, 100, name);
  field(100, 8, `${octal(0o644, 7)}\0`);
  field(108, 8, `${octal(0, 7)}\0`);
  field(116, 8, `${octal(0, 7)}\0`);
  field(124, 12, `${octal(size, 11)}\0`);
  field(136, 12, `${octal(0, 11)}\0`);
  field(148, 8, ' '.repeat(8));
  field(156, 1, '0');
  field(257, 8, 'ustar\x0000');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${octal(sum, 6)}\0 `);
  return header;
}
