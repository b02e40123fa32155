/**
 * Where the service's configuration comes from: a YAML file, then DRIFT_DETECTOR_* environment
 * variables, then `serve` flags, each later layer winning. A refused value names the layer it came
 * from: `serve.yaml: gate.mode: ...`, `DRIFT_DETECTOR_MODE: ...` or `--mode: ...`.
 */
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { isMap } from '../util/values.js';
import type { PathOf } from './service-files.js';
import { ConfigError, ConfigReader, parseYamlText, type Refuse } from './values.js';
import { readTextOr } from '../util/files.js';

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
  webhookListen?: string;
  webhookTlsCert?: string;
  webhookTlsKey?: string;
  webhookDeadline?: string;
  watch?: boolean | string;
  watchInterval?: string;
  watchSource?: string;
}

export interface LoadConfigOptions {
  /** The YAML file; optional when flags give a storage location. */
  file?: string;
  overrides?: ConfigOverrides;
  env?: NodeJS.ProcessEnv;
}

/** Key path in the file <- flag <- environment variable. */
export const OVERRIDES: Array<{ key: string; flag: keyof ConfigOverrides; flagName: string; env: string }> = [
  { key: 'listen', flag: 'listen', flagName: '--listen', env: 'DRIFT_DETECTOR_LISTEN' },
  { key: 'metrics.listen', flag: 'metricsListen', flagName: '--metrics-listen', env: 'DRIFT_DETECTOR_METRICS_LISTEN' },
  { key: 'logLevel', flag: 'logLevel', flagName: '--log-level', env: 'DRIFT_DETECTOR_LOG_LEVEL' },
  { key: 'gate.mode', flag: 'mode', flagName: '--mode', env: 'DRIFT_DETECTOR_MODE' },
  { key: 'gate.failurePolicy', flag: 'failurePolicy', flagName: '--failure-policy', env: 'DRIFT_DETECTOR_FAILURE_POLICY' },
  { key: 'gate.pauseOnDrift', flag: 'pauseOnDrift', flagName: '--pause-on-drift', env: 'DRIFT_DETECTOR_PAUSE_ON_DRIFT' },
  { key: 'analysis.cacheTTL', flag: 'cacheTtl', flagName: '--cache-ttl', env: 'DRIFT_DETECTOR_CACHE_TTL' },
  { key: 'analysis.timeout', flag: 'analysisTimeout', flagName: '--analysis-timeout', env: 'DRIFT_DETECTOR_ANALYSIS_TIMEOUT' },
  {
    key: 'analysis.skipAccessApiServer',
    flag: 'skipAccessApiserver',
    flagName: '--skip-access-apiserver',
    env: 'DRIFT_DETECTOR_SKIP_ACCESS_APISERVER',
  },
  {
    key: 'analysis.insecureSkipVerify',
    flag: 'insecureSkipVerify',
    flagName: '--insecure-skip-verify',
    env: 'DRIFT_DETECTOR_INSECURE_SKIP_VERIFY',
  },
  { key: 'watch.enabled', flag: 'watch', flagName: '--watch', env: 'DRIFT_DETECTOR_WATCH' },
  { key: 'watch.interval', flag: 'watchInterval', flagName: '--watch-interval', env: 'DRIFT_DETECTOR_WATCH_INTERVAL' },
  { key: 'watch.source', flag: 'watchSource', flagName: '--watch-source', env: 'DRIFT_DETECTOR_WATCH_SOURCE' },
  { key: 'auth.tokenFile', flag: 'tokenFile', flagName: '--token-file', env: 'DRIFT_DETECTOR_TOKEN_FILE' },
  { key: 'tls.certFile', flag: 'tlsCert', flagName: '--tls-cert', env: 'DRIFT_DETECTOR_TLS_CERT' },
  { key: 'tls.keyFile', flag: 'tlsKey', flagName: '--tls-key', env: 'DRIFT_DETECTOR_TLS_KEY' },
  { key: 'tls.clientCAFile', flag: 'tlsClientCa', flagName: '--tls-client-ca', env: 'DRIFT_DETECTOR_TLS_CLIENT_CA' },
  { key: 'webhook.listen', flag: 'webhookListen', flagName: '--webhook-listen', env: 'DRIFT_DETECTOR_WEBHOOK_LISTEN' },
  { key: 'webhook.tls.certFile', flag: 'webhookTlsCert', flagName: '--webhook-tls-cert', env: 'DRIFT_DETECTOR_WEBHOOK_TLS_CERT' },
  { key: 'webhook.tls.keyFile', flag: 'webhookTlsKey', flagName: '--webhook-tls-key', env: 'DRIFT_DETECTOR_WEBHOOK_TLS_KEY' },
  { key: 'webhook.deadline', flag: 'webhookDeadline', flagName: '--webhook-deadline', env: 'DRIFT_DETECTOR_WEBHOOK_DEADLINE' },
];

