/**
 * Configuration of `drift-detector serve`: a YAML file, then environment variables, then flags
 * (each later layer wins). Secrets are never inline: the file names files that hold them (token,
 * TLS key, vCenter password, S3 credentials). A bad value stops the start with a message naming
 * where it came from and the key, e.g. `config.yaml: gate.mode: expected block or annotate`.
 *
 * ```yaml
 * listen: 127.0.0.1:50051          # non-loopback addresses need tls
 * logLevel: info                   # debug | info | warn | error
 * metrics: { listen: 127.0.0.1:9464 }
 * tls: { certFile: server.crt, keyFile: server.key, clientCAFile: clients-ca.crt }  # clientCAFile: mutual TLS
 * auth: { tokenFile: token }       # callers send `authorization: Bearer <token>`
 * storageLocations:                # the first one with default: true (else the first) is the default
 *   - name: default
 *     default: true
 *     file: bsl.yaml               # a BackupStorageLocation manifest or a flat location file
 *   - name: minio
 *     bucket: velero
 *     prefix: tkg
 *     s3Url: http://minio.velero.svc:9000
 *     s3ForcePathStyle: true
 *     region: minio
 *     credentialsFile: /credentials/cloud
 *     timeout: 30s
 * gate: { mode: block, failurePolicy: Fail, pauseOnDrift: false }
 * analysis:
 *   cacheTTL: 10m
 *   failureCacheTTL: 15s
 *   timeout: 15m
 *   skipAccessApiServer: false
 *   insecureSkipVerify: false
 *   vcenterTimeout: 30s
 *   apiserverTimeout: 10s
 *   apiserverConcurrency: 8
 *   maxConcurrent: 4               # analyses of different backups at once; more: RESOURCE_EXHAUSTED
 * vsphere: { username: admin@vsphere.local, passwordFile: /secrets/vsphere-password, credentialsFile: /secrets/vcenters.yaml }
 * limits: { maxReceiveMessageBytes: 134217728 }
 * shutdownTimeout: 10s
 * ```
 * VSPHERE_USERNAME and VSPHERE_PASSWORD work as for `detect`; vsphere.credentialsFile is the
 * same YAML map of vCenter server to {username, password} as `detect --vsphere-credentials`.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { parseStorageLocationFile, readStorageLocationFile, StorageLocationError, type StorageLocation } from '../backup/storage-location.js';
import type { GateConfig } from '../gate/decide.js';
import { parseLogLevel, type LogLevel } from '../util/jsonlog.js';
import { isMap } from '../util/values.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfiguredStorageLocation {
  name: string;
  isDefault: boolean;
  location: StorageLocation;
  /** Bound on each S3 request, in ms. */
  timeoutMs: number;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Set: clients must present a certificate signed by this CA (mutual TLS). */
  clientCAFile?: string;
}

export interface AnalysisConfig {
  cacheTtlMs: number;
  failureCacheTtlMs: number;
  timeoutMs: number;
  skipAccessApiServer: boolean;
  insecureSkipVerify: boolean;
  vcenterTimeoutMs: number;
  apiserverTimeoutMs: number;
  apiserverConcurrency: number;
  /** Analyses of different backups running at once. */
  maxConcurrent: number;
}

export interface ServiceConfig {
  /** Where the values came from, for messages: the config file's name, or `flags`. */
  origin: string;
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  listen: string;
  logLevel: LogLevel;
  metricsListen?: string;
  tls?: TlsFiles;
  tokenFile?: string;
  storageLocations: ConfiguredStorageLocation[];
  gate: GateConfig;
  analysis: AnalysisConfig;
  vsphere: { username?: string; passwordFile?: string; credentialsFile?: string };
  maxReceiveMessageBytes: number;
  shutdownTimeoutMs: number;
}

/** Flag values as commander gives them (strings and booleans). */
export interface ConfigOverrides {
  listen?: string;
  metricsListen?: string;
  logLevel?: string;
  mode?: string;
  failurePolicy?: string;
  pauseOnDrift?: boolean | string;
  cacheTtl?: string;
  analysisTimeout?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  storageLocation?: string;
  skipAccessApiserver?: boolean | string;
  insecureSkipVerify?: boolean | string;
}

