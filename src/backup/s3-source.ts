/**
 * Backups read straight from the bucket Velero writes to, with the S3 API and the configuration
 * of a BackupStorageLocation (velero-plugin-protocol.md section 5). The tarball is streamed: it
 * is never written to disk nor held whole in memory.
 */
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { rootCertificates } from 'node:tls';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { fromIni } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { BackupSource } from './source.js';
import type { S3Credentials } from './aws-credentials.js';
import { StorageLocationError, type StorageLocation } from './storage-location.js';
import { trimSlashes } from '../util/values.js';
import { isObjectName } from '../model/kube.js';

export interface S3SourceOptions {
  /** Bound on connecting, on waiting for an answer, and on a stalled download, in ms; default 30000. */
  timeoutMs?: number;
  /** Tries per request, retries included (the SDK's backoff); default 3. */
  maxAttempts?: number;
  /** Credentials to use instead of the location's credentials file. Hold a secret: never log them. */
  credentials?: S3Credentials | (() => Promise<S3Credentials>);
  /** A shared-credentials INI file that overrides the location's credentialsFile. */
  credentialsFile?: string;
  /** Where AWS_SHARED_CREDENTIALS_FILE is looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export type BackupSourceFailure = 'not-found' | 'access-denied' | 'credentials' | 'network' | 'invalid' | 'failed';

/**
 * A backup object that cannot be read from its bucket. The message names the bucket and key (as
 * an s3:// URL) in plain words, and never holds a secret.
 */
export class BackupSourceError extends Error {
  override readonly name = 'BackupSourceError';

