/**
 * The composition root of `drift-detector serve`: the configuration read once, the service
 * assembled once (app/service.ts), then each door opened on what it serves: gRPC, the admission
 * webhook (webhook.listen), the metrics listener (metrics.listen). One shutdown closes them in
 * order. A new door of `serve` is opened here; a new use case is built in the assembly.
 */
import type { HealthImplementation } from 'grpc-health-check';
import type { ReadinessWatch } from '../app/readiness.js';
import { loadServiceConfig, type ServiceConfig } from '../app/service-config.js';
import { assembleService, type ServiceAssembly, type ServiceDeps } from '../app/service.js';
import { hostOf, joinHostPort } from '../config/addresses.js';
import type { LoadConfigOptions } from '../config/service-sources.js';
import { serviceVCenterCredentials } from '../config/vcenter-credentials.js';
import { loadGrpcSecrets, type GrpcSecrets } from '../grpc/auth.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import { createMetrics, serveMetrics, type ServiceMetrics } from '../grpc/metrics.js';
import { openGrpcDoor, type GrpcDoor } from '../grpc/server.js';
import { jsonLogger, type Logger } from '../util/jsonlog.js';
import { assertCredentialsFilesReadable } from '../storage/configured-locations.js';
import { errorMessage } from '../util/values.js';
import { startWebhook, type RunningWebhook } from '../webhook/server.js';

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
  /** The gRPC address bound, with the real port (`127.0.0.1:50051`), or the unix socket. */
  address: string;
  port: number;
  /** `host:port` of the metrics listener, when configured. */
  metricsAddress?: string;
  /** The admission webhook, when webhook.listen is set. */
  webhook?: RunningWebhook;
  assembly: ServiceAssembly;
  service: ServiceAssembly['service'];
  health: HealthImplementation;
  metrics: ServiceMetrics;
  /** The readiness watch, when `watch.enabled`. */
  readiness?: ReadinessWatch;
  /** Graceful stop: health goes NOT_SERVING, calls in flight may finish until the timeout, then the rest are cancelled. */
  shutdown(timeoutMs?: number): Promise<void>;
}

type MetricsListener = Awaited<ReturnType<typeof serveMetrics>>;

/** What the files of the configuration hold: the gRPC door's token and TLS, the operator's vCenter credentials. */
export interface ServiceSecrets extends GrpcSecrets {
  vcenterCredentials: CredentialOverrides;
}

/** Reads the secret files the configuration names, before anything is served. Errors name the key and the file, never the content. */
export async function loadServiceSecrets(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): Promise<ServiceSecrets> {
  const grpc = await loadGrpcSecrets(config);
  await assertCredentialsFilesReadable(config.storageLocations, config.origin);
  return { ...grpc, vcenterCredentials: await serviceVCenterCredentials(config.vsphere, config.origin, env) };
}

/** `serve` from its configuration file, environment and flags. */
export async function startServiceFrom(load: LoadConfigOptions): Promise<RunningService> {
  const config = await loadServiceConfig(load);
  const secrets = await loadServiceSecrets(config);
  return startService({ config, secrets, logger: jsonLogger({ level: config.logLevel }) });
}

export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, secrets } = options;
  const logger = options.logger ?? jsonLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const assembly = await assembleService({
    config,
    vcenterCredentials: secrets.vcenterCredentials,
    logger,
    metrics,
    ...(options.deps ? { deps: options.deps } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const opened: Array<{ close(timeoutMs: number): Promise<void> }> = [];
  const closeOpened = () => Promise.all(opened.map((d) => d.close(0)));
  try {
    const grpc = await openGrpcDoor(
      { ...assembly, metrics },
      { listen: config.listen, credentials: secrets.credentials, maxReceiveMessageBytes: config.maxReceiveMessageBytes, ...tokenOf(secrets) },
    );
    opened.push({ close: (ms) => grpc.shutdown(ms) });
    const metricsServer = await listenForMetrics(config, metrics);
    if (metricsServer) opened.push(metricsServer);
    logServing(assembly, grpc, secrets, metricsServer);
    const webhook =
      config.webhook && assembly.admission ? await startWebhook({ config: config.webhook, admission: assembly.admission, logger }) : undefined;
    assembly.start();
    return running({ assembly, grpc, metrics, metricsServer, webhook });
  } catch (err) {
    await closeOpened();
    assembly.close();
    throw err;
  }
}

function running(parts: {
  assembly: ServiceAssembly;
  grpc: GrpcDoor;
  metrics: ServiceMetrics;
  metricsServer: MetricsListener | undefined;
  webhook: RunningWebhook | undefined;
}): RunningService {
  const { assembly, grpc, metrics, metricsServer, webhook } = parts;
  const { config, logger } = assembly;
  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = config.shutdownTimeoutMs): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('shutting down', { timeoutMs });
      // The watch first: the streams that follow it end with it.
      await assembly.stopBackground();
      await Promise.all([webhook?.close(), grpc.shutdown(timeoutMs)]);
      // Calls are over; analyses nobody waits for any more would keep the process alive.
      assembly.close();
      await metricsServer?.close();
      logger.info('stopped');
    })());
  return {
    address: grpc.address,
    port: grpc.port,
    ...(metricsServer ? { metricsAddress: metricsAddressOf(config, metricsServer) } : {}),
    ...(webhook ? { webhook } : {}),
    assembly,
    service: assembly.service,
    ...(assembly.readiness ? { readiness: assembly.readiness.watch } : {}),
    health: grpc.health,
    metrics,
    shutdown,
  };
}

function tokenOf(secrets: ServiceSecrets): { token?: string } {
  return secrets.token ? { token: secrets.token } : {};
}

function logServing(assembly: ServiceAssembly, grpc: GrpcDoor, secrets: ServiceSecrets, metricsServer: MetricsListener | undefined): void {
  const { config, readiness } = assembly;
  assembly.logger.info('serving', {
    address: grpc.address,
    tls: config.tls ? (config.tls.clientCAFile ? 'mutual' : 'server') : 'off',
    auth: secrets.token !== undefined ? 'bearer' : 'none',
    mode: config.gate.mode,
    failurePolicy: config.gate.failurePolicy,
    pauseOnDrift: config.gate.pauseOnDrift,
    storageLocations: config.storageLocations.map((l) => l.name),
    ...(metricsServer ? { metrics: metricsAddressOf(config, metricsServer) } : {}),
    ...(readiness
      ? {
          watchInterval: config.watch.intervalMs / 1000,
          watchListingInterval: readiness.watch.listingIntervalMs / 1000,
          watchSource: readiness.source,
        }
      : {}),
  });
}

function metricsAddressOf(config: ServiceConfig, listener: MetricsListener): string {
  return joinHostPort(hostOf(config.metricsListen!)!, listener.port);
}

async function listenForMetrics(
  config: ServiceConfig,
  metrics: ServiceMetrics,
): Promise<(MetricsListener & { close(): Promise<void> }) | undefined> {
  if (!config.metricsListen) return undefined;
  const host = hostOf(config.metricsListen)!;
  const port = Number(config.metricsListen.slice(config.metricsListen.lastIndexOf(':') + 1));
  try {
    return await serveMetrics(metrics.registry, host, port);
  } catch (err) {
    throw new Error(`metrics.listen ${config.metricsListen}: ${errorMessage(err)}`, { cause: err });
  }
}