/** Key path in the file <- flag <- environment variable. */
const OVERRIDES: Array<{ key: string; flag: keyof ConfigOverrides; flagName: string; env: string }> = [
  { key: 'listen', flag: 'listen', flagName: '--listen', env: 'DRIFT_DETECTOR_LISTEN' },
  { key: 'metrics.listen', flag: 'metricsListen', flagName: '--metrics-listen', env: 'DRIFT_DETECTOR_METRICS_LISTEN' },
  { key: 'logLevel', flag: 'logLevel', flagName: '--log-level', env: 'DRIFT_DETECTOR_LOG_LEVEL' },
  { key: 'gate.mode', flag: 'mode', flagName: '--mode', env: 'DRIFT_DETECTOR_MODE' },
  { key: 'gate.failurePolicy', flag: 'failurePolicy', flagName: '--failure-policy', env: 'DRIFT_DETECTOR_FAILURE_POLICY' },
  { key: 'gate.pauseOnDrift', flag: 'pauseOnDrift', flagName: '--pause-on-drift', env: 'DRIFT_DETECTOR_PAUSE_ON_DRIFT' },
  { key: 'analysis.cacheTTL', flag: 'cacheTtl', flagName: '--cache-ttl', env: 'DRIFT_DETECTOR_CACHE_TTL' },
  { key: 'analysis.timeout', flag: 'analysisTimeout', flagName: '--analysis-timeout', env: 'DRIFT_DETECTOR_ANALYSIS_TIMEOUT' },
  { key: 'analysis.skipAccessApiServer', flag: 'skipAccessApiserver', flagName: '--skip-access-apiserver', env: 'DRIFT_DETECTOR_SKIP_ACCESS_APISERVER' },
  { key: 'analysis.insecureSkipVerify', flag: 'insecureSkipVerify', flagName: '--insecure-skip-verify', env: 'DRIFT_DETECTOR_INSECURE_SKIP_VERIFY' },
  { key: 'auth.tokenFile', flag: 'tokenFile', flagName: '--token-file', env: 'DRIFT_DETECTOR_TOKEN_FILE' },
  { key: 'tls.certFile', flag: 'tlsCert', flagName: '--tls-cert', env: 'DRIFT_DETECTOR_TLS_CERT' },
  { key: 'tls.keyFile', flag: 'tlsKey', flagName: '--tls-key', env: 'DRIFT_DETECTOR_TLS_KEY' },
  { key: 'tls.clientCAFile', flag: 'tlsClientCa', flagName: '--tls-client-ca', env: 'DRIFT_DETECTOR_TLS_CLIENT_CA' },
];

const KNOWN_KEYS: Record<string, readonly string[] | null> = {
  '': ['listen', 'logLevel', 'metrics', 'tls', 'auth', 'storageLocations', 'gate', 'analysis', 'vsphere', 'limits', 'shutdownTimeout'],
  metrics: ['listen'],
  tls: ['certFile', 'keyFile', 'clientCAFile'],
  auth: ['tokenFile'],
  gate: ['mode', 'failurePolicy', 'pauseOnDrift'],
  analysis: [
    'cacheTTL',
    'failureCacheTTL',
    'timeout',
    'skipAccessApiServer',
    'insecureSkipVerify',
    'vcenterTimeout',
    'apiserverTimeout',
    'apiserverConcurrency',
    'maxConcurrent',
  ],
  vsphere: ['username', 'passwordFile', 'credentialsFile'],
  limits: ['maxReceiveMessageBytes'],
};

export const DEFAULT_LISTEN = '127.0.0.1:50051';

export interface LoadConfigOptions {
  /** The YAML file; optional when flags give a storage location. */
  file?: string;
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
}

