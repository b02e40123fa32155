/**
 * Where Velero keeps its backups: a bucket of an S3-compatible object store, configured the way a
 * Velero BackupStorageLocation (BSL) with the AWS object-store plugin is
 * (velero-plugin-protocol.md section 5.3). Read from a BSL manifest, a flat YAML file, or the BSL
 * object of a live cluster.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { KubeConfig, ObservableMiddleware, V1Secret } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { isMap, trimSlashes } from '../util/values.js';

/** Credentials for the S3 API. Holds a secret: never log it. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

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

/** A storage location that cannot be used; the message names the file (or object) and the key. */
export class StorageLocationError extends Error {
  override readonly name = 'StorageLocationError';

  constructor(
    /** The file or object the location came from, e.g. `bsl.yaml`. */
    readonly origin: string,
    /** The offending key, e.g. `spec.objectStorage.bucket`; undefined when the whole input is bad. */
    readonly key: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${origin}: ${key ? `${key}: ` : ''}${detail}`, options);
  }
}

/** The object-store plugins whose config keys (and S3 API) this module understands. */
const AWS_PROVIDERS = new Set(['aws', 'velero.io/aws']);

/** Keys of the flat storage-location file, i.e. the fields of StorageLocation. */
const FLAT_KEYS = [
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

type Fail = (key: string | undefined, detail: string) => never;

/**
 * A reference to a key of a Secret in the BSL's namespace (spec.credential, caCertRef). Only a
 * BSL read from a cluster can follow it.
 */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** What a BSL says, before references to Secrets are followed. */
export interface ParsedBsl {
  location: StorageLocation;
  caCertRef?: SecretKeyRef;
  credential?: SecretKeyRef;
}

/**
 * Reads a `velero.io/v1 BackupStorageLocation` object (parsed JSON or YAML). `origin` names the
 * file or object in errors. Secret references are returned, not followed.
 */
export function parseBackupStorageLocation(bsl: unknown, origin: string): ParsedBsl {
  const fail: Fail = (key, detail) => {
    throw new StorageLocationError(origin, key, detail);
  };
  if (!isMap(bsl)) fail(undefined, 'not a BackupStorageLocation object (expected a mapping)');
  const root = bsl as Record<string, unknown>;
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
  const objectStorage = optionalMap(spec, 'objectStorage', 'spec.objectStorage', fail) ??
    fail('spec.objectStorage', 'required');
  const config = optionalMap(spec, 'config', 'spec.config', fail) ?? {};
  for (const [key, value] of Object.entries(config)) {
    // Kubernetes stores config as map[string]string; a hand-written file may hold YAML booleans.
    if (typeof value !== 'string' && typeof value !== 'boolean') fail(`spec.config.${key}`, 'must be a string');
  }
  const configString = (key: string) => optionalString(config, key, `spec.config.${key}`, fail, true);
  const configBool = (key: string) => optionalBool(config, key, `spec.config.${key}`, fail);

  const location: StorageLocation = {
    bucket: checkBucket(
      optionalString(objectStorage, 'bucket', 'spec.objectStorage.bucket', fail) ??
        fail('spec.objectStorage.bucket', 'required'),
      'spec.objectStorage.bucket',
      fail,
    ),
  };
  const name = metadata ? optionalString(metadata, 'name', 'metadata.name', fail) : undefined;
  if (name) location.name = name;
  const prefix = trimSlashes(optionalString(objectStorage, 'prefix', 'spec.objectStorage.prefix', fail) ?? '');
  if (prefix) location.prefix = prefix;

  const caCertBase64 = optionalString(objectStorage, 'caCert', 'spec.objectStorage.caCert', fail);
  if (caCertBase64) location.caCert = decodeCaCert(caCertBase64, 'spec.objectStorage.caCert', fail);

  const region = configString('region');
  if (region) location.region = region;
  const s3Url = configString('s3Url');
  if (s3Url) location.s3Url = checkUrl(s3Url, 'spec.config.s3Url', fail);
  const pathStyle = configBool('s3ForcePathStyle');
  if (pathStyle !== undefined) location.s3ForcePathStyle = pathStyle;
  const insecure = configBool('insecureSkipTLSVerify');
  if (insecure !== undefined) location.insecureSkipTLSVerify = insecure;
  const profile = configString('profile');
  if (profile) location.profile = profile;
  const credentialsFile = configString('credentialsFile');
  if (credentialsFile) location.credentialsFile = credentialsFile;

  const parsed: ParsedBsl = { location };
  const caCertRef = optionalMap(objectStorage, 'caCertRef', 'spec.objectStorage.caCertRef', fail);
  if (caCertRef) parsed.caCertRef = secretKeyRef(caCertRef, 'spec.objectStorage.caCertRef', fail);
  const credential = optionalMap(spec, 'credential', 'spec.credential', fail);
  if (credential) parsed.credential = secretKeyRef(credential, 'spec.credential', fail);
  return parsed;
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
  const fail: Fail = (key, detail) => {
    throw new StorageLocationError(origin, key, detail);
  };
  if (text.trim() === '') fail(undefined, 'the file is empty');
  // prettyErrors fills in linePos; the message itself (which quotes the line) is not used.
  const doc = parseDocument(text, { prettyErrors: true });
  const firstError = doc.errors[0];
  if (firstError) {
    const at = firstError.linePos?.[0];
    fail(undefined, `not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  const root: unknown = doc.toJS();
  if (!isMap(root)) fail(undefined, 'not a YAML mapping');
  const map = root as Record<string, unknown>;

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

/** Reads and parses a storage-location file (see parseStorageLocationFile). */
export async function readStorageLocationFile(path: string): Promise<StorageLocation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
    throw new StorageLocationError(basename(path), undefined, `cannot read ${path}: ${why}`, { cause: err });
  }
  return parseStorageLocationFile(text, path);
}

