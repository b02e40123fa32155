/**
 * The checks every field of a storage location goes through, in a BSL manifest, a flat location
 * file or a BSL read from a cluster. Each failure names the key; values are quoted only where they
 * cannot be secret (a bucket, a URL without credentials, a boolean's spelling).
 */
import { isMap, trimSlashes } from '../util/values.js';

/** Throws a StorageLocationError for `key` (undefined: the whole input). */
export type Fail = (key: string | undefined, detail: string) => never;

/**
 * A reference to a key of a Secret in the BSL's namespace (spec.credential, caCertRef). Only a
 * BSL read from a cluster can follow it.
 */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** Velero refuses a bucket with '/' inside, except an S3 access-point ARN. */
export function checkBucket(raw: string, key: string, fail: Fail): string {
  const bucket = trimSlashes(raw.trim());
  if (bucket === '') fail(key, 'required');
  if (bucket.includes('/') && !bucket.startsWith('arn:aws:s3:')) {
    fail(key, `"${bucket}" contains '/': put the path part in the prefix`);
  }
  return bucket;
}

export function checkUrl(raw: string, key: string, fail: Fail): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(key, `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(key, `"${raw}" is not an http:// or https:// URL`);
  if (url.username || url.password) fail(key, 'must not hold credentials: use the credentials file');
  return raw.replace(/\/+$/, '');
}

export function decodeCaCert(base64: string, key: string, fail: Fail): string {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) fail(key, 'is not base64');
  return checkPem(Buffer.from(compact, 'base64').toString('utf8'), key, fail);
}

export function checkPem(pem: string, key: string, fail: Fail): string {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
    fail(key, 'does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  return pem;
}

export function secretKeyRef(map: Record<string, unknown>, key: string, fail: Fail): SecretKeyRef {
  const name = optionalString(map, 'name', `${key}.name`, fail) ?? fail(`${key}.name`, 'required');
  const secretKey = optionalString(map, 'key', `${key}.key`, fail) ?? fail(`${key}.key`, 'required');
  return { name, key: secretKey };
}

export function optionalMap(parent: Record<string, unknown>, field: string, key: string, fail: Fail): Record<string, unknown> | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) return fail(key, 'must be a mapping');
  return value;
}

/** A string field; empty counts as absent. `bools` lets a YAML boolean through as its text. */
export function optionalString(parent: Record<string, unknown>, field: string, key: string, fail: Fail, bools = false): string | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (bools && typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return fail(key, 'must be a string');
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Go's strconv.ParseBool spellings, which the AWS plugin uses for its bool-valued config. */
const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function optionalBool(parent: Record<string, unknown>, field: string, key: string, fail: Fail): boolean | undefined {
  const value = parent[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (TRUE_WORDS.has(value.trim())) return true;
    if (FALSE_WORDS.has(value.trim())) return false;
  }
  return fail(key, `${JSON.stringify(value)} is not "true" or "false"`);
}
