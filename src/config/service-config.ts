/**
 * Configuration of `drift-detector serve`: a YAML file, then environment variables, then flags
 * (see service-sources.ts). Secrets are never inline: the file names files that hold them (token,
 * TLS key, vCenter password, S3 credentials). A bad value stops the start with a message naming
 * where it came from and the key, e.g. `config.yaml: gate.mode: expected block or annotate`.
 * Every key is optional except a storage location; unset keys take their value from DEFAULTS.
 *
 * ```yaml
 * listen: 127.0.0.1:7443            # host:port, [v6]:port or unix:/path; non-loopback needs tls
 * logLevel: debug                   # debug | info | warn | error
 * metrics: { listen: 127.0.0.1:9464 }
 * tls: { certFile: server.crt, keyFile: server.key, clientCAFile: clients-ca.crt }  # clientCAFile: mutual TLS
 * auth: { tokenFile: token }        # callers send `authorization: Bearer <token>`
 * storageLocations:                 # the first one with default: true (else the first) is the default
 *   - name: primary
 *     default: true
 *     file: bsl.yaml                # a BackupStorageLocation manifest or a flat location file
 *   - name: minio
 *     bucket: velero
 *     prefix: tkg
 *     s3Url: http://minio.velero.svc:9000
 *     s3ForcePathStyle: true
 *     region: minio
 *     credentialsFile: /credentials/cloud
 *     timeout: 1m                   # each S3 request
 * gate: { mode: annotate, failurePolicy: Ignore, pauseOnDrift: true }
 * analysis:
 *   cacheTTL: 1h
 *   failureCacheTTL: 0
 *   timeout: 20m
 *   skipAccessApiServer: true
 *   insecureSkipVerify: false
 *   vcenterTimeout: 1m
 *   apiserverTimeout: 5s
 *   apiserverConcurrency: 16
 *   maxConcurrent: 2                # analyses of different backups at once; more: RESOURCE_EXHAUSTED
 *   maxAge: 10m                     # a readiness-watch result this fresh answers for its backup
 *   ignoreFile: /config/driftignore # VMs the operator knows, as `detect --ignore-file` (read at start)
 * watch: { enabled: true, interval: 10m, events: true, source: auto }  # re-analyse each location's newest backup (source: auto | bucket | cluster)
 *   # depth: 3, olderInterval: 1h, clockSkew: 5m, verdictKeySecret: drift-detector-verdict-key
 *   # leaderElection: { enabled: true, namespace: drift-detector, leaseName: drift-detector-readiness,
 *   #                   leaseDuration: 15s, renewDeadline: 10s, retryPeriod: 2s }   # one replica runs the watch
 * vsphere: { username: admin@vsphere.local, passwordFile: /secrets/vsphere-password, credentialsFile: /secrets/vcenters.yaml }
 *   # the vCenters trusted with these credentials beside those the system CAs verify (README, Security):
 *   # caFile: vcenter-ca.pem, thumbprints: { vc01.example.com: "3F:A2:..." }, trustedHosts: [vc02.example.com]
 * limits: { maxReceiveMessageBytes: 16777216, backupMemoryBytes: 536870912 }  # bytes kept from one backup
 * shutdownTimeout: 30s
 * webhook:                          # the admission webhook on Restores (HTTPS only; none unless listen is set)
 *   listen: 0.0.0.0:9443
 *   tls: { certFile: /tls/tls.crt, keyFile: /tls/tls.key }  # reloaded when the files change
 *   deadline: 8s                    # answer within this; failurePolicy decides when the analysis is not ready
 * ```
 * VSPHERE_USERNAME and VSPHERE_PASSWORD work as for `detect`; vsphere.credentialsFile is the
 * same YAML map of vCenter server to {username, password} as `detect --vsphere-credentials`.
 */
import type { GateConfig } from '../gate/decide.js';
import type { LogLevel } from '../util/jsonlog.js';
import { isLoopbackListen } from './addresses.js';
import { DEFAULTS, WATCH_SOURCES, type WatchSource } from './defaults.js';
import { readGateConfig } from './gate-settings.js';
import { readTlsFiles, readTokenFile, readVSphereFiles, type PathOf, type TlsFiles, type VSphereFiles } from './service-files.js';
import type { ServiceSources } from './service-sources.js';
import type { AddressRule, ConfigReader } from './values.js';

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
  /** Bound on the bytes kept from one backup. */
  backupMemoryBudgetBytes?: number;
  /** How old a readiness-watch result may be and still answer for the backup. */
  maxAgeMs?: number;
  /** VMs the operator knows (`detect --ignore-file`): read once at start; none when absent. */
  ignoreFile?: string;
}