  constructor(
    readonly failure: BackupSourceFailure,
    readonly bucket: string,
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The parts of Velero's Backup custom resource (velero.io/v1) the detector looks at. */
export interface VeleroBackup {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec?: {
    storageLocation?: string;
    includedNamespaces?: string[];
    excludedNamespaces?: string[];
    ttl?: string;
    [field: string]: unknown;
  };
  status?: {
    /** New, InProgress, Completed, PartiallyFailed, Failed, ... */
    phase?: string;
    /** The tarball's layout version, e.g. `1.1.0`. */
    formatVersion?: string;
    version?: number;
    startTimestamp?: string;
    completionTimestamp?: string;
    expiration?: string;
    errors?: number;
    warnings?: number;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** velero-backup.json is a few KiB; anything near this is not a Backup object. */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;
const DEFAULT_REGION = 'us-east-1';

/** `<prefix>/` or '' (Velero's layout: the prefix gets a trailing '/'). */
function prefixPath(location: StorageLocation): string {
  const prefix = trimSlashes(location.prefix ?? '');
  return prefix ? `${prefix}/` : '';
}

/** Key of the resources tarball of backup `name`. */
export function backupTarballKey(location: StorageLocation, name: string): string {
  return `${prefixPath(location)}backups/${name}/${name}.tar.gz`;
}

/** Key of the Backup object (`velero-backup.json`) of backup `name`. */
export function backupMetadataKey(location: StorageLocation, name: string): string {
  return `${prefixPath(location)}backups/${name}/velero-backup.json`;
}

/**
 * The resources tarball of Velero backup `backupName` in the location's bucket:
 * `<prefix>/backups/<name>/<name>.tar.gz`.
 */
export function s3BackupSource(location: StorageLocation, backupName: string, options: S3SourceOptions = {}): BackupSource {
  checkBackupName(location, backupName);
  return s3ObjectSource(location, backupTarballKey(location, backupName), options, backupName);
}

/** Any tarball object in the location's bucket (e.g. a copy outside Velero's layout). */
export function s3ObjectSource(
  location: StorageLocation,
  key: string,
  options: S3SourceOptions = {},
  backupName?: string,
): BackupSource {
  const description = `s3://${location.bucket}/${key}`;
  return {
    description,
    async open(signal?: AbortSignal): Promise<Readable> {
      signal?.throwIfAborted();
      const s3 = connect(location, options);
      const what = backupName ? `backup ${backupName}` : 'backup object';
      let output: GetObjectCommandOutput;
      try {
        output = await s3.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }), signal ? { abortSignal: signal } : {});
      } catch (err) {
        s3.client.destroy();
        if (signal?.aborted) throw signal.reason;
        throw await describeFailure(err, s3, key, what);
      }
      const body = output.Body as Readable | undefined;
      if (!body) {
        s3.client.destroy();
        throw new BackupSourceError('failed', location.bucket, key, `${description}: the S3 endpoint answered without a body`);
      }
      const counted = new CountedBody(output.ContentLength, (detail) =>
        new BackupSourceError('network', location.bucket, key, `reading ${description} from ${s3.endpoint} failed: ${detail}`),
      );
      // A fault mid-download (reset, stall past the timeout) ends the returned stream with an error
      // naming the object, so the reader can report it against this source.
      body.on('error', (err) =>
        counted.destroy(counted.failure(plainNetworkReason(err, s3.timeoutMs) || 'the connection failed')),
      );
      counted.on('close', () => {
        body.destroy();
        s3.client.destroy();
      });
      body.pipe(counted);
      return counted;
    },
  };
}

/** Reads `<prefix>/backups/<name>/velero-backup.json`, the Backup object Velero stored with the tarball. */
export async function readBackupMetadata(
  location: StorageLocation,
  name: string,
  options: S3SourceOptions & { signal?: AbortSignal } = {},
): Promise<VeleroBackup> {
  checkBackupName(location, name);
  const key = backupMetadataKey(location, name);
  const url = `s3://${location.bucket}/${key}`;
  const s3 = connect(location, options);
  try {
    let text: string;
    try {
      const output = await s3.client.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: key }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      if ((output.ContentLength ?? 0) > MAX_METADATA_BYTES) {
        throw new BackupSourceError('invalid', location.bucket, key, `${url}: ${output.ContentLength} bytes is too large for a Backup object`);
      }
      text = (await output.Body?.transformToString('utf8')) ?? '';
    } catch (err) {
      if (err instanceof BackupSourceError) throw err;
      if (options.signal?.aborted) throw options.signal.reason;
      throw await describeFailure(err, s3, key, `metadata of backup ${name}`);
    }
    let backup: unknown;
    try {
      backup = JSON.parse(text);
    } catch {
      throw new BackupSourceError('invalid', location.bucket, key, `${url}: not JSON: not a Velero Backup object`);
    }
    if (typeof backup !== 'object' || backup === null || Array.isArray(backup)) {
      throw new BackupSourceError('invalid', location.bucket, key, `${url}: not a Velero Backup object (expected a JSON object)`);
    }
    const kind = (backup as { kind?: unknown }).kind;
    if (kind !== undefined && kind !== 'Backup') {
      throw new BackupSourceError('invalid', location.bucket, key, `${url}: kind: ${JSON.stringify(kind)} is not Backup`);
    }
    const metadata = (backup as { metadata?: unknown }).metadata;
    if (typeof metadata !== 'object' || metadata === null) {
      throw new BackupSourceError('invalid', location.bucket, key, `${url}: metadata: required`);
    }
    return backup as VeleroBackup;
  } finally {
    s3.client.destroy();
  }
}

/**
 * Names of the backups in the location: the "directories" under `<prefix>/backups/`, as Velero's
 * backup sync lists them, sorted. Follows continuation tokens; `pageSize` is for tests.
 */
export async function listBackups(
  location: StorageLocation,
  options: S3SourceOptions & { signal?: AbortSignal; pageSize?: number } = {},
): Promise<string[]> {
  const prefix = `${prefixPath(location)}backups/`;
  const s3 = connect(location, options);
  // A set: some stores (s3rver among them) repeat a common prefix on the page after it.
  const names = new Set<string>();
  try {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await s3.client.send(
          new ListObjectsV2Command({
            Bucket: location.bucket,
            Prefix: prefix,
            Delimiter: '/',
            ...(token ? { ContinuationToken: token } : {}),
            ...(options.pageSize ? { MaxKeys: options.pageSize } : {}),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        );
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        throw await describeFailure(err, s3, prefix, 'backup list');
      }
      for (const common of page.CommonPrefixes ?? []) {
        const name = common.Prefix?.slice(prefix.length).replace(/\/$/, '');
        if (name) names.add(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.client.destroy();
  }
  return [...names].sort();
}

/** Where an `s3://` backup URL points. */
export interface S3BackupUrl {
  bucket: string;
  /** The tarball's key. */
  key: string;
  /** Set when the key follows Velero's layout `[<prefix>/]backups/<name>/<name>.tar.gz`. */
  backupName?: string;
  /** The location prefix in front of `backups/`, when the key follows Velero's layout. */
  prefix?: string;
}

/**
 * Parses `s3://bucket/[prefix/]backups/NAME/NAME.tar.gz` (or `.../backups/NAME[/]`, which means
 * that backup's tarball). Any other key is taken as a tarball object outside Velero's layout.
 */
export function parseS3BackupUrl(url: string): S3BackupUrl {
  const fail = (detail: string): never => {
    throw new StorageLocationError(url, undefined, detail);
  };
  if (!/^s3:\/\//i.test(url)) fail('not an s3:// URL');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') fail('no bucket: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz');
  if (/[?#]/.test(url)) fail('a query or fragment is not part of an S3 key');
  const key = path.replace(/^\/+/, '');
  if (key === '' || (key.endsWith('/') && !/(^|\/)backups\/[^/]+\/$/.test(key))) {
    fail('no object key: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz');
  }

  const tarball = /^(?:(.+)\/)?backups\/([^/]+)\/([^/]+)\.tar\.gz$/.exec(key);
  if (tarball && tarball[2] === tarball[3]) return velero(bucket, tarball[1], tarball[2]!);
  const directory = /^(?:(.+)\/)?backups\/([^/]+)\/?$/.exec(key);
  if (directory) return velero(bucket, directory[1], directory[2]!);
  return { bucket, key };

  function velero(bucketName: string, prefix: string | undefined, name: string): S3BackupUrl {
    const location: StorageLocation = { bucket: bucketName, ...(prefix ? { prefix } : {}) };
    return { bucket: bucketName, key: backupTarballKey(location, name), backupName: name, ...(prefix ? { prefix: trimSlashes(prefix) } : {}) };
  }
}

/**
 * The storage location for an s3:// URL: bucket and prefix from the URL; endpoint, region and
 * credentials from `base` (a storage-location file) where it sets them, else from the environment
 * (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION,
 * AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE). An endpoint taken from the environment implies
 * path-style addressing, which S3-compatible stores (MinIO and the like) need.
 */
export function storageLocationForUrl(parsed: S3BackupUrl, env: NodeJS.ProcessEnv = process.env, base?: StorageLocation): StorageLocation {
  const location: StorageLocation = { ...base, bucket: parsed.bucket };
  delete location.prefix;
  if (parsed.prefix) location.prefix = parsed.prefix;
  const envEndpoint = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'];
  if (!location.s3Url && envEndpoint) {
    location.s3Url = envEndpoint.replace(/\/+$/, '');
    location.s3ForcePathStyle ??= true;
  }
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'];
  if (!location.region && region) location.region = region;
  if (!location.credentialsFile && env['AWS_SHARED_CREDENTIALS_FILE']) location.credentialsFile = env['AWS_SHARED_CREDENTIALS_FILE'];
  if (!location.profile && env['AWS_PROFILE']) location.profile = env['AWS_PROFILE'];
  return location;
}

/** `detect --backup s3://...`: the source for a URL, configured as storageLocationForUrl says. */
export function s3BackupSourceFromUrl(
  url: string,
  options: S3SourceOptions & { location?: StorageLocation } = {},
): BackupSource {
  const parsed = parseS3BackupUrl(url);
  const location = storageLocationForUrl(parsed, options.env ?? process.env, options.location);
  return parsed.backupName
    ? s3BackupSource(location, parsed.backupName, options)
    : s3ObjectSource(location, parsed.key, options);
}

function checkBackupName(location: StorageLocation, name: string): void {
  // A backup name is a Kubernetes object name: no '/', so it cannot climb out of backups/.
  if (!isObjectName(name)) {
    throw new BackupSourceError('invalid', location.bucket, `${prefixPath(location)}backups/${name}`, `"${name}" is not a Velero backup name (a Kubernetes object name)`);
  }
}

/** One client and what its error messages need to say. */
interface S3Connection {
  client: S3Client;
  location: StorageLocation;
  endpoint: string;
  timeoutMs: number;
  /** E.g. `the credentials of profile default in /credentials/cloud`, for access-denied messages. */
  credentialsDescription: string;
  credentialsFile?: string;
  profile?: string;
}

function connect(location: StorageLocation, options: S3SourceOptions): S3Connection {
  // The SDK warns on stderr at every start that its releases after January 2027 need Node 22; the
  // detector runs on Node 20 with a locked SDK, so the warning is noise in its output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const env = options.env ?? process.env;
  const region = location.region ?? DEFAULT_REGION;
  const endpoint = location.s3Url ?? `https://s3.${region}.amazonaws.com`;

  let credentials: S3ClientConfig['credentials'];
  let credentialsDescription: string;
  let credentialsFile: string | undefined;
  let profile: string | undefined;
  if (options.credentials) {
    credentials = options.credentials;
    credentialsDescription = 'the credentials given to the detector';
  } else if (location.credentialsProvider && !options.credentialsFile) {
    credentials = location.credentialsProvider;
    credentialsDescription = `the credentials in ${location.credentialsOrigin ?? 'the storage location'}`;
  } else {
    credentialsFile = options.credentialsFile ?? location.credentialsFile ?? env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homedir(), '.aws', 'credentials');
    profile = location.profile ?? 'default';
    credentials = fromIni({ filepath: credentialsFile, profile, ignoreCache: true });
    credentialsDescription = `the credentials of profile ${profile} in ${credentialsFile}`;
  }

  // Velero's AWS plugin adds caCert to the system roots, and insecureSkipTLSVerify skips checks.
  const httpsAgent = new https.Agent({
    keepAlive: true,
    rejectUnauthorized: !location.insecureSkipTLSVerify,
    ...(location.caCert ? { ca: [...rootCertificates, location.caCert] } : {}),
  });
  const httpAgent = new http.Agent({ keepAlive: true });
  const client = new S3Client({
    region,
    ...(location.s3Url ? { endpoint: location.s3Url } : {}),
    forcePathStyle: location.s3ForcePathStyle ?? false,
    // Without an endpoint or region the bucket may live elsewhere: follow S3's redirect, as
    // Velero's auto-detection of the bucket region does.
    followRegionRedirects: !location.s3Url && !location.region,
    credentials,
    // S3-compatible stores reject the SDK's default CRC32 checksums (ecosystem-notes F8).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      // Idle bound on the socket, which also covers a download that stalls midway.
      socketTimeout: timeoutMs,
      httpAgent,
      httpsAgent,
    }),
  });
  return {
    client,
    location,
    endpoint,
    timeoutMs,
    credentialsDescription,
    ...(credentialsFile ? { credentialsFile } : {}),
    ...(profile ? { profile } : {}),
  };
}

const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'Forbidden',
  '403',
]);

/** Turns an SDK failure into a BackupSourceError in plain words, without quoting a secret. */
async function describeFailure(err: unknown, s3: S3Connection, key: string, what: string): Promise<BackupSourceError> {
  const { bucket } = s3.location;
  const url = `s3://${bucket}/${key}`;
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.Code ?? e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const make = (failure: BackupSourceFailure, message: string) => new BackupSourceError(failure, bucket, key, message, { cause: err });

  if (code === 'NoSuchBucket') return make('not-found', `${what} not found: bucket ${bucket} does not exist at ${s3.endpoint} (${url})`);
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return make('not-found', `${what} not found: ${url}`);
  if (code === 'CredentialsProviderError' || (err instanceof Error && /credential/i.test(err.name) && status === undefined)) {
    return make('credentials', await credentialsProblem(s3, url));
  }
  if (ACCESS_DENIED_CODES.has(code) || status === 401 || status === 403) {
    return make('access-denied', `access denied to ${url} (${code || `HTTP ${status}`}): check ${s3.credentialsDescription}`);
  }
  if (status === undefined) {
    const reason = plainNetworkReason(err, s3.timeoutMs);
    if (reason) return make('network', `cannot reach S3 endpoint ${s3.endpoint}: ${reason} (reading ${url})`);
  }
  return make('failed', `reading ${url} failed: ${code || 'error'}${status ? ` (HTTP ${status})` : ''}`);
}

async function credentialsProblem(s3: S3Connection, url: string): Promise<string> {
  if (!s3.credentialsFile) return `no usable credentials for ${url}: check ${s3.credentialsDescription}`;
  try {
    await stat(s3.credentialsFile);
  } catch {
    return `no credentials for ${url}: the credentials file ${s3.credentialsFile} does not exist (set credentialsFile or AWS_SHARED_CREDENTIALS_FILE)`;
  }
  return `no credentials for ${url}: ${s3.credentialsFile} has no profile ${s3.profile} with aws_access_key_id and aws_secret_access_key`;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted: set caCert, or insecureSkipTLSVerify',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is not trusted: set caCert, or insecureSkipTLSVerify',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed and not trusted: set caCert, or insecureSkipTLSVerify',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its TLS certificate is not trusted: set caCert, or insecureSkipTLSVerify',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not name this host',
  EPROTO: 'TLS handshake failed (is the endpoint http:// rather than https://?)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed (is the endpoint http:// rather than https://?)',
};

/** A short reason for a transport-level failure, or undefined when it is not one. */
function plainNetworkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return `timed out after ${timeoutMs} ms`;
  if (e.code && NETWORK_REASONS[e.code]) return NETWORK_REASONS[e.code]!;
  if (e.message === 'aborted' || e.code === 'ECONNABORTED') return 'the connection closed before the object was complete';
  if (e.cause && e.cause !== err) return plainNetworkReason(e.cause, timeoutMs);
  return e.code ?? '';
}

/**
 * Passes the body through, counting bytes: a body that ends short of its Content-Length is an
 * error, not a quietly truncated tarball.
 */
class CountedBody extends Transform {
  private bytes = 0;

  constructor(
    private readonly expected: number | undefined,
    readonly failure: (detail: string) => BackupSourceError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      done(this.failure(`the download ended after ${this.bytes} of ${this.expected} bytes`));
    } else {
      done();
    }
  }
}
