/**
 * `drift-detector serve`: one grpc-js server carrying driftdetector.v1.DriftDetector, Velero's
 * generated.RestoreItemAction (v1) and v2.RestoreItemAction, grpc.health.v1.Health and server
 * reflection; Prometheus metrics on a separate HTTP port.
 */
import { ReflectionService } from '@grpc/reflection';
import type { HealthImplementation } from 'grpc-health-check';
import { ConfiguredStorageLocations, s3SourceIn, type SourceIn } from '../app/backup-locator.js';
import type { DoorWords } from '../app/detect.js';
import { DriftService, type Detect } from '../app/drift-service.js';
import { readIgnoreFile } from '../app/ignore-file.js';
import { ReadinessWatch, type BackupCatalog, type RestorabilityChange } from '../app/readiness.js';
import { readinessReplicas, type ReadinessReplicas } from '../app/readiness-replicas.js';
import type { VerdictAdmission } from '../app/verdict-admission.js';
import { S3BackupCatalog } from '../backup/s3-backups.js';
import type { ConfiguredStorageLocation } from '../config/storage-locations.js';
import { RestoreGate } from '../app/restore-gate.js';
import { hostOf, joinHostPort } from '../config/addresses.js';
import type { ServiceConfig } from '../config/service-config.js';
import { DEFAULTS, type WatchSource } from '../config/defaults.js';
import { lazyKubeClient } from '../kube/client.js';
import { hasKubeConfig, loadKubeConfig } from '../kube/config.js';
import { BACKUPS_RBAC_HINT, ClusterBackupCatalog } from '../kube/location-backups.js';
import { guarded, type CallEnvironment } from '../rpc/calls.js';
import { PROTO_FILES, SERVICE_NAMES } from '../rpc/protos.js';
import { restoreItemActionV1, restoreItemActionV2 } from '../rpc/restore-item-action.js';
import { ServerShell } from '../rpc/server-shell.js';
import { jsonLogger, type Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import type { ServiceSecrets } from './auth.js';
import { driftDetectorImplementation } from './detector-handlers.js';
import { readinessEvents } from './readiness-events.js';
import { readinessImplementation } from './readiness-handlers.js';
import { createMetrics, serveMetrics, type ServiceMetrics } from './metrics.js';

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
  /** The clock of the analysis cache (default Date.now). */
  now: () => number;
}

export interface StartServiceOptions {
  config: ServiceConfig;
  secrets: ServiceSecrets;
  deps?: Partial<ServiceDeps>;
  logger?: Logger;
  metrics?: ServiceMetrics;
  /** Where a cluster is looked for (KUBECONFIG, a pod's service account); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningService {
  /** The address bound, with the real port (`127.0.0.1:50051`), or the unix socket. */
  address: string;
  port: number;
  /** `host:port` of the metrics listener, when configured. */
  metricsAddress?: string;
  service: DriftService;
  health: HealthImplementation;
  metrics: ServiceMetrics;
  /** The readiness watch, when `watch.enabled`. */
  readiness?: ReadinessWatch;
  /** Whether this replica runs the watch now (it holds the Lease, or there is no leader election). */
  isLeader(): boolean;
  /** Admission from the verdicts on Backup objects, when serve has a cluster (the webhook's). */
  verdictAdmission?: VerdictAdmission;
  /** Graceful stop: health goes NOT_SERVING, calls in flight may finish until the timeout, then the rest are cancelled. */
  shutdown(timeoutMs?: number): Promise<void>;
}

type MetricsListener = Awaited<ReturnType<typeof serveMetrics>>;

export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, secrets } = options;
  const logger = options.logger ?? jsonLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const env = { ...(secrets.token ? { token: secrets.token } : {}), logger, metrics };
  // Read before serving: a bad ignore file stops the start, naming the file and line.
  const ignore = config.analysis.ignoreFile ? await readIgnoreFile(config.analysis.ignoreFile) : undefined;
  const service = new DriftService({
    locations: new ConfiguredStorageLocations(config.storageLocations, options.deps?.resolveBackup ?? s3SourceIn),
    analysis: config.analysis,
    gate: config.gate,
    vcenterCredentials: secrets.vcenterCredentials,
    words: SERVICE_WORDS,
    ...(options.deps?.detect ? { detect: options.deps.detect } : {}),
    ...(ignore ? { ignore } : {}),
    ...(options.deps?.now ? { now: options.deps.now } : {}),
    logger,
    metrics,
  });
  const replicas = readinessReplicas(config, options.env ?? process.env, logger);
  const watching = config.watch.enabled ? readinessWatch(options, service, logger, metrics, replicas) : undefined;
  const readiness = watching?.watch;
  const shell = serviceShell(config, env, service, readiness);
  const port = await shell.bind(config.listen, secrets.credentials);
  const address = config.listen.startsWith('unix:') ? config.listen : joinHostPort(hostOf(config.listen)!, port);
  const metricsServer = await listenForMetrics(config, metrics).catch((err: unknown) => {
    shell.server.forceShutdown();
    throw err;
  });
  const metricsAddress = metricsServer ? joinHostPort(hostOf(config.metricsListen!)!, metricsServer.port) : undefined;
  logger.info('serving', {
    address,
    tls: config.tls ? (config.tls.clientCAFile ? 'mutual' : 'server') : 'off',
    auth: secrets.token !== undefined ? 'bearer' : 'none',
    mode: config.gate.mode,
    failurePolicy: config.gate.failurePolicy,
    pauseOnDrift: config.gate.pauseOnDrift,
    storageLocations: config.storageLocations.map((l) => l.name),
    ...(metricsAddress ? { metrics: metricsAddress } : {}),
    ...(watching
      ? {
          watchInterval: config.watch.intervalMs / 1000,
          watchListingInterval: watching.watch.listingIntervalMs / 1000,
          watchSource: watching.source,
        }
      : {}),
  });
  const watchRun = readiness ? await replicas.run(readiness) : undefined;
  if (watchRun?.lease) logger.info('leader election', { lease: watchRun.lease.name, identity: watchRun.lease.identity });
  const verdictAdmission = replicas.admission();

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = config.shutdownTimeoutMs): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('shutting down', { timeoutMs });
      // The watch's work stops and the Lease is handed over before the listeners close: the other replica takes over at once.
      await watchRun?.stop();
      await readiness?.stop();
      await shell.shutdown(timeoutMs, {
        onCancel: () => logger.warn('calls still running at the shutdown timeout: cancelling them', { timeoutMs }),
      });
      // Calls are over; analyses nobody waits for any more would keep the process alive.
      service.close();
      await metricsServer?.close();
      logger.info('stopped');
    })());

  return {
    address,
    port,
    ...(metricsAddress ? { metricsAddress } : {}),
    service,
    ...(readiness ? { readiness } : {}),
    isLeader: () => watchRun?.isLeader() ?? false,
    ...(verdictAdmission ? { verdictAdmission } : {}),
    health: shell.health,
    metrics,
    shutdown,
  };
}

