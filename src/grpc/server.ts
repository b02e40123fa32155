/**
 * The gRPC door of `serve`: one grpc-js server carrying driftdetector.v1.DriftDetector, Velero's
 * generated.RestoreItemAction (v1) and v2.RestoreItemAction, grpc.health.v1.Health and server
 * reflection, on what the service assembly (app/service.ts) built.
 */
import { ReflectionService } from '@grpc/reflection';
import type { ServerCredentials } from '@grpc/grpc-js';
import type { HealthImplementation } from 'grpc-health-check';
import type { ServiceAssembly } from '../app/service.js';
import { hostOf, joinHostPort } from '../config/addresses.js';
import { guarded, type CallEnvironment } from '../rpc/calls.js';
import { PROTO_FILES, SERVICE_NAMES } from '../rpc/protos.js';
import { restoreItemActionV1, restoreItemActionV2 } from '../rpc/restore-item-action.js';
import { ServerShell } from '../rpc/server-shell.js';
import { driftDetectorImplementation } from './detector-handlers.js';
import type { ServiceMetrics } from './metrics.js';
import { readinessImplementation } from './readiness-handlers.js';
import { unpauseImplementation } from './unpause-handlers.js';

/** What the gRPC door serves: the assembly's use cases, counted in the service's metrics. */
export type GrpcServed = Pick<ServiceAssembly, 'service' | 'gate' | 'readiness' | 'unpause' | 'logger'> & { metrics: ServiceMetrics };

export interface GrpcDoorOptions {
  /** `host:port`, `[v6]:port` or `unix:/path`. */
  listen: string;
  credentials: ServerCredentials;
  /** The bearer token callers must send; undefined: none. */
  token?: string;
  maxReceiveMessageBytes: number;
}

export interface GrpcDoor {
  /** The address bound, with the real port (`127.0.0.1:50051`), or the unix socket. */
  address: string;
  port: number;
  health: HealthImplementation;
  /** Graceful stop: health goes NOT_SERVING, calls in flight may finish until the timeout, then the rest are cancelled. */
  shutdown(timeoutMs: number): Promise<void>;
}

export async function openGrpcDoor(served: GrpcServed, options: GrpcDoorOptions): Promise<GrpcDoor> {
  const { logger, metrics } = served;
  const env: CallEnvironment & { metrics: ServiceMetrics } = { ...(options.token ? { token: options.token } : {}), logger, metrics };
  const shell = serviceShell(served, env, options.maxReceiveMessageBytes);
  const port = await shell.bind(options.listen, options.credentials);
  const address = options.listen.startsWith('unix:') ? options.listen : joinHostPort(hostOf(options.listen)!, port);
  return {
    address,
    port,
    health: shell.health,
    shutdown: (timeoutMs) =>
      shell.shutdown(timeoutMs, {
        onCancel: () => logger.warn('calls still running at the shutdown timeout: cancelling them', { timeoutMs }),
      }),
  };
}

/** The server with every service `serve` carries; reflection needs the token like the rest, health does not (probes carry none). */
function serviceShell(served: GrpcServed, env: CallEnvironment & { metrics: ServiceMetrics }, maxReceiveMessageBytes: number): ServerShell {
  const names = [SERVICE_NAMES.driftDetector, SERVICE_NAMES.restoreItemActionV1, SERVICE_NAMES.restoreItemActionV2];
  const shell = new ServerShell({
    protos: [PROTO_FILES.driftDetector, PROTO_FILES.veleroRestoreItemActionV1, PROTO_FILES.veleroRestoreItemActionV2],
    healthServices: names,
    maxReceiveMessageBytes,
  });
  shell.add(SERVICE_NAMES.driftDetector, {
    ...driftDetectorImplementation(env, served.service),
    ...readinessImplementation(env, served.readiness?.view),
    ...unpauseImplementation(env, served.unpause),
  });
  shell.add(SERVICE_NAMES.restoreItemActionV1, restoreItemActionV1(env, served.gate));
  shell.add(SERVICE_NAMES.restoreItemActionV2, restoreItemActionV2(env, served.gate));
  new ReflectionService(shell.definitions).addToServer({
    addService: (svc, impl) => shell.server.addService(svc, guarded(env, svc, impl)),
  });
  return shell;
}
