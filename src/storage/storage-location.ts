/**
 * Where Velero keeps its backups: a bucket of an S3-compatible object store, configured the way a
 * Velero BackupStorageLocation (BSL) with the AWS object-store plugin is (docs/velero-facts.md).
 * Parsed here from a BSL manifest or a flat YAML file; storage-location-cluster.ts reads the BSL
 * object of a live cluster, aws-credentials.ts the credentials it names.
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseYamlText } from '../config/values.js';
import { isMap, trimSlashes } from '../util/values.js';
import { StorageLocationError } from './errors.js';
import type { S3Credentials } from './aws-credentials.js';
import {
  checkBucket,
  checkPem,
  checkUrl,
  decodeCaCert,
  optionalBool,
  optionalMap,
  optionalString,
  secretKeyRef,
  type Fail,
  type SecretKeyRef,
} from './storage-location-fields.js';
import { readTextOr } from '../util/files.js';

export interface StorageLocation {
  /** The BSL's name, for messages. */
  name?: string;
  /** Without leading or trailing '/'. */
  bucket: string;
  /** Without leading or trailing '/'; backups live under `<prefix>/backups/`. */
  prefix?: string;
  region?: string;
  /** The S3 endpoint, e.g. `http://minio.velero.svc:9000`; absent: AWS. */
  s3Url?: string;
  s3ForcePathStyle?: boolean;
  insecureSkipTLSVerify?: boolean;
  /** PEM of the CA certificate(s) the endpoint's certificate chains to. */
  caCert?: string;
  /** Profile in the shared-credentials file; default `default`. */
  profile?: string;
  /** AWS shared-credentials INI file (Velero's `cloud-credentials` Secret, key `cloud`). */
  credentialsFile?: string;
  /**
   * Credentials that come from the BSL's `spec.credential` Secret when it was read from a cluster.
   * A function so that the secret never ends up in a serialized or printed location.
   */
  credentialsProvider?: () => Promise<S3Credentials>;
  /** Where credentialsProvider reads from, e.g. `Secret velero/bsl-credentials key cloud`. */
  credentialsOrigin?: string;
}

// Defined with the other backup errors: code that only classifies failures need not load the YAML parser.

/** What a BSL says, before references to Secrets are followed. */
export interface ParsedBsl {
  location: StorageLocation;
  caCertRef?: SecretKeyRef;
  credential?: SecretKeyRef;
}

/** The object-store plugins whose config keys (and S3 API) this module understands. */
const AWS_PROVIDERS = new Set(['aws', 'velero.io/aws']);

/** Keys of the flat storage-location file, i.e. the fields of StorageLocation. */
export const FLAT_KEYS = [
  'name',
  'bucket',
  'prefix',
  'region',
  's3Url',
  's3ForcePathStyle',
  'insecureSkipTLSVerify',
  'caCert',
  'profile',
  'credentialsFile',
] as const;

function failFor(origin: string): Fail {
  return (key, detail) => {
    throw new StorageLocationError(origin, key, detail);
  };
}

/**
 * Reads a `velero.io/v1 BackupStorageLocation` object (parsed JSON or YAML). `origin` names the
 * file or object in errors. Secret references are returned, not followed.
 */
