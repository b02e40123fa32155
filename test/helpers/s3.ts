/**
 * A real S3 protocol server for tests: s3rver 3.7.1 (path-style, 127.0.0.1, a temporary
 * directory removed on stop), holding backups laid out exactly as Velero writes them.
 *
 * s3rver does not verify SigV4 signatures: its authentication middleware only looks the access
 * key up ("Signature version 4 calculation is unimplemented"), and `allowMismatchedSignatures`
 * applies to SigV2 alone. So a front in this helper verifies every request's SigV4 signature
 * against the one key pair it issues, and answers 403 InvalidAccessKeyId / SignatureDoesNotMatch /
 * AccessDenied as S3 does, before s3rver sees the request. A wrong secret is really refused.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { requireIntegrationLane } from './lane.js';
import { selfSignedCertificate } from './tls.js';

const require = createRequire(import.meta.url);

/** The part of s3rver's (untyped) API this helper uses. */
interface S3rverApp {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  store: {
    getBucket(bucket: string): Promise<unknown>;
    listObjects(
      bucket: string,
      options: { prefix?: string },
    ): Promise<{ objects: { key: string; size: number; lastModifiedDate: Date; metadata: { etag?: string } }[] }>;
  };
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverApp;

export interface S3Options {
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (its PEM is `caCert`). */
  tls?: boolean;
  /** Profile name of the key pair in the credentials file; default `default`. */
  profile?: string;
}

/** One request the server received; refused ones have status 403. */
export interface S3RequestLog {
  method: string;
  bucket?: string;
  key?: string;
  /** The raw query string, e.g. `list-type=2&prefix=...`. */
  query: string;
  status?: number;
  /** Response body bytes written so far (grows while a download runs). */
  bytesSent: number;
}

/** How to break the next download of a key: cut the connection or stop sending. */
export interface DownloadFault {
  afterBytes: number;
  mode: 'reset' | 'stall';
  /**
   * Break every download of the object, not only the next one: a client's retry (after a request
   * that timed out on a slow machine before the fault was even reached) meets the fault too.
   */
  always?: boolean;
}

export interface S3Server {
  /** `http://127.0.0.1:PORT` (or https://). */
  endpoint: string;
  accessKeyId: string;
  /** A secret: tests use it to check that no message quotes it. */
  secretAccessKey: string;
  /** AWS shared-credentials INI file with the key pair under `profile`, like Velero's cloud-credentials. */
  credentialsFile: string;
  profile: string;
  /** PEM of the server certificate, when started with `tls`. */
  caCert?: string;
  createBucket(bucket: string): Promise<void>;
  putObject(bucket: string, key: string, body: Buffer | string): Promise<void>;
  /**
   * Lays out backup `name` as Velero does: `<prefix>/backups/<name>/<name>.tar.gz`,
   * `velero-backup.json` and `<name>-logs.gz`. `backupJson` defaults to a Completed Backup.
   */
  putBackup(bucket: string, prefix: string, name: string, tarballPath: string, backupJson?: object): Promise<void>;
  /** Break the next GET of `bucket/key`. */
  breakDownload(bucket: string, key: string, fault: DownloadFault): void;
  requests: S3RequestLog[];
  stop(): Promise<void>;
}

export async function startS3(options: S3Options = {}): Promise<S3Server> {
  requireIntegrationLane('s3rver');
  // The SDK's notice that its 2027 releases need Node 22 is noise in test output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const profile = options.profile ?? 'default';
  // resetOnClose only applies to s3rver's own listener; stop() removes the whole directory instead.
  const s3rver = new S3rver({ directory: join(directory, 'store'), silent: true, vhostBuckets: false });
  const s3rverHandler = s3rver.callback();

  const requests: S3RequestLog[] = [];
  const faults = new Map<string, DownloadFault>();
  const sockets = new Set<Socket>();

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://s3');
    const [, bucket, ...keyParts] = url.pathname.split('/').map(decodeURIComponent);
    const key = keyParts.join('/');
    const entry: S3RequestLog = {
      method: req.method ?? 'GET',
      ...(bucket ? { bucket } : {}),
      ...(key ? { key } : {}),
      query: url.search.replace(/^\?/, ''),
      bytesSent: 0,
    };
    requests.push(entry);
    const denial = checkSignature(req, accessKeyId, secretAccessKey);
    if (denial) {
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${denial.code}</Code><Message>${denial.message}</Message></Error>`;
      entry.status = 403;
      res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) }).end(body);
      return;
    }
    // Verified: s3rver serves the request as anonymous, so it never judges the signature itself.
    delete req.headers['authorization'];
    if (entry.method === 'GET' && bucket && !key && url.searchParams.get('list-type') === '2') {
      listObjectsV2(s3rver, bucket, url.searchParams).then(
        ({ status, xml }) => {
          entry.status = status;
          entry.bytesSent = Buffer.byteLength(xml);
          res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) }).end(xml);
        },
        (err: unknown) => res.destroy(err as Error),
      );
      return;
    }
    const fault = entry.method === 'GET' && entry.key !== undefined ? faults.get(`${bucket}/${entry.key}`) : undefined;
    if (fault && !fault.always) faults.delete(`${bucket}/${entry.key}`);
    countAndBreak(res, entry, fault);
    res.on('finish', () => (entry.status = res.statusCode));
    s3rverHandler(req, res);
  };

  let caCert: string | undefined;
  let server: http.Server;
  if (options.tls) {
    const tlsMaterial = await selfSignedCertificate({ commonName: 's3-test', days: 2 });
    caCert = tlsMaterial.cert;
    server = https.createServer({ key: tlsMaterial.key, cert: tlsMaterial.cert }, handler);
  } else {
    server = http.createServer(handler);
  }
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const credentialsFile = join(directory, 'cloud');
  await writeFile(credentialsFile, `[${profile}]\naws_access_key_id=${accessKeyId}\naws_secret_access_key=${secretAccessKey}\n`, {
    mode: 0o600,
  });
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.tls ? { requestHandler: { httpsAgent: new https.Agent({ ca: caCert }) } } : {}),
  });
  const buckets = new Set<string>();

  const createBucket = async (bucket: string) => {
    if (buckets.has(bucket)) return;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    buckets.add(bucket);
  };
  const putObject = async (bucket: string, key: string, body: Buffer | string) => {
    await createBucket(bucket);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };

  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    credentialsFile,
    profile,
    ...(caCert ? { caCert } : {}),
    requests,
    createBucket,
    putObject,
    async putBackup(bucket, prefix, name, tarballPath, backupJson) {
      const dir = `${prefix.replace(/^\/+|\/+$/g, '')}${prefix.replace(/^\/+|\/+$/g, '') ? '/' : ''}backups/${name}/`;
      await putObject(bucket, `${dir}${name}.tar.gz`, await readFile(tarballPath));
      await putObject(bucket, `${dir}velero-backup.json`, JSON.stringify(backupJson ?? completedBackup(name), null, 2));
      await putObject(
        bucket,
        `${dir}${name}-logs.gz`,
        gzipSync(`time="2024-05-01T10:00:00Z" level=info msg="Backup completed" backup=velero/${name}\n`),
      );
    },
    breakDownload(bucket, key, fault) {
      faults.set(`${bucket}/${key}`, fault);
    },
    async stop() {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A Backup object as Velero stores it in velero-backup.json (pretty JSON, status Completed). */
/** The `storageLocations:` lines of a service configuration naming this server's bucket as the location `default`. */
export function storageLocationYaml(s3: S3Server, bucket = 'velero', prefix = 'tkg'): string[] {
  return [
    'storageLocations:',
    '  - name: default',
    `    bucket: ${bucket}`,
    `    prefix: ${prefix}`,
    `    s3Url: ${s3.endpoint}`,
    '    s3ForcePathStyle: true',
    '    region: us-east-1',
    `    credentialsFile: ${s3.credentialsFile}`,
  ];
}

export function completedBackup(name: string, overrides: { phase?: string; storageLocation?: string } = {}): object {
  return {
    kind: 'Backup',
    apiVersion: 'velero.io/v1',
    metadata: {
      name,
      namespace: 'velero',
      uid: '7d2b3f0e-4c1a-4e8b-9b61-0a1c2d3e4f50',
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { 'velero.io/storage-location': overrides.storageLocation ?? 'default' },
    },
    spec: {
      includedNamespaces: ['*'],
      storageLocation: overrides.storageLocation ?? 'default',
      ttl: '720h0m0s',
    },
    status: {
      version: 1,
      formatVersion: '1.1.0',
      expiration: '2024-05-31T10:00:00Z',
      phase: overrides.phase ?? 'Completed',
      startTimestamp: '2024-05-01T10:00:00Z',
      completionTimestamp: '2024-05-01T10:01:00Z',
      progress: { totalItems: 120, itemsBackedUp: 120 },
    },
  };
}

/**
 * ListObjectsV2, answered from s3rver's store: s3rver's own continuation tokens are DES-encrypted,
 * which Node 20's OpenSSL 3 refuses (a 500 on every truncated page), and its max-keys counts keys
 * but not common prefixes. This counts both together and pages with an opaque token, as S3 does.
 */
async function listObjectsV2(s3rver: S3rverApp, bucket: string, query: URLSearchParams): Promise<{ status: number; xml: string }> {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (!(await s3rver.store.getBucket(bucket))) {
    return {
      status: 404,
      xml: `${head}<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>${xmlText(bucket)}</BucketName></Error>`,
    };
  }
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Number(query.get('max-keys') ?? 1000));
  const token = query.get('continuation-token');
  const after = token ? Buffer.from(token, 'base64url').toString('utf8') : (query.get('start-after') ?? '');

  const { objects } = await s3rver.store.listObjects(bucket, { prefix });
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  type Entry = { prefix: string } | { object: (typeof objects)[number] };
  const entries: Entry[] = [];
  for (const object of objects) {
    const cut = delimiter ? object.key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) {
      const common = object.key.slice(0, cut + delimiter.length);
      const last = entries[entries.length - 1];
      if (!(last && 'prefix' in last && last.prefix === common)) entries.push({ prefix: common });
    } else {
      entries.push({ object });
    }
  }
  const name = (entry: Entry) => ('prefix' in entry ? entry.prefix : entry.object.key);
  const remaining = entries.filter((entry) => !after || name(entry) > after);
  const page = remaining.slice(0, maxKeys);
  const truncated = remaining.length > page.length;
  const next = truncated ? Buffer.from(name(page[page.length - 1]!), 'utf8').toString('base64url') : undefined;
  const contents = page
    .filter((entry): entry is { object: (typeof objects)[number] } => 'object' in entry)
    .map(
      ({ object }) =>
        `<Contents><Key>${xmlText(object.key)}</Key><LastModified>${object.lastModifiedDate.toISOString()}</LastModified>` +
        `<ETag>${xmlText(object.metadata.etag ?? '')}</ETag><Size>${object.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    );
  const prefixes = page
    .filter((entry): entry is { prefix: string } => 'prefix' in entry)
    .map((entry) => `<CommonPrefixes><Prefix>${xmlText(entry.prefix)}</Prefix></CommonPrefixes>`);
  const xml =
    `${head}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Name>${xmlText(bucket)}</Name><Prefix>${xmlText(prefix)}</Prefix>` +
    (delimiter ? `<Delimiter>${xmlText(delimiter)}</Delimiter>` : '') +
    `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>` +
    (token ? `<ContinuationToken>${xmlText(token)}</ContinuationToken>` : '') +
    (next ? `<NextContinuationToken>${next}</NextContinuationToken>` : '') +
    contents.join('') +
    prefixes.join('') +
    '</ListBucketResult>';
  return { status: 200, xml };
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Counts body bytes into the log entry; with a fault, cuts or stalls the body after `afterBytes`. */
function countAndBreak(res: ServerResponse, entry: S3RequestLog, fault: DownloadFault | undefined): void {
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  let broken = false;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (broken) return true;
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Buffer).length;
    if (fault && entry.bytesSent + size > fault.afterBytes) {
      const keep = fault.afterBytes - entry.bytesSent;
      broken = true;
      if (keep > 0) {
        write(Buffer.from(chunk as Buffer).subarray(0, keep));
        entry.bytesSent += keep;
      }
      if (fault.mode === 'reset') setImmediate(() => res.socket?.destroy());
      return true;
    }
    entry.bytesSent += size;
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  res.end = ((...args: unknown[]) => {
    if (broken) return res;
    const chunk = args[0];
    if (chunk && typeof chunk !== 'function') {
      res.write(chunk);
      if (broken) return res;
      return end(...args.slice(1));
    }
    return end(...args);
  }) as ServerResponse['end'];
}

/** Checks an AWS SigV4 Authorization header; undefined when it is valid. */
function checkSignature(req: IncomingMessage, accessKeyId: string, secretAccessKey: string): { code: string; message: string } | undefined {
  const authorization = req.headers['authorization'];
  if (!authorization) return { code: 'AccessDenied', message: 'Anonymous access is not allowed' };
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return { code: 'AccessDenied', message: 'Only AWS4-HMAC-SHA256 header signatures are accepted' };
  const [, keyId, date, region, service, signedHeaderList, signature] = match as unknown as string[];
  if (keyId !== accessKeyId) {
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const url = new URL(req.url ?? '/', 'http://s3');
  const signedHeaders = signedHeaderList!.split(';');
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = req.headers[name];
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaderList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    String(req.headers['x-amz-date'] ?? ''),
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  let signingKey: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(date!).digest();
  for (const part of [region!, service!, 'aws4_request']) signingKey = createHmac('sha256', signingKey).update(part).digest();
  const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
  if (expected !== signature) {
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return undefined;
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
