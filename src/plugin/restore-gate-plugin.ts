/**
 * The restore gate inside Velero's pod. Execute runs the shared RestoreGate (or asks a remote
 * `drift-detector serve`), with what the cluster says:
 * - settings from the plugin's ConfigMap (read at the first Execute, kept for the process, which
 *   Velero starts for one restore and kills after it);
 * - the backup from the storage location its Backup object names, with Velero's credentials
 *   (AWS_SHARED_CREDENTIALS_FILE, or the BSL's own credential Secret);
 * - vCenter credentials from the Secret the settings name, else those found in the backup.
 * Outside a cluster (tests, a developer's machine) DRIFT_DETECTOR_PLUGIN_CONFIG and
 * DRIFT_DETECTOR_STORAGE_LOCATION name files that stand for the ConfigMap and the location.
 *
 * Nothing here runs before the first Execute: the handshake and ListPlugins never depend on the
 * cluster, so a misconfiguration cannot stop Velero's server from starting. It surfaces as the
 * Execute error of each Cluster instead, in the restore's errors.
 */
import type { DoorWords } from '../app/detect.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import { DriftService, type Detect } from '../app/drift-service.js';
import type { AnalysisConfig } from '../config/service-config.js';
import { DomainError } from '../app/errors.js';
import { failureKind } from '../app/failures.js';
import {
  GateBlockedError,
  peekExecute,
  RestoreGate,
  type ExecuteInput,
  type ExecuteOutput,
  type ExecuteTarget,
  type GateCall,
} from '../app/restore-gate.js';
import { DEFAULTS } from '../config/defaults.js';
import { parseCredentialsYaml, thumbprintEntry, vcenterTrustOf } from '../config/vcenter-credentials.js';
import { loadKubeConfig } from '../kube/config.js';
import { isObjectName } from '../model/kube.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import { BackupLocationNames } from './backup-location-names.js';
import { kubeVeleroCluster, type VeleroCluster } from './cluster.js';
import { SETTINGS_FILE_ENV, STORAGE_LOCATION_FILE_ENV } from './environment.js';
import { RemoteBlockedError, RemoteGate, remoteCredentialsFromSecret } from './remote.js';
import { outcomeFromDecision, outcomeFromError, outcomeFromItem, outcomeFromRemote, RestoreReporter } from './restore-report.js';
import { defaultPluginSettings, parsePluginSettings, parsePluginSettingsFile, type PluginSettings, type RemoteSettings } from './settings.js';
import { readTextOr } from '../util/files.js';

/** How the plugin words what the detection cannot know, in its ConfigMap's keys. */
export const PLUGIN_WORDS: DoorWords = {
  overridesFrom: "the plugin's vSphere credentials Secret",
  credentialsHint: "set vsphereCredentialsSecret in the plugin's ConfigMap",
  certificateHints: {
    untrusted:
      "to trust it, add its CA to Velero's container (NODE_EXTRA_CA_CERTS=ca.pem), or pin its thumbprint in the backup's " +
      "VSphereCluster spec.thumbprint; insecureSkipVerify in the plugin's ConfigMap skips the check",
    'thumbprint-mismatch': "the backup's VSphereCluster spec.thumbprint pins the expected one; check the certificate",
  },
  trustHint: (vcenter) =>
    `to trust it, add "${vcenter}=<its certificate's SHA-256 thumbprint>" to the key thumbprints, or ${vcenter} to ` +
    "the key trustedHosts, or its CA as ca.crt, in the plugin's vSphere credentials Secret",
};

export interface PluginEnvironment {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** The cluster Velero runs in; default: the in-cluster service account (or KUBECONFIG). */
  cluster?: () => Promise<VeleroCluster>;
  /** The detection; tests count or fake it. */
  detect?: Detect;
}

type Gate = Pick<RestoreGate, 'execute'>;

interface Runtime {
  settings: PluginSettings;
  gate: Gate;
  close(): void;
}

/** The analysis lives as long as the process (one restore); failures are kept briefly, for a burst of items. */
const ANALYSIS_CACHE_TTL_MS = DEFAULTS.plugin.cacheTtlMs;
const FAILURE_CACHE_TTL_MS = DEFAULTS.analysis.failureCacheTtlMs;

/** The analyses of one restore: bounds from the settings, a small share of Velero's pod. */
function pluginAnalysis(settings: PluginSettings): AnalysisConfig {
  return {
    cacheTtlMs: ANALYSIS_CACHE_TTL_MS,
    failureCacheTtlMs: FAILURE_CACHE_TTL_MS,
    timeoutMs: settings.analysisTimeoutMs,
    skipAccessApiServer: settings.skipAccessApiServer,
    insecureSkipVerify: settings.insecureSkipVerify,
    vcenterTimeoutMs: settings.vsphereTimeoutMs,
    apiserverTimeoutMs: settings.apiserverTimeoutMs,
    apiserverConcurrency: DEFAULTS.apiserver.concurrency,
    maxConcurrent: DEFAULTS.plugin.maxConcurrentAnalyses,
  };
}