export function parseBackupStorageLocation(bsl: unknown, origin: string): ParsedBsl {
  const fail = failFor(origin);
  const { metadata, spec, objectStorage, config } = bslSections(bsl, fail);
  const bucket = optionalString(objectStorage, 'bucket', 'spec.objectStorage.bucket', fail) ?? fail('spec.objectStorage.bucket', 'required');
  const location: StorageLocation = { bucket: checkBucket(bucket, 'spec.objectStorage.bucket', fail) };
  const name = metadata ? optionalString(metadata, 'name', 'metadata.name', fail) : undefined;
  if (name) location.name = name;
  const prefix = trimSlashes(optionalString(objectStorage, 'prefix', 'spec.objectStorage.prefix', fail) ?? '');
  if (prefix) location.prefix = prefix;
  const caCertBase64 = optionalString(objectStorage, 'caCert', 'spec.objectStorage.caCert', fail);
  if (caCertBase64) location.caCert = decodeCaCert(caCertBase64, 'spec.objectStorage.caCert', fail);
  applyBslConfig(config, location, fail);

  const parsed: ParsedBsl = { location };
  const caCertRef = optionalMap(objectStorage, 'caCertRef', 'spec.objectStorage.caCertRef', fail);
  if (caCertRef) parsed.caCertRef = secretKeyRef(caCertRef, 'spec.objectStorage.caCertRef', fail);
  const credential = optionalMap(spec, 'credential', 'spec.credential', fail);
  if (credential) parsed.credential = secretKeyRef(credential, 'spec.credential', fail);
  return parsed;
}

type Section = Record<string, unknown>;

/** The parts of a BSL this module reads, with kind, apiVersion and provider checked. */
function bslSections(bsl: unknown, fail: Fail): { metadata?: Section; spec: Section; objectStorage: Section; config: Section } {
  if (!isMap(bsl)) fail(undefined, 'not a BackupStorageLocation object (expected a mapping)');
  const root = bsl as Section;
  if (root['kind'] !== undefined && root['kind'] !== 'BackupStorageLocation') {
    fail('kind', `${JSON.stringify(root['kind'])} is not BackupStorageLocation`);
  }
  if (root['apiVersion'] !== undefined && root['apiVersion'] !== 'velero.io/v1') {
    fail('apiVersion', `${JSON.stringify(root['apiVersion'])} is not velero.io/v1`);
  }
  const metadata = optionalMap(root, 'metadata', 'metadata', fail);
  const spec = optionalMap(root, 'spec', 'spec', fail) ?? fail('spec', 'required');
  const provider = optionalString(spec, 'provider', 'spec.provider', fail);
  if (provider !== undefined && !AWS_PROVIDERS.has(provider)) {
    fail('spec.provider', `"${provider}" is not supported: only the AWS plugin's S3 API (aws, velero.io/aws)`);
  }
  const objectStorage = optionalMap(spec, 'objectStorage', 'spec.objectStorage', fail) ?? fail('spec.objectStorage', 'required');
  const config = optionalMap(spec, 'config', 'spec.config', fail) ?? {};
  for (const [key, value] of Object.entries(config)) {
    // Kubernetes stores config as map[string]string; a hand-written file may hold YAML booleans.
    if (typeof value !== 'string' && typeof value !== 'boolean') fail(`spec.config.${key}`, 'must be a string');
  }
  return { ...(metadata ? { metadata } : {}), spec, objectStorage, config };
}

/** The AWS plugin's `spec.config` keys the detector uses; the others (e.g. serverSideEncryption) are Velero's. */
function applyBslConfig(config: Section, location: StorageLocation, fail: Fail): void {
  const text = (key: string) => optionalString(config, key, `spec.config.${key}`, fail, true);
  const bool = (key: string) => optionalBool(config, key, `spec.config.${key}`, fail);
  const region = text('region');
  if (region) location.region = region;
  const s3Url = text('s3Url');
  if (s3Url) location.s3Url = checkUrl(s3Url, 'spec.config.s3Url', fail);
  const pathStyle = bool('s3ForcePathStyle');
  if (pathStyle !== undefined) location.s3ForcePathStyle = pathStyle;
  const insecure = bool('insecureSkipTLSVerify');
  if (insecure !== undefined) location.insecureSkipTLSVerify = insecure;
  const profile = text('profile');
  if (profile) location.profile = profile;
  const credentialsFile = text('credentialsFile');
  if (credentialsFile) location.credentialsFile = credentialsFile;
}