export async function loadServiceConfig(options: LoadConfigOptions): Promise<ServiceConfig> {
  const env = options.env ?? process.env;
  let raw: Record<string, unknown> = {};
  let origin = 'flags';
  let baseDir = process.cwd();
  if (options.file) {
    origin = basename(options.file);
    baseDir = dirname(resolve(options.file));
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${options.file}: cannot read the configuration file (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`);
    }
    const doc = parseDocument(text);
    const first = doc.errors[0];
    if (first) {
      const at = first.linePos?.[0];
      throw new ConfigError(`${origin}: not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
    }
    const parsed: unknown = doc.toJS() ?? {};
    if (!isMap(parsed)) throw new ConfigError(`${origin}: expected a YAML mapping at the top level`);
    raw = parsed;
  }

  // Where each key's value came from, for messages.
  const labels = new Map<string, string>();
  const fail = (key: string, detail: string): never => {
    const label = labels.get(key);
    throw new ConfigError(label ? `${label}: ${detail}` : `${origin}: ${key}: ${detail}`);
  };
  checkKnownKeys(raw, fail);

  for (const o of OVERRIDES) {
    const fromEnv = env[o.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      setPath(raw, o.key, fromEnv);
      labels.set(o.key, o.env);
    }
    const fromFlag = options.overrides?.[o.flag];
    if (fromFlag !== undefined) {
      setPath(raw, o.key, fromFlag);
      labels.set(o.key, o.flagName);
    }
  }
  // Paths given on the command line or in the environment are relative to the working directory.
  const pathOf = (key: string, value: string) => (isAbsolute(value) ? value : resolve(labels.has(key) ? process.cwd() : baseDir, value));

  const r = new Reader(raw, fail);
  const listen = r.string('listen') ?? DEFAULT_LISTEN;
  checkAddress(listen, 'listen', fail);
  const metricsListen = r.string('metrics.listen');
  if (metricsListen !== undefined) checkAddress(metricsListen, 'metrics.listen', fail);

  const certFile = r.string('tls.certFile');
  const keyFile = r.string('tls.keyFile');
  const clientCAFile = r.string('tls.clientCAFile');
  let tls: TlsFiles | undefined;
  if (certFile || keyFile || clientCAFile) {
    if (!certFile) fail('tls.certFile', 'required when tls is configured');
    if (!keyFile) fail('tls.keyFile', 'required when tls is configured');
    tls = { certFile: pathOf('tls.certFile', certFile!), keyFile: pathOf('tls.keyFile', keyFile!) };
    if (clientCAFile) tls.clientCAFile = pathOf('tls.clientCAFile', clientCAFile);
  }
  if (!tls && !isLoopbackListen(listen)) {
    fail('listen', `${listen} is not a loopback address: configure tls (tls.certFile, tls.keyFile) to listen beyond this host`);
  }
  const tokenFile = r.string('auth.tokenFile');

  const gate: GateConfig = {
    mode: r.choice('gate.mode', ['block', 'annotate'] as const) ?? 'block',
    failurePolicy: r.choice('gate.failurePolicy', ['Fail', 'Ignore'] as const) ?? 'Fail',
    pauseOnDrift: r.bool('gate.pauseOnDrift') ?? false,
  };
  const analysis: AnalysisConfig = {
    cacheTtlMs: r.duration('analysis.cacheTTL') ?? 10 * 60_000,
    failureCacheTtlMs: r.duration('analysis.failureCacheTTL') ?? 15_000,
    timeoutMs: r.duration('analysis.timeout', true) ?? 15 * 60_000,
    skipAccessApiServer: r.bool('analysis.skipAccessApiServer') ?? false,
    insecureSkipVerify: r.bool('analysis.insecureSkipVerify') ?? false,
    vcenterTimeoutMs: r.duration('analysis.vcenterTimeout', true) ?? 30_000,
    apiserverTimeoutMs: r.duration('analysis.apiserverTimeout', true) ?? 10_000,
    apiserverConcurrency: r.positiveInt('analysis.apiserverConcurrency') ?? 8,
    maxConcurrent: r.positiveInt('analysis.maxConcurrent') ?? 4,
  };
  const vsphere: ServiceConfig['vsphere'] = {};
  const username = r.string('vsphere.username');
  if (username) vsphere.username = username;
  const passwordFile = r.string('vsphere.passwordFile');
  if (passwordFile) vsphere.passwordFile = pathOf('vsphere.passwordFile', passwordFile);
  const credentialsFile = r.string('vsphere.credentialsFile');
  if (credentialsFile) vsphere.credentialsFile = pathOf('vsphere.credentialsFile', credentialsFile);

  const storageLocations = await readStorageLocations(raw, options.overrides?.storageLocation, origin, baseDir, fail);

  const config: ServiceConfig = {
    origin,
    listen,
    logLevel: r.logLevel('logLevel') ?? 'info',
    storageLocations,
    gate,
    analysis,
    vsphere,
    maxReceiveMessageBytes: r.positiveInt('limits.maxReceiveMessageBytes') ?? 128 * 1024 * 1024,
    shutdownTimeoutMs: r.duration('shutdownTimeout', true) ?? 10_000,
  };
  if (metricsListen) config.metricsListen = metricsListen;
  if (tls) config.tls = tls;
  if (tokenFile) config.tokenFile = pathOf('auth.tokenFile', tokenFile);
  return config;
}