/** The keys of each section of the file (the top is ''). */
export const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': [
    'listen',
    'logLevel',
    'metrics',
    'tls',
    'auth',
    'storageLocations',
    'gate',
    'analysis',
    'vsphere',
    'limits',
    'shutdownTimeout',
    'webhook',
    'watch',
  ],
  watch: ['enabled', 'interval', 'events', 'source', 'depth', 'olderInterval', 'clockSkew', 'leaderElection', 'verdictKeySecret'],
  'watch.leaderElection': ['enabled', 'namespace', 'leaseName', 'leaseDuration', 'renewDeadline', 'retryPeriod'],
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
    'maxAge',
    'ignoreFile',
  ],
  vsphere: ['username', 'passwordFile', 'credentialsFile', 'caFile', 'thumbprints', 'trustedHosts'],
  limits: ['maxReceiveMessageBytes', 'backupMemoryBytes'],
  webhook: ['listen', 'tls', 'deadline'],
  'webhook.tls': ['certFile', 'keyFile'],
};

export interface ServiceSources {
  /** The configuration file's name, or `flags`. */
  origin: string;
  /** The directory of the file (else the working directory). */
  baseDir: string;
  /** Reads the layers merged; refusals name the layer of the key. */
  reader: ConfigReader;
  /** Paths from the file are relative to it; from the environment or a flag, to the working directory. */
  pathOf: PathOf;
}

export async function readServiceSources(options: LoadConfigOptions): Promise<ServiceSources> {
  const origin = options.file ? basename(options.file) : 'flags';
  const baseDir = options.file ? dirname(resolve(options.file)) : process.cwd();
  // Where each key's value came from when it was not the file, for messages.
  const labels = new Map<string, string>();
  const refuse: Refuse = (key, detail) => {
    const label = key === undefined ? undefined : labels.get(key);
    throw new ConfigError(label ? `${label}: ${detail}` : `${origin}: ${key ? `${key}: ` : ''}${detail}`);
  };
  const raw = options.file ? await readConfigFile(options.file, refuse) : {};
  const fromFile = new ConfigReader(raw, refuse);
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) fromFile.onlyKeys(keys, section);

  for (const o of OVERRIDES) {
    const fromEnv = (options.env ?? process.env)[o.env];
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
  const pathOf: PathOf = (key, value) => (isAbsolute(value) ? value : resolve(labels.has(key) ? process.cwd() : baseDir, value));
  return { origin, baseDir, reader: new ConfigReader(raw, refuse), pathOf };
}

async function readConfigFile(file: string, refuse: Refuse): Promise<Record<string, unknown>> {
  const text = await readTextOr(file, (why) => new ConfigError(`${file}: cannot read the configuration file (${why})`));
  const parsed = parseYamlText(text, refuse);
  return isMap(parsed) ? parsed : refuse(undefined, 'expected a YAML mapping at the top level');
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
