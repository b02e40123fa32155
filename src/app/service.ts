/**
 * What `serve` serves, assembled once from its configuration: one DriftService (one analysis
 * cache for every door), one catalog per configured storage location, the readiness watch, the
 * restore gate and the Restore admission. The doors (gRPC, webhook, metrics) receive it and speak
 * their protocol; serve/start.ts opens them. A new use case of `serve` is built here, once, and
 * each door that offers it takes it from the assembly.
 */
import { DEFAULTS, type WatchSource } from '../config/defaults.js';
import { ConfigError } from '../config/values.js';
import { clusterBackupLocations } from '../kube/backup-location.js';
import { lazyKubeClient } from '../kube/client.js';
import { hasKubeConfig, loadKubeConfig } from '../kube/config.js';
import { clusterScheduleBackups } from '../kube/schedule-backups.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import { BACKUPS_RBAC_HINT, ClusterBackupCatalog } from '../storage/cluster-backups.js';
import type { ConfiguredStorageLocation } from '../storage/configured-locations.js';
import { BucketBackupCatalog } from '../storage/bucket.js';
import type { InventorySnapshot } from '../model/inventory.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import { readInventorySnapshot } from '../vsphere/snapshot.js';
import { RestoreAdmission } from './admission.js';
import { bucketSourceIn, ConfiguredStorageLocations, type SourceIn } from './backup-locator.js';
import type { DoorWords } from './detect.js';
import { DriftService, type AnalysisMetrics, type Detect } from './drift-service.js';
import { readIgnoreFile } from './ignore-file.js';
import { readinessEvents } from './readiness-events.js';
import { readinessReplicas, type ReadinessReplicas, type WatchRun } from './readiness-replicas.js';
import { ReadinessView } from './readiness-view.js';
import { ReadinessWatch, type BackupCatalog, type LocationReadiness, type ReadinessMetrics, type RestorabilityChange } from './readiness.js';
import { RestoreGate, type GateMetrics } from './restore-gate.js';
import type { ScheduleSources } from './schedule-backup.js';
import type { ServiceConfig } from './service-config.js';
import { unpauseForecaster, type UnpauseForecaster } from './unpause-service.js';
import type { VerdictAdmission } from './verdict-admission.js';

/** Said after a 401 or 403 of the management cluster during a forecast. */
const UNPAUSE_RBAC_HINT =
  'check that the service account may get, list and watch Cluster API and CAPV objects and Secrets (deploy/service/rbac.yaml)';

/** How the service words what the detection cannot know, in its configuration's keys. */
export const SERVICE_WORDS: DoorWords = {
  overridesFrom: 'the service configuration (vsphere) or environment',
  credentialsHint:
    'set vsphere.username and vsphere.passwordFile (or VSPHERE_USERNAME and VSPHERE_PASSWORD), or vsphere.credentialsFile, in the service configuration',
  certificateHints: {
    untrusted:
      "to trust it, add its CA to the service's environment (NODE_EXTRA_CA_CERTS=ca.pem), or pin its thumbprint in the backup's " +
      'VSphereCluster spec.thumbprint; analysis.insecureSkipVerify skips the check',
    'thumbprint-mismatch': "the backup's VSphereCluster spec.thumbprint pins the expected one; check the certificate",
  },
  trustHint: (vcenter) =>
    `to trust it, add "${vcenter}: <its certificate's SHA-256 thumbprint>" to vsphere.thumbprints, ` +
    `or ${vcenter} to vsphere.trustedHosts, or its CA to vsphere.caFile, in the service configuration`,
};

/** What tests and benchmarks replace: where a backup of a configured location is, and the detection. */
export interface ServiceDeps {
  resolveBackup: SourceIn;
  detect: Detect;
  /** The finished backups of a configured location, for the readiness watch. */
  catalogOf: (location: ConfiguredStorageLocation) => BackupCatalog;
  /** Where changes of restorability go (default: Kubernetes Events, when a cluster is reachable). */
  announce: (change: RestorabilityChange) => Promise<void>;
  /** Where a schedule's backups are read for the admission (default: the cluster's Backups, then the buckets). */
  schedules: Omit<ScheduleSources, 'logger'>;
  /** The clock of the analysis cache (default Date.now). */
  now: () => number;
}

/** The counters and gauges the use cases keep (the service's Prometheus registry fits). */
export interface ServiceMetricsSink extends AnalysisMetrics, GateMetrics {
  readiness: ReadinessMetrics & {
    bind(snapshot: () => LocationReadiness[], intervalSeconds: number, runningSince?: () => number | undefined): void;
  };
}