const LOCATION_KEYS = ['name', 'default', 'file', 'timeout'];
/** The keys of a flat storage-location entry (a BSL manifest, with spec, is checked by its own parser). */
const FLAT_LOCATION_KEYS = [...LOCATION_KEYS, 'bucket', 'prefix', 'region', 's3Url', 's3ForcePathStyle', 'insecureSkipTLSVerify', 'caCert', 'profile', 'credentialsFile'];

async function readStorageLocations(
  raw: Record<string, unknown>,
  fromFlag: string | undefined,
  origin: string,
  baseDir: string,
  fail: (key: string, detail: string) => never,
): Promise<ConfiguredStorageLocation[]> {
  const result: ConfiguredStorageLocation[] = [];
  if (fromFlag !== undefined) {
    const location = await readStorageLocationFile(resolve(fromFlag)).catch((err: unknown) => {
      throw new ConfigError(`--storage-location: ${err instanceof Error ? err.message : String(err)}`);
    });
    result.push({ name: location.name ?? 'default', isDefault: true, location, timeoutMs: 30_000 });
  }
  const list = raw['storageLocations'];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) fail('storageLocations', 'expected a list of storage locations');
    for (const [i, entry] of (list as unknown[]).entries()) {
      const key = `storageLocations[${i}]`;
      if (!isMap(entry)) fail(key, 'expected a mapping');
      const e = entry as Record<string, unknown>;
      const r = new Reader(e, (k, detail) => fail(`${key}.${k}`, detail));
      if (!('spec' in e || 'kind' in e || 'apiVersion' in e)) {
        const unknown = Object.keys(e).find((k) => !FLAT_LOCATION_KEYS.includes(k));
        if (unknown) fail(`${key}.${unknown}`, `unknown key (expected one of ${FLAT_LOCATION_KEYS.join(', ')})`);
      }
      const name = r.string('name') ?? fail(`${key}.name`, 'required');
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) fail(`${key}.name`, `"${name}" is not a Kubernetes object name`);
      if (result.some((l) => l.name === name)) fail(`${key}.name`, `"${name}" is configured twice`);
      const isDefault = r.bool('default') ?? false;
      const timeoutMs = r.duration('timeout', true) ?? 30_000;
      const file = r.string('file');
      const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !LOCATION_KEYS.includes(k)));
      let location: StorageLocation;
      try {
        if (file) {
          if (Object.keys(rest).length) fail(`${key}.${Object.keys(rest)[0]}`, 'not allowed next to file: put it in the file');
          location = await readStorageLocationFile(isAbsolute(file) ? file : resolve(baseDir, file));
        } else {
          // The same keys as a flat storage-location file (or a BSL manifest), checked by the same parser.
          location = parseStorageLocationFile(stringify(rest), resolve(baseDir, origin));
        }
      } catch (err) {
        if (err instanceof StorageLocationError && !file) {
          const detail = err.message.slice(`${err.origin}: `.length + (err.key ? `${err.key}: `.length : 0));
          fail(err.key ? `${key}.${err.key}` : key, detail);
        }
        if (err instanceof StorageLocationError) fail(`${key}.file`, err.message);
        throw err;
      }
      result.push({ name, isDefault, location, timeoutMs });
    }
  }
  if (result.length === 0) {
    fail('storageLocations', 'at least one storage location is required (or give --storage-location FILE)');
  }
  const defaults = result.filter((l) => l.isDefault);
  if (defaults.length > 1 && fromFlag === undefined) fail('storageLocations', `more than one default: ${defaults.map((l) => l.name).join(', ')}`);
  if (defaults.length === 0) result[0]!.isDefault = true;
  else for (const l of result) l.isDefault = l === defaults[0];
  return result;
}