/** The watch over every configured location, its gauges read from its state. */
function readinessWatch(
  options: StartServiceOptions,
  service: DriftService,
  logger: Logger,
  metrics: ServiceMetrics,
  replicas: ReadinessReplicas,
): { watch: ReadinessWatch; source: string } {
  const { config } = options;
  const env = options.env ?? process.env;
  const listing = backupCatalogs(config.watch.source, env);
  const catalogOf = options.deps?.catalogOf ?? listing.catalogOf;
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
    ...(config.watch.events ? { announce: options.deps?.announce ?? readinessEvents(logger, env) } : {}),
  });
  // Only the replica that runs the watch exports its series: a follower's would alert on analyses it never runs.
  metrics.readiness.bind(
    () => (watch.runningSince !== undefined ? watch.snapshot() : []),
    config.watch.intervalMs / 1000,
    () => watch.runningSince,
  );
  return { watch, source: options.deps?.catalogOf ? 'injected' : listing.source };
}

/**
 * watch.source: the Backup objects of Velero's namespace, or the bucket's velero-backup.json; auto
 * takes the cluster when serve has one. Once chosen it stays: a cluster that fails is the
 * location's failure, as a bucket that fails is.
 */
function backupCatalogs(
  source: WatchSource,
  env: NodeJS.ProcessEnv,
): { source: 'bucket' | 'cluster'; catalogOf: (l: ConfiguredStorageLocation) => BackupCatalog } {
  const resolved = source === 'auto' ? (hasKubeConfig(env) ? 'cluster' : 'bucket') : source;
  if (resolved === 'bucket')
    return { source: resolved, catalogOf: (l) => new S3BackupCatalog(l.location, { timeoutMs: l.timeoutMs, deadlineMs: l.deadlineMs }) };
  const client = lazyKubeClient(() => loadKubeConfig(env), { timeoutMs: DEFAULTS.kube.requestTimeoutMs, accessHint: BACKUPS_RBAC_HINT });
  return { source: resolved, catalogOf: (l) => new ClusterBackupCatalog(client, DEFAULTS.velero.namespace, l.name) };
}

/** The server with every service `serve` carries; reflection needs the token like the rest, health does not (probes carry none). */
function serviceShell(
  config: ServiceConfig,
  env: CallEnvironment & { metrics: ServiceMetrics },
  service: DriftService,
  readiness: ReadinessWatch | undefined,
): ServerShell {
  const served = [SERVICE_NAMES.driftDetector, SERVICE_NAMES.restoreItemActionV1, SERVICE_NAMES.restoreItemActionV2];
  const shell = new ServerShell({
    protos: [PROTO_FILES.driftDetector, PROTO_FILES.veleroRestoreItemActionV1, PROTO_FILES.veleroRestoreItemActionV2],
    healthServices: served,
    maxReceiveMessageBytes: config.maxReceiveMessageBytes,
  });
  const gate = new RestoreGate(service, env.logger, env.metrics);
  shell.add(SERVICE_NAMES.driftDetector, { ...driftDetectorImplementation(env, service), ...readinessImplementation(env, readiness) });
  shell.add(SERVICE_NAMES.restoreItemActionV1, restoreItemActionV1(env, gate));
  shell.add(SERVICE_NAMES.restoreItemActionV2, restoreItemActionV2(env, gate));
  new ReflectionService(shell.definitions).addToServer({
    addService: (svc, impl) => shell.server.addService(svc, guarded(env, svc, impl)),
  });
  return shell;
}

async function listenForMetrics(config: ServiceConfig, metrics: ServiceMetrics): Promise<MetricsListener | undefined> {
  if (!config.metricsListen) return undefined;
  const host = hostOf(config.metricsListen)!;
  const port = Number(config.metricsListen.slice(config.metricsListen.lastIndexOf(':') + 1));
  try {
    return await serveMetrics(metrics.registry, host, port);
  } catch (err) {
    throw new Error(`metrics.listen ${config.metricsListen}: ${errorMessage(err)}`, { cause: err });
  }
}