function parseFlatLocation(map: Record<string, unknown>, fail: Fail): StorageLocation {
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

/** `strings.Trim(s, "/")`, as Velero does for bucket and prefix. */

/** Velero refuses a bucket with '/' inside, except an S3 access-point ARN. */
function checkBucket(raw: string, key: string, fail: Fail): string {
  const bucket = trimSlashes(raw.trim());
  if (bucket === '') fail(key, 'required');
  if (bucket.includes('/') && !bucket.startsWith('arn:aws:s3:')) {
    fail(key, `"${bucket}" contains '/': put the path part in the prefix`);
  }
  return bucket;
}

function checkUrl(raw: string, key: string, fail: Fail): string {
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

function decodeCaCert(base64: string, key: string, fail: Fail): string {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) fail(key, 'is not base64');
  return checkPem(Buffer.from(compact, 'base64').toString('utf8'), key, fail);
}

function checkPem(pem: string, key: string, fail: Fail): string {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem)) {
    fail(key, 'does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  return pem;
}

function secretKeyRef(map: Record<string, unknown>, key: string, fail: Fail): SecretKeyRef {
  const name = optionalString(map, 'name', `${key}.name`, fail) ?? fail(`${key}.name`, 'required');
  const secretKey = optionalString(map, 'key', `${key}.key`, fail) ?? fail(`${key}.key`, 'required');
  return { name, key: secretKey };
}

function optionalMap(
  parent: Record<string, unknown>,
  field: string,
  key: string,
  fail: Fail,
): Record<string, unknown> | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) return fail(key, 'must be a mapping');
  return value;
}