export function defaultStorageLocation(config: Pick<ServiceConfig, 'storageLocations'>): ConfiguredStorageLocation {
  return config.storageLocations.find((l) => l.isDefault) ?? config.storageLocations[0]!;
}

/** `host:port`: the host part, without brackets; undefined for a unix socket. */
export function hostOf(address: string): string | undefined {
  if (address.startsWith('unix:')) return undefined;
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (v6) return v6[1];
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export function isLoopbackListen(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = hostOf(address)?.toLowerCase();
  if (!host) return false;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

function checkAddress(address: string, key: string, fail: (key: string, detail: string) => never): void {
  if (address.startsWith('unix:')) {
    if (address.length <= 'unix:'.length) fail(key, 'unix: needs a socket path');
    return;
  }
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(address);
  if (!m || Number(m[2]) > 65535) fail(key, `"${address}" is not host:port (e.g. 127.0.0.1:50051) or unix:/path`);
}

function checkKnownKeys(raw: Record<string, unknown>, fail: (key: string, detail: string) => never): void {
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    const map = section === '' ? raw : raw[section];
    if (map === undefined || map === null) continue;
    if (!isMap(map)) fail(section, 'expected a mapping');
    for (const key of Object.keys(map as Record<string, unknown>)) {
      if (keys && !keys.includes(key)) {
        fail(section ? `${section}.${key}` : key, `unknown key (expected one of ${keys.join(', ')})`);
      }
    }
  }
}

function setPath(raw: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let map = raw;
  for (const part of parts.slice(0, -1)) {
    if (!isMap(map[part])) map[part] = {};
    map = map[part] as Record<string, unknown>;
  }
  map[parts[parts.length - 1]!] = value;
}

/** Typed reads of dotted keys; every failure names the key. */
class Reader {
  constructor(
    private readonly raw: Record<string, unknown>,
    private readonly fail: (key: string, detail: string) => never,
  ) {}

  private get(key: string): unknown {
    let value: unknown = this.raw;
    for (const part of key.split('.')) {
      if (!isMap(value)) return undefined;
      value = value[part];
    }
    return value === null ? undefined : value;
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.fail(key, 'expected a string');
    return v.trim() === '' ? undefined : v.trim();
  }

  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      return this.fail(key, `expected ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}${typeof v === 'string' ? `, not "${v}"` : ''}`);
    }
    return v as T;
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.fail(key, 'expected true or false');
  }

  positiveInt(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return this.fail(key, 'expected a positive whole number');
    return n;
  }

  /** `90s`, `10m`, `1h`, `500ms`, or a number of seconds. `positive`: zero is refused. */
  duration(key: string, positive = false): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined || (positive && ms === 0)) {
      return this.fail(key, `expected a duration such as 30s, 10m or 1h${positive ? ' (more than zero)' : ''}`);
    }
    return ms;
  }

  logLevel(key: string): LogLevel | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    return parseLogLevel(v) ?? this.fail(key, 'expected debug, info, warn or error');
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  // Go's time.ParseDuration style, which Kubernetes users know: 1h30m, 90s, 250ms.
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0);
}
