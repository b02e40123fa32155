/**
 * The plugin's settings: the `data` of the ConfigMap in Velero's namespace labelled
 * `velero.io/plugin-config: ""` and `driftdetector.dev/restore-gate: RestoreItemAction` (Velero's
 * convention for plugin configuration). Every key is optional:
 *
 * ```yaml
 * mode: block                      # block | annotate
 * failurePolicy: Fail              # Fail | Ignore
 * pauseOnDrift: "false"            # annotate mode: restore drifted Clusters paused
 * skipAccessAPIServer: "false"     # do not read the workload clusters' Nodes
 * insecureSkipVerify: "false"      # vCenters and workload API servers
 * vsphereCredentialsSecret: name   # Secret: username + password, and/or credentials.yaml
 * analysisTimeout: 10m             # bound on one analysis (Velero gives Execute no deadline)
 * vsphereTimeout: 30s              # each vCenter request
 * apiserverTimeout: 10s            # each workload API server request
 * storageTimeout: 30s              # each object-storage request
 * remoteEndpoint: host:port        # ask `drift-detector serve` instead of analysing here
 * remoteCredentialsSecret: name    # Secret: ca.crt, token, tls.crt + tls.key (all optional)
 * remoteTLS: "true"                # TLS with the system CAs when the Secret has no ca.crt
 * remoteTimeout: 10m               # deadline of each call to the service
 * ```
 * A bad value is an error naming the ConfigMap (or file) and the key; the plugin reports it as
 * the Execute error of every Cluster, so it shows in the restore's errors.
 */
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import type { GateConfig } from '../gate/decide.js';
import { parseDuration } from '../config/values.js';

import { isMap } from '../util/values.js';
import { isObjectName } from '../model/kube.js';

export const PLUGIN_CONFIG_LABELS = {
  'velero.io/plugin-config': '',
  'driftdetector.dev/restore-gate': 'RestoreItemAction',
} as const;