export interface AssembleOptions {
  config: ServiceConfig;
  vcenterCredentials: CredentialOverrides;
  logger: Logger;
  metrics: ServiceMetricsSink;
  deps?: Partial<ServiceDeps>;
  /** Where a cluster is looked for (KUBECONFIG, a pod's service account); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The readiness watch and where it lists each location's finished backups. */
export interface ServedReadiness {
  watch: ReadinessWatch;
  /** What GetReadiness and WatchReadiness answer: the watch's state, or on a follower the signed verdicts. */
  view: ReadinessView;
  source: 'bucket' | 'cluster' | 'injected';
}

export interface ServiceAssembly {
  config: ServiceConfig;
  logger: Logger;
  service: DriftService;
  /** Each configured storage location's bucket, by name: the one map every use case reads. */
  catalogs: ReadonlyMap<string, BucketBackupCatalog>;
  gate: RestoreGate;
  /** When `watch.enabled`. */
  readiness?: ServedReadiness;
  /** When `webhook.listen` is set. */
  admission?: RestoreAdmission;
  /** When `serve` has a cluster (a kubeconfig or a pod's service account): the unpause forecast of its Clusters. */
  unpause?: UnpauseForecaster;
  /** Admission from the verdicts on Backup objects, and the backup a denial points to: when serve has a cluster. */
  verdictAdmission?: VerdictAdmission;
  /** Whether this replica runs the readiness watch now (it holds the Lease, or there is no leader election). */
  isLeader(): boolean;
  /** Starts the background work (the readiness watch, under the Lease when there is a cluster): once the doors are open. */
  start(): void;
  /** Stops the background work; then the analyses nobody waits for any more. Call after the doors closed. */
  stopBackground(): Promise<void>;
  close(): void;
}

export async function assembleService(options: AssembleOptions): Promise<ServiceAssembly> {
  const { config, logger, metrics, deps = {} } = options;
  const env = options.env ?? process.env;
  // Read before serving: a bad ignore file stops the start, naming the file and line.
  const ignore = config.analysis.ignoreFile ? await readIgnoreFile(config.analysis.ignoreFile) : undefined;
  const inventory = config.analysis.inventory ? await readInventory(config.origin, config.analysis.inventory) : undefined;
  const service = new DriftService({
    locations: new ConfiguredStorageLocations(config.storageLocations, deps.resolveBackup ?? bucketSourceIn),
    // A restore's backup is read from the location its Backup names, when serve can read Backups.
    ...(hasKubeConfig(env) ? { backupStorageLocationOf: clusterBackupLocations({ env }) } : {}),
    analysis: config.analysis,
    gate: config.gate,
    vcenterCredentials: options.vcenterCredentials,
    words: SERVICE_WORDS,
    ...(deps.detect ? { detect: deps.detect } : {}),
    ...(ignore ? { ignore } : {}),
    ...(inventory ? { inventory } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    logger,
    metrics,
  });
  const catalogs = new Map(
    config.storageLocations.map((l) => [l.name, new BucketBackupCatalog(l.location, { timeoutMs: l.timeoutMs, deadlineMs: l.deadlineMs })]),
  );
  const replicas = readinessReplicas(config, env, logger);
  const readiness = config.watch.enabled ? readinessWatch(options, service, catalogs, env, replicas) : undefined;
  const verdictAdmission = replicas.admission();
  const admission = config.webhook
    ? new RestoreAdmission(service, {
        deadlineMs: config.webhook.deadlineMs,
        logger,
        // Schedule restores name no backup: the Backups of the schedule are read in the cluster the
        // webhook serves, else from the configured storage locations' buckets.
        schedules: deps.schedules ?? { apiServer: clusterScheduleBackups({ loadConfig: () => loadKubeConfig(env) }), buckets: catalogs },
        ...(verdictAdmission ? { verdicts: verdictAdmission } : {}),
      })
    : undefined;
  // The management cluster is the one `serve` runs against; its client is made at the first forecast.
  const unpause = hasKubeConfig(env)
    ? unpauseForecaster({
        client: lazyKubeClient(() => loadKubeConfig(env), { timeoutMs: DEFAULTS.unpause.kubeTimeoutMs, accessHint: UNPAUSE_RBAC_HINT }),
        analysis: config.analysis,
        vcenterCredentials: options.vcenterCredentials,
        words: SERVICE_WORDS,
      })
    : undefined;
  let watchRun: Promise<WatchRun> | undefined;
  return {
    config,
    logger,
    service,
    catalogs,
    gate: new RestoreGate(service, logger, metrics),
    ...(readiness ? { readiness } : {}),
    ...(admission ? { admission } : {}),
    ...(unpause ? { unpause } : {}),
    ...(verdictAdmission ? { verdictAdmission } : {}),
    isLeader: () => readiness?.watch.runningSince !== undefined,
    start: () => {
      if (!readiness || watchRun) return;
      watchRun = replicas.run(readiness.watch);
      watchRun.then(
        (run) => run.lease && logger.info('leader election', { lease: run.lease.name, identity: run.lease.identity }),
        (err: unknown) => logger.error('the readiness watch cannot start', { error: errorMessage(err) }),
      );
    },
    // The watch's work stops, then the Lease is handed over: the other replica takes over at once.
    stopBackground: async () => {
      await watchRun?.then((run) => run.stop()).catch(() => {});
      await readiness?.watch.stop();
    },
    close: () => service.close(),
  };
}

/** `analysis.inventory`, read before serving: a bad snapshot stops the start, naming the key and the field. */
async function readInventory(origin: string, path: string): Promise<{ path: string; snapshot: InventorySnapshot }> {
  try {
    return { path, snapshot: await readInventorySnapshot(path) };
  } catch (err) {
    throw new ConfigError(`${origin}: analysis.inventory: ${errorMessage(err)}`, { cause: err });
  }
}

/** The watch over every configured location, its gauges read from its state. */
function readinessWatch(
  options: AssembleOptions,
  service: DriftService,
  buckets: ReadonlyMap<string, BackupCatalog>,
  env: NodeJS.ProcessEnv,
  replicas: ReadinessReplicas,
): ServedReadiness {
  const { config, logger, metrics, deps = {} } = options;
  const listing = watchSource(config.watch.source, env);
  const catalogOf =
    deps.catalogOf ?? (listing.source === 'bucket' ? (l: ConfiguredStorageLocation) => buckets.get(l.name)! : clusterCatalogs(env));
  const watch = new ReadinessWatch({
    service,
    catalogs: new Map(config.storageLocations.map((l) => [l.name, catalogOf(l)])),
    intervalMs: config.watch.intervalMs,
    ...(config.watch.depth ? { depth: config.watch.depth } : {}),
    ...(config.watch.olderIntervalMs ? { olderIntervalMs: config.watch.olderIntervalMs } : {}),
    ...(config.watch.clockSkewMs !== undefined ? { clockSkewMs: config.watch.clockSkewMs } : {}),
    ...replicas.watchHooks,
    logger,
    metrics: metrics.readiness,
    ...(config.watch.events ? { announce: deps.announce ?? readinessEvents(logger, env) } : {}),
  });
  // Only the replica that runs the watch exports its series: a follower's would alert on analyses it never runs.
  metrics.readiness.bind(
    () => (watch.runningSince !== undefined ? watch.snapshot() : []),
    config.watch.intervalMs / 1000,
    () => watch.runningSince,
  );
  const view = new ReadinessView({
    watch,
    ...(replicas.verdicts ? { verdicts: replicas.verdicts } : {}),
    clockSkewMs: config.watch.clockSkewMs ?? DEFAULTS.watch.clockSkewMs,
  });
  return { watch, view, source: deps.catalogOf ? 'injected' : listing.source };
}

/**
 * watch.source: the Backup objects of Velero's namespace, or the bucket's velero-backup.json; auto
 * takes the cluster when serve has one. Once chosen it stays: a cluster that fails is the
 * location's failure, as a bucket that fails is.
 */
function watchSource(source: WatchSource, env: NodeJS.ProcessEnv): { source: 'bucket' | 'cluster' } {
  return { source: source === 'auto' ? (hasKubeConfig(env) ? 'cluster' : 'bucket') : source };
}

function clusterCatalogs(env: NodeJS.ProcessEnv): (l: ConfiguredStorageLocation) => BackupCatalog {
  const client = lazyKubeClient(() => loadKubeConfig(env), { timeoutMs: DEFAULTS.kube.requestTimeoutMs, accessHint: BACKUPS_RBAC_HINT });
  return (l) => new ClusterBackupCatalog(client, DEFAULTS.velero.namespace, l.name);
}
