/**
 * What an S3 read failure means, in plain words: not found, access denied, no usable credentials,
 * the endpoint unreachable, or a failure of the store. Messages name the object as an s3:// URL
 * and never quote a secret.
 */
import { stat } from 'node:fs/promises';
import { redacted } from '../util/redact.js';
import { BackupSourceError, type BackupSourceFailure } from '../backup/errors.js';
import type { S3Connection } from './s3-client.js';

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

/** Turns an SDK failure into a BackupSourceError; `what` names the object (`backup daily-1`). */
export async function describeS3Failure(err: unknown, s3: S3Connection, key: string, what: string): Promise<BackupSourceError> {
  const { bucket } = s3.location;
  const url = `s3://${bucket}/${key}`;
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  // The store's error code is its words, bounded and redacted like any answer quoted in a message.
  const code = redacted(String(e.Code ?? e.name ?? ''), { max: 80 });
  const status = e.$metadata?.httpStatusCode;
  const make = (failure: BackupSourceFailure, message: string) => new BackupSourceError(failure, bucket, key, message, { cause: err });

  if (code === 'NoSuchBucket')
    return make(
      'no-bucket',
      `bucket ${bucket} does not exist at ${s3.endpoint}: check the storage location's bucket (reading ${what}, ${url})`,
    );
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

/** A read its deadline stopped: the tries together, or the download, took too long. */
export function deadlineFailure(s3: S3Connection, key: string): BackupSourceError {
  const { bucket } = s3.location;
  return new BackupSourceError(
    'network',
    bucket,
    key,
    `reading s3://${bucket}/${key} from ${s3.endpoint} did not finish within ${s3.deadlineMs / 1000} s ` +
      `(the bound on one whole read; each try is bounded by ${s3.timeoutMs / 1000} s)`,
  );
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

const UNTRUSTED = 'its TLS certificate is not trusted: set caCert, or insecureSkipTLSVerify';
const NOT_TLS = 'TLS handshake failed (is the endpoint http:// rather than https://?)';

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNTRUSTED,
  SELF_SIGNED_CERT_IN_CHAIN: UNTRUSTED,
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed and not trusted: set caCert, or insecureSkipTLSVerify',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNTRUSTED,
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate does not name this host',
  EPROTO: NOT_TLS,
  ERR_SSL_WRONG_VERSION_NUMBER: NOT_TLS,
};

/** A short reason for a transport-level failure, or '' when it is not one. */
export function plainNetworkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return `timed out after ${timeoutMs} ms`;
  if (e.code && NETWORK_REASONS[e.code]) return NETWORK_REASONS[e.code]!;
  if (e.message === 'aborted' || e.code === 'ECONNABORTED') return 'the connection closed before the object was complete';
  if (e.cause && e.cause !== err) return plainNetworkReason(e.cause, timeoutMs);
  return e.code ?? '';
}