/** The plugin cannot work as set up: the item's error, a misconfiguration unless its cause says more. */
function misconfigured(err: unknown): never {
  const kind = failureKind(err);
  throw new DomainError(kind === 'internal' ? 'misconfigured' : kind, `drift-detector plugin: ${errorMessage(err)}`, { cause: err });
}

export class PluginRestoreGate implements Gate {
  private runtime: Promise<Runtime> | undefined;
  private clusterAccess: Promise<VeleroCluster> | undefined;
  private readonly reporter: RestoreReporter;

  constructor(private readonly environment: PluginEnvironment) {
    this.reporter = new RestoreReporter(() => this.cluster(), environment.logger);
  }

  get namespace(): string {
    return this.environment.env['VELERO_NAMESPACE'] || DEFAULTS.velero.namespace;
  }

  async execute(input: ExecuteInput, call: GateCall): Promise<ExecuteOutput> {
    const target = peekExecute(input);
    if (!target.isCluster) return this.executeMember(input, call, target);

    let outcome;
    try {
      const runtime = await this.loadRuntime(call.signal);
      const output = await runtime.gate.execute(input, call);
      outcome = output.decision ? outcomeFromDecision(output.decision) : outcomeFromItem(target.cluster, output.item);
      return output;
    } catch (err) {
      outcome =
        err instanceof GateBlockedError
          ? outcomeFromDecision(err.decision)
          : err instanceof RemoteBlockedError
            ? outcomeFromRemote(err.decision, err)
            : outcomeFromError(target.cluster, err);
      throw err;
    } finally {
      if (target.restore && outcome) await this.reporter.report(target.restore, outcome);
    }
  }

  /**
   * Any other object goes to the gate too. When the plugin cannot judge at all (its settings
   * unreadable), the object is kept out with a warning: its Cluster fails with the cause, and the
   * restore is run again once that is fixed.
   */
  private async executeMember(input: ExecuteInput, call: GateCall, target: ExecuteTarget): Promise<ExecuteOutput> {
    let runtime: Runtime;
    try {
      runtime = await this.loadRuntime(call.signal);
    } catch (err) {
      if (call.signal.aborted) throw err;
      this.environment.logger.warn(`skipped ${target.kind} ${target.cluster}: drift-detector cannot judge it: ${errorMessage(err)}`);
      return { item: Buffer.from(input.item), skipRestore: true };
    }
    return runtime.gate.execute(input, call);
  }

  /** Stops background work (the remote client); the analysis cache goes with the process. */
  close(): void {
    void this.runtime?.then(
      (r) => r.close(),
      () => {},
    );
  }

  private cluster(): Promise<VeleroCluster> {
    const make = this.environment.cluster ?? (async () => kubeVeleroCluster(await loadKubeConfig(this.environment.env), this.namespace));
    // A failure to load the kubeconfig does not change within a process: keep it.
    return (this.clusterAccess ??= make());
  }

  private loadRuntime(signal: AbortSignal): Promise<Runtime> {
    if (!this.runtime) {
      this.runtime = this.buildRuntime(signal);
      // A failed read (API server busy, ConfigMap being fixed) is tried again at the next item.
      this.runtime.catch(() => (this.runtime = undefined));
    }
    return this.runtime;
  }

  private async buildRuntime(signal: AbortSignal): Promise<Runtime> {
    const settings = await this.readSettings(signal).catch(misconfigured);
    this.environment.logger.info('settings read', {
      origin: settings.origin,
      mode: settings.gate.mode,
      failurePolicy: settings.gate.failurePolicy,
      pauseOnDrift: settings.gate.pauseOnDrift,
      skipAccessApiServer: settings.skipAccessApiServer,
      ...(settings.remote ? { remoteEndpoint: settings.remote.endpoint } : {}),
    });
    return settings.remote ? this.remoteRuntime(settings, settings.remote, signal) : this.localRuntime(settings, signal);
  }

  /** remoteEndpoint: each Execute goes to `drift-detector serve`. */
  private async remoteRuntime(settings: PluginSettings, remote: RemoteSettings, signal: AbortSignal): Promise<Runtime> {
    const credentials = remote.credentialsSecret
      ? await this.readSecret(remote.credentialsSecret, signal)
          .then((data) => remoteCredentialsFromSecret(data, `Secret ${this.namespace}/${remote.credentialsSecret}`))
          .catch(misconfigured)
      : {};
    let gate: RemoteGate;
    try {
      gate = new RemoteGate(remote, credentials);
    } catch (err) {
      return misconfigured(err);
    }
    const locations = new BackupLocationNames(
      async (backupName, signal) => (await this.cluster()).storageLocationNameOf(backupName, signal),
      this.environment.logger,
    );
    const execute = async (input: ExecuteInput, call: GateCall) => {
      // A Restore without a readable backup name goes on unchanged: the service names the problem.
      const { backupName } = peekExecute(input);
      const storageLocation = backupName && isObjectName(backupName) ? await locations.nameOf(backupName, call.signal) : undefined;
      if (storageLocation !== undefined) call.fields['storageLocation'] = storageLocation;
      return gate.execute(input, call.signal, storageLocation);
    };
    return { settings, gate: { execute }, close: () => gate.close() };
  }