/**
 * Parses a storage-location file: either a BSL manifest (as `kubectl get bsl NAME -o yaml` prints
 * it) or a flat YAML mapping of StorageLocation's fields. `file` names the file in errors; a
 * relative credentialsFile is taken relative to the file's directory.
 *
 * A BSL's `spec.credential` names a Secret that only exists in the cluster: give its content as
 * credentialsFile (or AWS_SHARED_CREDENTIALS_FILE) instead. A `caCertRef` is refused for the same
 * reason, with that advice.
 */
export function parseStorageLocationFile(text: string, file: string): StorageLocation {
  const origin = basename(file);
  const fail = failFor(origin);
  const map = yamlMapping(text, fail);
  let location: StorageLocation;
  if ('spec' in map || 'kind' in map || 'apiVersion' in map) {
    const parsed = parseBackupStorageLocation(map, origin);
    if (parsed.caCertRef) {
      fail(
        'spec.objectStorage.caCertRef',
        `refers to Secret key ${parsed.caCertRef.name}/${parsed.caCertRef.key}, which a file cannot follow: ` +
          'put the base64 PEM in spec.objectStorage.caCert, or read the BSL from the cluster',
      );
    }
    location = parsed.location;
  } else {
    location = parseFlatLocation(map, fail);
  }
  if (location.credentialsFile && !isAbsolute(location.credentialsFile)) {
    location.credentialsFile = resolve(dirname(file), location.credentialsFile);
  }
  return location;
}

function yamlMapping(text: string, fail: Fail): Section {
  if (text.trim() === '') fail(undefined, 'the file is empty');
  const root = parseYamlText(text, fail);
  if (!isMap(root)) fail(undefined, 'not a YAML mapping');
  return root;
}

/** Reads and parses a storage-location file (see parseStorageLocationFile). */
export async function readStorageLocationFile(path: string): Promise<StorageLocation> {
  const text = await readTextOr(
    path,
    (why, cause) => new StorageLocationError(basename(path), undefined, `cannot read ${path}: ${why}`, { cause }),
  );
  return parseStorageLocationFile(text, path);
}

function parseFlatLocation(map: Section, fail: Fail): StorageLocation {
  for (const key of Object.keys(map)) {
    if (!(FLAT_KEYS as readonly string[]).includes(key)) {
      fail(key, `unknown key (expected ${FLAT_KEYS.join(', ')}, or a BackupStorageLocation manifest)`);
    }
  }
  const location: StorageLocation = {
    bucket: checkBucket(optionalString(map, 'bucket', 'bucket', fail) ?? fail('bucket', 'required'), 'bucket', fail),
  };
  const text = (key: (typeof FLAT_KEYS)[number]) => optionalString(map, key, key, fail);
  const name = text('name');
  if (name) location.name = name;
  const prefix = trimSlashes(text('prefix') ?? '');
  if (prefix) location.prefix = prefix;
  const region = text('region');
  if (region) location.region = region;
  const s3Url = text('s3Url');
  if (s3Url) location.s3Url = checkUrl(s3Url, 's3Url', fail);
  const pathStyle = optionalBool(map, 's3ForcePathStyle', 's3ForcePathStyle', fail);
  if (pathStyle !== undefined) location.s3ForcePathStyle = pathStyle;
  const insecure = optionalBool(map, 'insecureSkipTLSVerify', 'insecureSkipTLSVerify', fail);
  if (insecure !== undefined) location.insecureSkipTLSVerify = insecure;
  const caCert = text('caCert');
  // The flat form takes PEM text; base64 of it (as in a BSL) is accepted too.
  if (caCert) location.caCert = caCert.includes('-----BEGIN') ? checkPem(caCert, 'caCert', fail) : decodeCaCert(caCert, 'caCert', fail);
  const profile = text('profile');
  if (profile) location.profile = profile;
  const credentialsFile = text('credentialsFile');
  if (credentialsFile) location.credentialsFile = credentialsFile;
  return location;
}
