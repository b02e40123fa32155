/**
 * One S3 client for one read, configured as Velero's AWS plugin reads a BackupStorageLocation:
 * endpoint and addressing, the CA and TLS verification, credentials (given, from the BSL's Secret,
 * or from a shared-credentials file), and bounds on connecting, answering and stalling.
 */
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fromIni } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DEFAULTS } from '../config/defaults.js';
import type { S3Credentials } from './aws-credentials.js';
import type { StorageLocation } from './storage-location.js';

export interface S3SourceOptions {
  /** Bound on each try of a request (connecting, the answer, a stalled download), in ms; default DEFAULTS.storage.requestTimeoutMs. */
  timeoutMs?: number;
  /** Bound on one whole read (every try, the download), in ms; default DEFAULTS.storage.deadlineMs. */
  deadlineMs?: number;
  /** Tries per request, retries included (the SDK's backoff); default 3. */
  maxAttempts?: number;
  /** Credentials to use instead of the location's credentials file. Hold a secret: never log them. */
  credentials?: S3Credentials | (() => Promise<S3Credentials>);
  /** A shared-credentials INI file that overrides the location's credentialsFile. */
  credentialsFile?: string;
  /** Where AWS_SHARED_CREDENTIALS_FILE is looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** One client and what its error messages need to say. */
export interface S3Connection {
  client: S3Client;
  location: StorageLocation;
  endpoint: string;
  timeoutMs: number;
  deadlineMs: number;
  /** E.g. `the credentials of profile default in /credentials/cloud`, for access-denied messages. */
  credentialsDescription: string;
  credentialsFile?: string;
  profile?: string;
}

const DEFAULT_DEADLINE_MS = DEFAULTS.storage.deadlineMs;
const DEFAULT_MAX_ATTEMPTS = DEFAULTS.storage.maxAttempts;
const DEFAULT_REGION = DEFAULTS.storage.region;

type CredentialsChoice = Pick<S3Connection, 'credentialsDescription' | 'credentialsFile' | 'profile'> & {
  credentials: S3ClientConfig['credentials'];
};

/** Given credentials first, then the BSL's Secret (unless a file is given), then the INI file. */
function chooseCredentials(location: StorageLocation, options: S3SourceOptions): CredentialsChoice {
  if (options.credentials) {
    return { credentials: options.credentials, credentialsDescription: 'the credentials given to the detector' };
  }
  if (location.credentialsProvider && !options.credentialsFile) {
    return {
      credentials: location.credentialsProvider,
      credentialsDescription: `the credentials in ${location.credentialsOrigin ?? 'the storage location'}`,
    };
  }
  const env = options.env ?? process.env;
  const credentialsFile =
    options.credentialsFile ?? location.credentialsFile ?? env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(homedir(), '.aws', 'credentials');
  const profile = location.profile ?? 'default';
  return {
    credentials: fromIni({ filepath: credentialsFile, profile, ignoreCache: true }),
    credentialsDescription: `the credentials of profile ${profile} in ${credentialsFile}`,
    credentialsFile,
    profile,
  };
}

export function connectS3(location: StorageLocation, options: S3SourceOptions): S3Connection {
  // The SDK warns on stderr at every start that its releases after January 2027 need Node 22; the
  // detector runs on Node 20 with a locked SDK, so the warning is noise in its output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const timeoutMs = options.timeoutMs ?? DEFAULTS.storage.requestTimeoutMs;
  const region = location.region ?? DEFAULT_REGION;
  const endpoint = location.s3Url ?? `https://s3.${region}.amazonaws.com`;
  const { credentials, ...described } = chooseCredentials(location, options);
  const client = new S3Client({
    region,
    ...(location.s3Url ? { endpoint: location.s3Url } : {}),
    forcePathStyle: location.s3ForcePathStyle ?? false,
    // Without an endpoint or region the bucket may live elsewhere: follow S3's redirect, as
    // Velero's auto-detection of the bucket region does.
    followRegionRedirects: !location.s3Url && !location.region,
    credentials,
    // S3-compatible stores reject the SDK's default CRC32 checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    requestHandler: requestHandler(location, timeoutMs),
  });
  return { client, location, endpoint, timeoutMs, deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS, ...described };
}

/** The bound of one read: the caller's signal, or the connection's deadline, whichever comes first. */
export interface ReadDeadline {
  signal: AbortSignal;
  /** True once the deadline, not the caller, ended the read. */
  expired(): boolean;
  clear(): void;
}

export function readDeadline(s3: S3Connection, caller?: AbortSignal): ReadDeadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new Error(`the read did not finish within ${s3.deadlineMs} ms`));
  }, s3.deadlineMs);
  timer.unref();
  const onAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onAbort();
  else caller?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    expired: () => expired,
    clear: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    },
  };
}

function requestHandler(location: StorageLocation, timeoutMs: number): NodeHttpHandler {
  // Velero's AWS plugin adds caCert to the system roots, and insecureSkipTLSVerify skips checks.
  const httpsAgent = new https.Agent({
    keepAlive: true,
    rejectUnauthorized: !location.insecureSkipTLSVerify,
    ...(location.caCert ? { ca: [...rootCertificates, location.caCert] } : {}),
  });
  return new NodeHttpHandler({
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    throwOnRequestTimeout: true,
    // Idle bound on the socket, which also covers a download that stalls midway.
    socketTimeout: timeoutMs,
    httpAgent: new http.Agent({ keepAlive: true }),
    httpsAgent,
  });
}
