/**
 * `drift-detector serve`: one grpc-js server carrying driftdetector.v1.DriftDetector, Velero's
 * generated.RestoreItemAction (v1) and v2.RestoreItemAction, grpc.health.v1.Health and server
 * reflection; Prometheus metrics on a separate HTTP port.
 */
import { Server, type ServiceDefinition } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { ConfiguredStorageLocations, s3SourceIn, type SourceIn } from '../app/backup-locator.js';
import type { DoorWords } from '../app/detect.js';
import { DriftService, type Detect } from '../app/drift-service.js';
import { RestoreGate } from '../app/restore-gate.js';
import { jsonLogger, type Logger } from '../util/jsonlog.js';
import type { ServiceSecrets } from './auth.js';
import { guarded, type CallEnvironment } from '../rpc/calls.js';
import { hostOf, type ServiceConfig } from './config.js';
import { driftDetectorImplementation } from './detector-handlers.js';
import { createMetrics, serveMetrics, type ServiceMetrics } from './metrics.js';
import { loadProto, PROTO_FILES, SERVICE_NAMES } from '../rpc/protos.js';
import { restoreItemActionV1, restoreItemActionV2 } from '../rpc/restore-item-action.js';

/** The services `serve` carries besides health and reflection. */
const SERVED = [SERVICE_NAMES.driftDetector, SERVICE_NAMES.restoreItemActionV1, SERVICE_NAMES.restoreItemActionV2];

/** How the service words what the detection cannot know, in its configuration's keys. */
export const SERVICE_WORDS: DoorWords = {
  overridesFrom: 'the service configuration (vsphere) or environment',
  credentialsHint: 'set vsphere.username and vsphere.passwordFile (or VSPHERE_USERNAME and VSPHERE_PASSWORD), or vsphere.credentialsFile, in the service configuration',
};

/** What tests and benchmarks replace: where a backup of a configured location is, and the detection. */
export interface ServiceDeps {
  resolveBackup: SourceIn;
  detect: Detect;
}

export interface StartServiceOptions {
  config: ServiceConfig;
  secrets: ServiceSecrets;
  deps?: Partial<ServiceDeps>;
  logger?: Logger;
  metrics?: ServiceMetrics;
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
  /** Graceful stop: health goes NOT_SERVING, calls in flight may finish until the timeout, then the rest are cancelled. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export async function startService(options: StartServiceOptions): Promise<RunningService> {
  const { config, secrets } = options;
  const logger = options.logger ?? jsonLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const env: CallEnvironment & { metrics: ServiceMetrics } = { ...(secrets.token ? { token: secrets.token } : {}), logger, metrics };

  const service = new DriftService({
    locations: new ConfiguredStorageLocations(config.storageLocations, options.deps?.resolveBackup ?? s3SourceIn),
    analysis: config.analysis,
    gate: config.gate,
    vcenterCredentials: secrets.vcenterCredentials,
    words: SERVICE_WORDS,
    ...(options.deps?.detect ? { detect: options.deps.detect } : {}),
    logger,
    metrics,
  });
  const gate = new RestoreGate(service, logger, metrics);

  const definitions = loadProto(PROTO_FILES.driftDetector, PROTO_FILES.veleroRestoreItemActionV1, PROTO_FILES.veleroRestoreItemActionV2);
  const definition = (name: string) => definitions[name] as ServiceDefinition;

  const server = new Server({
    // Velero sends items and Restores of any size (its client allows MaxInt32).
    'grpc.max_receive_message_length': config.maxReceiveMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(definition(SERVICE_NAMES.driftDetector), driftDetectorImplementation(env, service));
  server.addService(definition(SERVICE_NAMES.restoreItemActionV1), restoreItemActionV1(env, gate));
  server.addService(definition(SERVICE_NAMES.restoreItemActionV2), restoreItemActionV2(env, gate));

  // Health stays open (probes carry no token). "plugin" is go-plugin's name for the whole process.
  const health = new HealthImplementation({
    '': 'SERVING',
    plugin: 'SERVING',
    ...Object.fromEntries(SERVED.map((name) => [name, 'SERVING' as const])),
  });
  health.addToServer(server);
  new ReflectionService(definitions).addToServer({
    addService: (svc, impl) => server.addService(svc, guarded(env, svc, impl)),
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(config.listen, secrets.credentials, (err, bound) => (err ? reject(new Error(`listen ${config.listen}: ${err.message}`)) : resolve(bound)));
  });
  const address = config.listen.startsWith('unix:') ? config.listen : `${formatHost(hostOf(config.listen)!)}:${port}`;

  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (config.metricsListen) {
    const host = hostOf(config.metricsListen)!;
    const metricsPort = Number(config.metricsListen.slice(config.metricsListen.lastIndexOf(':') + 1));
    try {
      metricsServer = await serveMetrics(metrics.registry, host, metricsPort);
    } catch (err) {
      server.forceShutdown();
      throw new Error(`metrics.listen ${config.metricsListen}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  logger.info('serving', {
    address,
    tls: config.tls ? (config.tls.clientCAFile ? 'mutual' : 'server') : 'off',
    auth: secrets.token !== undefined ? 'bearer' : 'none',
    mode: config.gate.mode,
    failurePolicy: config.gate.failurePolicy,
    pauseOnDrift: config.gate.pauseOnDrift,
    storageLocations: config.storageLocations.map((l) => l.name),
    ...(metricsServer ? { metrics: `${formatHost(hostOf(config.metricsListen!)!)}:${metricsServer.port}` } : {}),
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = config.shutdownTimeoutMs): Promise<void> =>
    (stopping ??= (async () => {
      for (const name of ['', 'plugin', ...SERVED]) health.setStatus(name, 'NOT_SERVING');
      logger.info('shutting down', { timeoutMs });
      await new Promise<void>((resolve) => {
        // tryShutdown can wait forever on a client that vanished mid-stream: bound it.
        const timer = setTimeout(() => {
          logger.warn('calls still running at the shutdown timeout: cancelling them', { timeoutMs });
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await metricsServer?.close();
      logger.info('stopped');
    })());

  return {
    address,
    port,
    ...(metricsServer ? { metricsAddress: `${formatHost(hostOf(config.metricsListen!)!)}:${metricsServer.port}` } : {}),
    service,
    health,
    metrics,
    shutdown,
  };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
