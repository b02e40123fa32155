/**
 * The gRPC server `serve` and the plugin both run: message sizes (Velero sends items and Restores
 * of any size, its client allows MaxInt32), grpc.health.v1.Health with the whole process ("", and
 * "plugin", go-plugin's name for it) and each service SERVING, and a bounded shutdown: health goes
 * NOT_SERVING, calls in flight may finish until the timeout, then the rest are cancelled
 * (tryShutdown alone waits forever on a client that vanished mid-stream). Bytes that are not the
 * method's message answer INVALID_ARGUMENT, on every service of the server (malformed.ts).
 */
import {
  logVerbosity,
  Server,
  setLogVerbosity,
  type ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { MalformedRequests } from './malformed.js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';
import { loadProto, type ProtoFile, type ServiceName } from './protos.js';

export interface ServerShellOptions {
  /** The protos of the services to add. */
  protos: ProtoFile[];
  /** Services health reports SERVING, besides the process itself. */
  healthServices?: ServiceName[];
  /** The largest message accepted, in bytes; default -1, any size. */
  maxReceiveMessageBytes?: number;
}

export interface ShutdownHooks {
  /** Once health is NOT_SERVING, before waiting for the calls in flight (e.g. end streams held open). */
  beforeDrain?: () => void;
  /** At the timeout, just before the calls still running are cancelled. */
  onCancel?: () => void;
}

export class ServerShell {
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly definitions: PackageDefinition;
  private readonly healthNames: string[];

  constructor(options: ServerShellOptions) {
    quietGrpcLogs();
    this.definitions = loadProto(...options.protos);
    this.server = new MalformedRequests({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? -1,
      'grpc.max_send_message_length': -1,
    });
    this.healthNames = ['', 'plugin', ...(options.healthServices ?? [])];
    this.health = new HealthImplementation(Object.fromEntries(this.healthNames.map((name) => [name, 'SERVING' as const])));
    this.health.addToServer(this.server);
  }

  add(name: ServiceName, implementation: UntypedServiceImplementation): void {
    this.server.addService(this.definitions[name] as ServiceDefinition, implementation);
  }

  /** Listens on `address` (`host:port` or `unix:/path`); resolves with the port bound. */
  bind(address: string, credentials: ServerCredentials): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync(address, credentials, (err, port) =>
        err ? reject(new Error(`listen ${address}: ${err.message}`)) : resolve(port),
      ),
    );
  }

  /** Health NOT_SERVING, then the calls in flight have until `timeoutMs`; the rest are cancelled. */
  async shutdown(timeoutMs: number, hooks: ShutdownHooks = {}): Promise<void> {
    for (const name of this.healthNames) this.health.setStatus(name, 'NOT_SERVING');
    hooks.beforeDrain?.();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        hooks.onCancel?.();
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * grpc-js logs its own errors to stderr (`E No address added ...`) before the same failure reaches
 * us and is said once, in our words. Its log stays available for debugging through GRPC_VERBOSITY
 * or GRPC_TRACE.
 */
function quietGrpcLogs(env: NodeJS.ProcessEnv = process.env): void {
  if (env['GRPC_VERBOSITY'] === undefined && env['GRPC_TRACE'] === undefined) setLogVerbosity(logVerbosity.NONE);
}