/** `velero.io/plugin-config=,driftdetector.dev/restore-gate=RestoreItemAction` */
export const PLUGIN_CONFIG_SELECTOR = Object.entries(PLUGIN_CONFIG_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

export const SETTINGS_KEYS = [
  'mode',
  'failurePolicy',
  'pauseOnDrift',
  'skipAccessAPIServer',
  'insecureSkipVerify',
  'vsphereCredentialsSecret',
  'analysisTimeout',
  'vsphereTimeout',
  'apiserverTimeout',
  'storageTimeout',
  'remoteEndpoint',
  'remoteCredentialsSecret',
  'remoteTLS',
  'remoteTimeout',
] as const;

export interface RemoteSettings {
  /** `host:port` of `drift-detector serve`. */
  endpoint: string;
  /** Secret in Velero's namespace with `ca.crt`, `token`, `tls.crt`/`tls.key`. */
  credentialsSecret?: string;
  /** TLS even without a CA in the Secret (system CAs). */
  tls: boolean;
  timeoutMs: number;
}

export interface PluginSettings {
  /** Where they came from, for messages: `ConfigMap velero/NAME`, a file name, or `defaults`. */
  origin: string;
  gate: GateConfig;
  skipAccessApiServer: boolean;
  insecureSkipVerify: boolean;
  analysisTimeoutMs: number;
  vsphereTimeoutMs: number;
  apiserverTimeoutMs: number;
  storageTimeoutMs: number;
  /** Secret in Velero's namespace holding vCenter credentials. */
  vsphereCredentialsSecret?: string;
  remote?: RemoteSettings;
}

export class PluginSettingsError extends Error {
  override readonly name = 'PluginSettingsError';
  constructor(origin: string, key: string | undefined, detail: string) {
    super(`${origin}: ${key ? `${key}: ` : ''}${detail}`);
  }
}

/** Kubernetes object names (Secrets): DNS-1123 subdomain. */

export function parsePluginSettings(data: Record<string, unknown>, origin: string): PluginSettings {
  const fail = (key: string | undefined, detail: string): never => {
    throw new PluginSettingsError(origin, key, detail);
  };
  for (const key of Object.keys(data)) {
    if (!(SETTINGS_KEYS as readonly string[]).includes(key)) fail(key, `unknown key (expected one of ${SETTINGS_KEYS.join(', ')})`);
  }
  const text = (key: (typeof SETTINGS_KEYS)[number]): string | undefined => {
    const value = data[key];
    if (value === undefined || value === null) return undefined;
    // A hand-written file may hold YAML booleans and numbers; a ConfigMap holds strings.
    if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') fail(key, 'expected a string');
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const choice = <T extends string>(key: (typeof SETTINGS_KEYS)[number], choices: readonly T[]): T | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) fail(key, `expected ${choices.join(' or ')}, not "${value}"`);
    return value as T;
  };
  const bool = (key: (typeof SETTINGS_KEYS)[number]): boolean | undefined => {
    const value = choice(key, ['true', 'false'] as const);
    return value === undefined ? undefined : value === 'true';
  };
  const duration = (key: (typeof SETTINGS_KEYS)[number], fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms === 0) fail(key, `expected a duration such as 30s, 10m or 1h (more than zero), not "${value}"`);
    return ms!;
  };
  const secretName = (key: (typeof SETTINGS_KEYS)[number]): string | undefined => {
    const value = text(key);
    if (value !== undefined && !isObjectName(value)) fail(key, `"${value}" is not a Secret name`);
    return value;
  };

  const settings: PluginSettings = {
    origin,
    gate: {
      mode: choice('mode', ['block', 'annotate'] as const) ?? 'block',
      failurePolicy: choice('failurePolicy', ['Fail', 'Ignore'] as const) ?? 'Fail',
      pauseOnDrift: bool('pauseOnDrift') ?? false,
    },
    skipAccessApiServer: bool('skipAccessAPIServer') ?? false,
    insecureSkipVerify: bool('insecureSkipVerify') ?? false,
    analysisTimeoutMs: duration('analysisTimeout', 10 * 60_000),
    vsphereTimeoutMs: duration('vsphereTimeout', 30_000),
    apiserverTimeoutMs: duration('apiserverTimeout', 10_000),
    storageTimeoutMs: duration('storageTimeout', 30_000),
  };
  const vsphereSecret = secretName('vsphereCredentialsSecret');
  if (vsphereSecret) settings.vsphereCredentialsSecret = vsphereSecret;

  const endpoint = text('remoteEndpoint');
  const remoteSecret = secretName('remoteCredentialsSecret');
  const remoteTls = bool('remoteTLS');
  const remoteTimeoutMs = duration('remoteTimeout', 10 * 60_000);
  if (endpoint) {
    const m = /^(\[[^\]]+\]|[^:/[\]\s]+):(\d{1,5})$/.exec(endpoint);
    if (!m || Number(m[2]) === 0 || Number(m[2]) > 65535) fail('remoteEndpoint', `"${endpoint}" is not host:port (e.g. drift-detector.velero.svc:50051)`);
    settings.remote = { endpoint, tls: remoteTls ?? false, timeoutMs: remoteTimeoutMs, ...(remoteSecret ? { credentialsSecret: remoteSecret } : {}) };
  } else if (remoteSecret || remoteTls !== undefined) {
    fail(remoteSecret ? 'remoteCredentialsSecret' : 'remoteTLS', 'needs remoteEndpoint');
  }
  return settings;
}

/** The settings when no ConfigMap exists: block, failurePolicy Fail, analysis here. */
export function defaultPluginSettings(): PluginSettings {
  return parsePluginSettings({}, 'defaults');
}

/**
 * The settings file of DRIFT_DETECTOR_PLUGIN_CONFIG (for runs without a Kubernetes API, e.g.
 * tests): a ConfigMap manifest, or a flat mapping of the same keys.
 */
export function parsePluginSettingsFile(textOfFile: string, path: string): PluginSettings {
  const origin = basename(path);
  const doc = parseDocument(textOfFile, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    throw new PluginSettingsError(origin, undefined, `not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  const root: unknown = doc.toJS() ?? {};
  if (!isMap(root)) throw new PluginSettingsError(origin, undefined, 'expected a mapping (a ConfigMap manifest or the settings keys)');
  if (root['kind'] !== undefined || root['apiVersion'] !== undefined) {
    if (root['kind'] !== 'ConfigMap') throw new PluginSettingsError(origin, 'kind', `${JSON.stringify(root['kind'])} is not ConfigMap`);
    const data = root['data'] ?? {};
    if (!isMap(data)) throw new PluginSettingsError(origin, 'data', 'expected a mapping');
    return parsePluginSettings(data, origin);
  }
  return parsePluginSettings(root, origin);
}