/** A string field; empty counts as absent. `bools` lets a YAML boolean through as its text. */
function optionalString(
  parent: Record<string, unknown>,
  field: string,
  key: string,
  fail: Fail,
  bools = false,
): string | undefined {
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

function optionalBool(parent: Record<string, unknown>, field: string, key: string, fail: Fail): boolean | undefined {
  const value = parent[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (TRUE_WORDS.has(value.trim())) return true;
    if (FALSE_WORDS.has(value.trim())) return false;
  }
  return fail(key, `${JSON.stringify(value)} is not "true" or "false"`);
}

export interface ClusterReadOptions {
  /** A loaded KubeConfig; default: in-cluster config inside a pod, else KUBECONFIG or ~/.kube/config. */
  kubeConfig?: KubeConfig;
  /** Bound on the reads (the BSL and the Secrets it names), in ms; default 15000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_CLUSTER_TIMEOUT_MS = 15_000;
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Reads the BackupStorageLocation `namespace/name` (default namespace `velero`) from the cluster
 * and follows its Secret references: `caCertRef` gives the CA, and `spec.credential` gives the
 * credentials (kept in memory, behind credentialsProvider).
 */
export async function readStorageLocationFromCluster(
  name: string,
  namespace = 'velero',
  options: ClusterReadOptions = {},
): Promise<StorageLocation> {
  const origin = `BackupStorageLocation ${namespace}/${name}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLUSTER_TIMEOUT_MS;
  // Loaded on demand: reading a location from a file must not pay for the Kubernetes client.
  const k8s = await import('@kubernetes/client-node');
  const kc = options.kubeConfig ?? loadDefaultKubeConfig(k8s, origin);
  const server = kc.getCurrentCluster()?.server ?? 'the Kubernetes API server';

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const withSignal: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(controller.signal);
      return new k8s.Observable(Promise.resolve(context));
    },
    post: (context) => new k8s.Observable(Promise.resolve(context)),
  };
  const callOptions = { middleware: [withSignal], middlewareMergeStrategy: 'append' as const };

  /** `what` is the object read: undefined for the BSL itself, else e.g. `Secret velero/x (named by spec.credential)`. */
  const describe = (what: string | undefined, err: unknown): StorageLocationError => {
    const fail = (detail: string) => new StorageLocationError(origin, undefined, detail, { cause: err });
    const it = what ?? 'it';
    if (options.signal?.aborted) return fail(`cancelled while reading ${it}`);
    if (controller.signal.aborted) return fail(`reading ${it} from ${server} timed out after ${timeoutMs} ms`);
    // An ApiException's message quotes the response body and headers: only its code is used.
    if (err instanceof k8s.ApiException) {
      const code = err.code;
      if (code === 404) return fail(what ? `${what} not found` : `not found in the cluster at ${server}`);
      if (code === 401 || code === 403) return fail(`not allowed to read ${it} (HTTP ${code}): check the kubeconfig's user and its RBAC`);
      return fail(`reading ${it} from ${server} failed with HTTP ${code}`);
    }
    const code = (err as { code?: string }).code;
    if (code) return fail(`cannot reach ${server} to read ${it} (${code})`);
    // A client-side refusal (e.g. an http:// server without skipTLSVerify): its first line says why.
    const why = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : String(err);
    return fail(`cannot read ${it} from ${server}: ${why}`);
  };

  try {
    const customObjects = kc.makeApiClient(k8s.CustomObjectsApi);
    let bsl: unknown;
    try {
      bsl = await customObjects.getNamespacedCustomObject(
        { group: 'velero.io', version: 'v1', namespace, plural: 'backupstoragelocations', name },
        callOptions,
      );
    } catch (err) {
      throw describe(undefined, err);
    }
    const parsed = parseBackupStorageLocation(bsl, origin);
    const location = parsed.location;
    if (!parsed.caCertRef && !parsed.credential) return location;

    const core = kc.makeApiClient(k8s.CoreV1Api);
    const secretValue = async (ref: SecretKeyRef, key: string): Promise<string> => {
      const what = `Secret ${namespace}/${ref.name}`;
      let secret: V1Secret;
      try {
        secret = await core.readNamespacedSecret({ name: ref.name, namespace }, callOptions);
      } catch (err) {
        throw describe(`${what} (named by ${key})`, err);
      }
      const value = secret.data?.[ref.key];
      if (value === undefined) throw new StorageLocationError(origin, key, `${what} has no key "${ref.key}"`);
      return Buffer.from(value, 'base64').toString('utf8');
    };
    if (parsed.caCertRef) {
      const pem = await secretValue(parsed.caCertRef, 'spec.objectStorage.caCertRef');
      location.caCert = checkPem(pem, 'spec.objectStorage.caCertRef', (key, detail) => {
        throw new StorageLocationError(origin, key, `Secret ${namespace}/${parsed.caCertRef!.name} key ${parsed.caCertRef!.key} ${detail}`);
      });
    }
    if (parsed.credential) {
      const ref = parsed.credential;
      const credentialsOrigin = `Secret ${namespace}/${ref.name} key ${ref.key}`;
      const ini = await secretValue(ref, 'spec.credential');
      const profile = location.profile ?? 'default';
      // Parsed now so that a bad Secret fails here; the provider only hands the values out.
      const credentials = credentialsFromIni(ini, profile, credentialsOrigin);
      location.credentialsProvider = async () => ({ ...credentials });
      location.credentialsOrigin = credentialsOrigin;
    }
    return location;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

function loadDefaultKubeConfig(k8s: typeof import('@kubernetes/client-node'), origin: string): KubeConfig {
  const kc = new k8s.KubeConfig();
  const inPod = Boolean(process.env['KUBERNETES_SERVICE_HOST']) && existsSync(SERVICE_ACCOUNT_TOKEN);
  try {
    if (!process.env['KUBECONFIG'] && inPod) kc.loadFromCluster();
    else if (process.env['KUBECONFIG'] || existsSync(join(homedir(), '.kube', 'config'))) kc.loadFromDefault();
    else throw new Error('no KUBECONFIG, no ~/.kube/config, and not running in a pod');
  } catch (err) {
    // client-node's messages can quote kubeconfig content: only say which config was tried.
    const which = process.env['KUBECONFIG'] ? `KUBECONFIG=${process.env['KUBECONFIG']}` : inPod ? 'the in-cluster service account' : '~/.kube/config';
    const detail = err instanceof Error && err.message.startsWith('no KUBECONFIG') ? err.message : `cannot load ${which}`;
    throw new StorageLocationError(origin, undefined, `cannot read it from the cluster: ${detail}`, { cause: err });
  }
  return kc;
}

/**
 * The keys of one profile of an AWS shared-credentials INI text (Velero's `cloud` key format).
 * `origin` names the text in errors; the values are never quoted.
 */
export function credentialsFromIni(text: string, profile: string, origin: string): S3Credentials {
  const profiles = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = profiles.get(section[1]!) ?? new Map();
      profiles.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  const entries = profiles.get(profile);
  if (!entries) {
    const known = [...profiles.keys()];
    throw new StorageLocationError(origin, `[${profile}]`, `no such profile (profiles: ${known.length ? known.join(', ') : 'none'})`);
  }
  const accessKeyId = entries.get('aws_access_key_id');
  const secretAccessKey = entries.get('aws_secret_access_key');
  if (!accessKeyId) throw new StorageLocationError(origin, `[${profile}].aws_access_key_id`, 'required');
  if (!secretAccessKey) throw new StorageLocationError(origin, `[${profile}].aws_secret_access_key`, 'required');
  const sessionToken = entries.get('aws_session_token');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}
