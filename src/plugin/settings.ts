/**
 * The plugin's settings: the `data` of the ConfigMap in Velero's namespace labelled
 * `velero.io/plugin-config: ""` and `driftdetector.dev/restore-gate: RestoreItemAction` (Velero's
 * convention for plugin configuration). Every key is optional; an unset key takes its value from
 * DEFAULTS (the gate's, and the plugin's own analysis timeout and remote call deadline):
 *
 * ```yaml
 * mode: annotate                   # block | annotate
 * failurePolicy: Ignore            # Fail | Ignore
 * pauseOnDrift: "true"             # annotate mode: restore drifted Clusters paused
 * skipAccessAPIServer: "true"      # do not read the workload clusters' Nodes
 * insecureSkipVerify: "true"       # vCenters and workload API servers
 * vsphereCredentialsSecret: name   # Secret: username + password, and/or credentials.yaml
 * analysisTimeout: 20m             # bound on one analysis (Velero gives Execute no deadline)
 * vsphereTimeout: 1m               # each vCenter request
 * apiserverTimeout: 5s             # each workload API server request
 * storageTimeout: 1m               # each try of an object-storage request
 * storageDeadline: 20m             # one whole read of the backup from object storage
 * remoteEndpoint: host:port        # ask `drift-detector serve` instead of analysing here
 * remoteCredentialsSecret: name    # Secret: ca.crt, token, tls.crt + tls.key (all optional)
 * remoteTLS: "true"                # TLS with the system CAs when the Secret has no ca.crt
 * remoteTimeout: 20m               # deadline of each call to the service
 * ```
 * A bad value is an error naming the ConfigMap (or file) and the key; the plugin reports it as
 * the Execute error of every Cluster, so it shows in the restore's errors.
 */
import { basename } from 'node:path';
import { parseHostPort } from '../config/addresses.js';
import { DEFAULTS } from '../config/defaults.js';
import { readGateConfig } from '../config/gate-settings.js';
import { ConfigError, ConfigReader, parseYamlText, type Refuse } from '../config/values.js';
import type { GateConfig } from '../gate/decide.js';
import { isMap } from '../util/values.js';

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
  'storageDeadline',
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
  storageDeadlineMs: number;
  /** Secret in Velero's namespace holding vCenter credentials. */
  vsphereCredentialsSecret?: string;
  remote?: RemoteSettings;
}

export class PluginSettingsError extends ConfigError {
  override readonly name = 'PluginSettingsError';
  constructor(origin: string, key: string | undefined, detail: string) {
    super(`${origin}: ${key ? `${key}: ` : ''}${detail}`);
  }
}

/** An example of remoteEndpoint: the service as deploy/service installs it, on its usual port. */
const REMOTE_ENDPOINT_EXAMPLE = `drift-detector.drift-detector.svc:${parseHostPort(DEFAULTS.service.listen)?.port}`;

export function parsePluginSettings(data: Record<string, unknown>, origin: string): PluginSettings {
  const refuse = refuseIn(origin);
  new ConfigReader(data, refuse).onlyKeys(SETTINGS_KEYS);
  // Refused values are quoted: a ConfigMap holds no secret, only names of Secrets.
  const r = new ConfigReader(configMapText(data, refuse), refuse, { quoteRefused: true });
  const duration = (key: (typeof SETTINGS_KEYS)[number], fallback: number): number => r.duration(key, { positive: true }) ?? fallback;

  const settings: PluginSettings = {
    origin,
    gate: readGateConfig(r),
    skipAccessApiServer: r.bool('skipAccessAPIServer') ?? DEFAULTS.analysis.skipAccessApiServer,
    insecureSkipVerify: r.bool('insecureSkipVerify') ?? DEFAULTS.analysis.insecureSkipVerify,
    analysisTimeoutMs: duration('analysisTimeout', DEFAULTS.plugin.analysisTimeoutMs),
    vsphereTimeoutMs: duration('vsphereTimeout', DEFAULTS.vsphere.requestTimeoutMs),
    apiserverTimeoutMs: duration('apiserverTimeout', DEFAULTS.apiserver.timeoutMs),
    storageTimeoutMs: duration('storageTimeout', DEFAULTS.storage.requestTimeoutMs),
    storageDeadlineMs: duration('storageDeadline', DEFAULTS.storage.deadlineMs),
  };
  const vsphereSecret = r.objectName('vsphereCredentialsSecret', 'Secret');
  if (vsphereSecret) settings.vsphereCredentialsSecret = vsphereSecret;

  const endpoint = r.address('remoteEndpoint', { example: REMOTE_ENDPOINT_EXAMPLE });
  const remoteSecret = r.objectName('remoteCredentialsSecret', 'Secret');
  const remoteTls = r.bool('remoteTLS');
  const remoteTimeoutMs = duration('remoteTimeout', DEFAULTS.plugin.remoteTimeoutMs);
  if (endpoint) {
    settings.remote = {
      endpoint,
      tls: remoteTls ?? DEFAULTS.plugin.remoteTls,
      timeoutMs: remoteTimeoutMs,
      ...(remoteSecret ? { credentialsSecret: remoteSecret } : {}),
    };
  } else if (remoteSecret || remoteTls !== undefined) {
    refuse(remoteSecret ? 'remoteCredentialsSecret' : 'remoteTLS', 'needs remoteEndpoint');
  }
  return settings;
}

/**
 * The ConfigMap's values as trimmed text, blank ones left out. A ConfigMap holds strings; a
 * hand-written file may hold YAML booleans and numbers, which count as their text.
 */
function configMapText(data: Record<string, unknown>, refuse: Refuse): Record<string, string> {
  const text: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') refuse(key, 'expected a string');
    const trimmed = String(value).trim();
    if (trimmed !== '') text[key] = trimmed;
  }
  return text;
}

/** The settings when no ConfigMap exists: DEFAULTS, the analysis runs here. */
export function defaultPluginSettings(): PluginSettings {
  return parsePluginSettings({}, 'defaults');
}

/**
 * The settings file of DRIFT_DETECTOR_PLUGIN_CONFIG (for runs without a Kubernetes API, e.g.
 * tests): a ConfigMap manifest, or a flat mapping of the same keys.
 */
export function parsePluginSettingsFile(textOfFile: string, path: string): PluginSettings {
  const origin = basename(path);
  const refuse = refuseIn(origin);
  const root = parseYamlText(textOfFile, refuse);
  if (!isMap(root)) return refuse(undefined, 'expected a mapping (a ConfigMap manifest or the settings keys)');
  if (root['kind'] !== undefined || root['apiVersion'] !== undefined) {
    if (root['kind'] !== 'ConfigMap') refuse('kind', `${JSON.stringify(root['kind'])} is not ConfigMap`);
    const data = root['data'] ?? {};
    if (!isMap(data)) return refuse('data', 'expected a mapping');
    return parsePluginSettings(data, origin);
  }
  return parsePluginSettings(root, origin);
}

/** Refusals of the settings from `origin` (a ConfigMap or a file): PluginSettingsError. */
function refuseIn(origin: string): Refuse {
  return (key, detail) => {
    throw new PluginSettingsError(origin, key, detail);
  };
}