/** The readiness watch of `serve`. */
export interface WatchConfig {
  enabled: boolean;
  intervalMs: number;
  /** Kubernetes Events on a BackupStorageLocation whose newest backup changes restorability. */
  events: boolean;
  /** Backup objects in the cluster, or the bucket's velero-backup.json; auto: the cluster when one is configured. */
  source: WatchSource;
  /** Completed backups of each location that keep a verdict (newest first). Unset here and below: DEFAULTS.watch. */
  depth?: number;
  /** Re-analysis of the older ones. */
  olderIntervalMs?: number;
  /** A completion further ahead of the clock than this is set aside. */
  clockSkewMs?: number;
  leaderElection?: LeaderElectionConfig;
  /** The Secret whose key signs the verdicts on Backups, in leaderElection.namespace. */
  verdictKeySecret?: string;
}

/** One replica runs the watch (client-go's leader election); every replica serves. */
export interface LeaderElectionConfig {
  enabled: boolean;
  /** Where the Lease and the verdict key live; unset: the pod's namespace, else DEFAULTS.service.namespace. */
  namespace?: string;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Everything `serve` is configured with but its storage locations (storage/configured-locations.ts reads those). */
export interface ServiceSettings {
  /** Where the values came from, for messages: the config file's name, or `flags`. */
  origin: string;
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  listen: string;
  logLevel: LogLevel;
  metricsListen?: string;
  tls?: TlsFiles;
  tokenFile?: string;
  gate: GateConfig;
  analysis: AnalysisConfig;
  watch: WatchConfig;
  vsphere: VSphereFiles;
  maxReceiveMessageBytes: number;
  shutdownTimeoutMs: number;
  webhook?: WebhookConfig;
}

/** The admission webhook's listener: always HTTPS (the API server calls webhooks over TLS only). */
export interface WebhookConfig {
  listen: string;
  certFile: string;
  keyFile: string;
  deadlineMs: number;
}

const LISTEN: AddressRule = { example: DEFAULTS.service.listen, unix: true, anyPort: true };

export function readServiceSettings({ origin, reader: r, pathOf }: ServiceSources): ServiceSettings {
  const listen = r.address('listen', LISTEN) ?? DEFAULTS.service.listen;
  const metricsListen = r.address('metrics.listen', LISTEN);
  const tls = readTlsFiles(r, pathOf);
  if (!tls && !isLoopbackListen(listen)) {
    r.refuse('listen', `${listen} is not a loopback address: configure tls (tls.certFile, tls.keyFile) to listen beyond this host`);
  }
  const tokenFile = readTokenFile(r, pathOf);
  const gate = readGateConfig(r, 'gate.');
  const analysis = readAnalysisConfig(r, pathOf);
  const vsphere = readVSphereFiles(r, pathOf);

  const config: ServiceSettings = {
    origin,
    listen,
    logLevel: r.logLevel('logLevel') ?? DEFAULTS.service.logLevel,
    gate,
    analysis,
    watch: readWatchConfig(r),
    vsphere,
    maxReceiveMessageBytes: r.positiveInt('limits.maxReceiveMessageBytes') ?? DEFAULTS.service.maxReceiveMessageBytes,
    shutdownTimeoutMs: r.duration('shutdownTimeout', { positive: true }) ?? DEFAULTS.service.shutdownTimeoutMs,
  };
  if (metricsListen) config.metricsListen = metricsListen;
  if (tls) config.tls = tls;
  if (tokenFile) config.tokenFile = tokenFile;
  const webhook = readWebhookConfig(r, pathOf);
  if (webhook) config.webhook = webhook;
  return config;
}

function readWebhookConfig(r: ConfigReader, pathOf: PathOf): WebhookConfig | undefined {
  const listen = r.address('webhook.listen', { example: '0.0.0.0:9443', anyPort: true });
  const certFile = r.string('webhook.tls.certFile');
  const keyFile = r.string('webhook.tls.keyFile');
  const deadlineMs = r.duration('webhook.deadline', { positive: true }) ?? DEFAULTS.webhook.deadlineMs;
  if (!listen) return undefined;
  if (!certFile) return r.refuse('webhook.tls.certFile', 'required with webhook.listen (the API server calls webhooks over HTTPS only)');
  if (!keyFile) return r.refuse('webhook.tls.keyFile', 'required with webhook.listen');
  return { listen, certFile: pathOf('webhook.tls.certFile', certFile), keyFile: pathOf('webhook.tls.keyFile', keyFile), deadlineMs };
}

function readWatchConfig(r: ConfigReader): WatchConfig {
  const positive = { positive: true };
  const w = DEFAULTS.watch;
  return {
    enabled: r.bool('watch.enabled') ?? w.enabled,
    intervalMs: r.duration('watch.interval', positive) ?? w.intervalMs,
    events: r.bool('watch.events') ?? w.events,
    source: r.choice('watch.source', WATCH_SOURCES) ?? w.source,
    depth: r.positiveInt('watch.depth') ?? w.depth,
    olderIntervalMs: r.duration('watch.olderInterval', positive) ?? w.olderIntervalMs,
    clockSkewMs: r.duration('watch.clockSkew') ?? w.clockSkewMs,
    leaderElection: readLeaderElection(r),
    verdictKeySecret: r.objectName('watch.verdictKeySecret', 'Secret') ?? w.verdictKeySecret,
  };
}

/** client-go's rule: the leader gives up (renew deadline) before anyone may take over (lease duration), with retries in between. */
function readLeaderElection(r: ConfigReader): LeaderElectionConfig {
  const positive = { positive: true };
  const d = DEFAULTS.watch.leaderElection;
  const namespace = r.objectName('watch.leaderElection.namespace', 'namespace');
  const config: LeaderElectionConfig = {
    enabled: r.bool('watch.leaderElection.enabled') ?? d.enabled,
    ...(namespace ? { namespace } : {}),
    leaseName: r.objectName('watch.leaderElection.leaseName', 'Lease') ?? d.leaseName,
    leaseDurationMs: r.duration('watch.leaderElection.leaseDuration', positive) ?? d.leaseDurationMs,
    renewDeadlineMs: r.duration('watch.leaderElection.renewDeadline', positive) ?? d.renewDeadlineMs,
    retryPeriodMs: r.duration('watch.leaderElection.retryPeriod', positive) ?? d.retryPeriodMs,
  };
  if (config.renewDeadlineMs >= config.leaseDurationMs) {
    r.refuse('watch.leaderElection.renewDeadline', 'must be shorter than leaseDuration (the leader stops before another may start)');
  }
  if (config.retryPeriodMs * 1.2 >= config.renewDeadlineMs) {
    r.refuse('watch.leaderElection.retryPeriod', 'must be shorter than renewDeadline / 1.2 (a renewal needs room for a retry)');
  }
  return config;
}

function readAnalysisConfig(r: ConfigReader, pathOf: PathOf): AnalysisConfig {
  const positive = { positive: true };
  const ignoreFile = r.string('analysis.ignoreFile');
  return {
    cacheTtlMs: r.duration('analysis.cacheTTL') ?? DEFAULTS.service.cacheTtlMs,
    failureCacheTtlMs: r.duration('analysis.failureCacheTTL') ?? DEFAULTS.analysis.failureCacheTtlMs,
    timeoutMs: r.duration('analysis.timeout', positive) ?? DEFAULTS.service.analysisTimeoutMs,
    skipAccessApiServer: r.bool('analysis.skipAccessApiServer') ?? DEFAULTS.analysis.skipAccessApiServer,
    insecureSkipVerify: r.bool('analysis.insecureSkipVerify') ?? DEFAULTS.analysis.insecureSkipVerify,
    vcenterTimeoutMs: r.duration('analysis.vcenterTimeout', positive) ?? DEFAULTS.vsphere.requestTimeoutMs,
    apiserverTimeoutMs: r.duration('analysis.apiserverTimeout', positive) ?? DEFAULTS.apiserver.timeoutMs,
    apiserverConcurrency: r.positiveInt('analysis.apiserverConcurrency') ?? DEFAULTS.apiserver.concurrency,
    maxConcurrent: r.positiveInt('analysis.maxConcurrent') ?? DEFAULTS.service.maxConcurrentAnalyses,
    backupMemoryBudgetBytes: r.positiveInt('limits.backupMemoryBytes') ?? DEFAULTS.backup.maxRetainedBytes,
    maxAgeMs: r.duration('analysis.maxAge') ?? DEFAULTS.service.analysisMaxAgeMs,
    ...(ignoreFile ? { ignoreFile: pathOf('analysis.ignoreFile', ignoreFile) } : {}),
  };
}