  /** The analysis here: the backup from the storage location its Backup names. */
  private async localRuntime(settings: PluginSettings, signal: AbortSignal): Promise<Runtime> {
    const { env, logger } = this.environment;
    const vcenterCredentials = settings.vsphereCredentialsSecret
      ? await this.readSecret(settings.vsphereCredentialsSecret, signal)
          .then((data) => vcenterCredentialsFromSecret(data, `Secret ${this.namespace}/${settings.vsphereCredentialsSecret}`))
          .catch(misconfigured)
      : {};
    // The S3 client is evaluated here, at the first local analysis, not in every plugin process.
    const { onlyLocation, VeleroBackupLocator } = await import('../app/backup-locator.js');
    const locator = new VeleroBackupLocator({
      file: env[STORAGE_LOCATION_FILE_ENV] || undefined,
      cluster: () => this.cluster(),
      timeoutMs: settings.storageTimeoutMs,
      deadlineMs: settings.storageDeadlineMs,
      logger,
      unreachableHint: `outside a cluster, set ${STORAGE_LOCATION_FILE_ENV}`,
    });
    const service = new DriftService({
      locations: onlyLocation('backup-storage-location', locator, true),
      analysis: pluginAnalysis(settings),
      gate: settings.gate,
      vcenterCredentials,
      words: PLUGIN_WORDS,
      ...(this.environment.detect ? { detect: this.environment.detect } : {}),
      logger,
    });
    return { settings, gate: new RestoreGate(service, logger), close: () => {} };
  }

  private async readSettings(signal: AbortSignal): Promise<PluginSettings> {
    const file = this.environment.env[SETTINGS_FILE_ENV];
    if (file) {
      const text = await readTextOr(file, (why, cause) => new Error(`${SETTINGS_FILE_ENV}=${file}: cannot read it (${why})`, { cause }));
      return parsePluginSettingsFile(text, file);
    }
    const cluster = await this.cluster().catch((err: unknown) => {
      throw new Error(`cannot read the plugin's ConfigMap: ${errorMessage(err)} (outside a cluster, set ${SETTINGS_FILE_ENV})`, { cause: err });
    });
    const configMap = await cluster.findPluginConfigMap(signal);
    if (!configMap) return defaultPluginSettings();
    return parsePluginSettings(configMap.data, `ConfigMap ${cluster.namespace}/${configMap.name}`);
  }

  private async readSecret(name: string, signal: AbortSignal): Promise<Record<string, string>> {
    const cluster = await this.cluster().catch((err: unknown) => {
      throw new Error(`cannot read Secret ${this.namespace}/${name}: ${errorMessage(err)}`, { cause: err });
    });
    return cluster.readSecret(name, signal);
  }
}

/**
 * `username` + `password` for every vCenter, and/or `credentials.yaml` (server: {username, password});
 * the vCenters trusted with them: `ca.crt`, `thumbprints` (`server=thumbprint` lines), `trustedHosts` (a server a line).
 */
export function vcenterCredentialsFromSecret(data: Record<string, string>, origin: string): CredentialOverrides {
  const known = ['username', 'password', 'credentials.yaml', 'ca.crt', 'thumbprints', 'trustedHosts'];
  for (const key of Object.keys(data)) {
    if (!known.includes(key)) throw new Error(`${origin}: unknown key "${key}" (expected ${known.join(', ')})`);
  }
  const overrides: CredentialOverrides = {};
  const username = data['username']?.trim();
  if (username) overrides.username = username;
  const password = data['password']?.replace(/\r?\n$/, '');
  if (password) overrides.password = password;
  if (data['credentials.yaml']) overrides.byServer = parseCredentialsYaml(data['credentials.yaml'], `${origin} key credentials.yaml`);
  if (!overrides.username && !overrides.password && !overrides.byServer)
    throw new Error(`${origin}: holds no username, password or credentials.yaml`);
  const lines = (key: string) => (data[key] ?? '').split(/[\r\n,]+/).flatMap((line) => (line.trim() ? [line.trim()] : []));
  const trust = vcenterTrustOf(
    {
      ...(data['ca.crt'] ? { ca: data['ca.crt'] } : {}),
      thumbprints: lines('thumbprints').map((entry) => thumbprintEntry(entry, `${origin} key thumbprints:`)),
      hosts: lines('trustedHosts'),
    },
    { ca: `${origin} key ca.crt`, thumbprints: `${origin} key thumbprints:`, hosts: `${origin} key trustedHosts:` },
  );
  if (trust) overrides.trust = trust;
  return overrides;
}
