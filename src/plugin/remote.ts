/**
 * remoteEndpoint: the plugin hands each Execute to a running `drift-detector serve` (its Velero
 * RestoreItemAction service, the same handlers) instead of analysing here. The service's gate
 * settings and storage location then apply; its answer (the item, or the error) is passed on.
 * Useful when the analysis should not run inside Velero's pod, or should be shared between
 * Velero installations.
 */
import * as grpc from '@grpc/grpc-js';
import { status, type ChannelCredentials, type Client, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import { isLoopbackListen } from '../grpc/config.js';
import { ServiceError } from '../rpc/status.js';
import { loadProto, PROTO_FILES } from '../rpc/protos.js';
import type { ExecuteInput } from '../app/restore-gate.js';
import type { RemoteSettings } from './settings.js';

/** What a remote credentials Secret may hold (all optional). Holds secrets: never log it. */
export interface RemoteCredentials {
  caCert?: string;
  token?: string;
  clientCert?: string;
  clientKey?: string;
}

export const REMOTE_SECRET_KEYS = { caCert: 'ca.crt', token: 'token', clientCert: 'tls.crt', clientKey: 'tls.key' } as const;

export function remoteCredentialsFromSecret(data: Record<string, string>, origin: string): RemoteCredentials {
  const known = Object.values(REMOTE_SECRET_KEYS) as string[];
  for (const key of Object.keys(data)) {
    if (!known.includes(key)) throw new Error(`${origin}: unknown key "${key}" (expected ${known.join(', ')})`);
  }
  const credentials: RemoteCredentials = {};
  for (const [field, key] of Object.entries(REMOTE_SECRET_KEYS) as Array<[keyof RemoteCredentials, string]>) {
    const value = data[key]?.trim();
    if (value) credentials[field] = field === 'token' ? value : `${value}\n`;
  }
  if ((credentials.clientCert === undefined) !== (credentials.clientKey === undefined)) {
    throw new Error(`${origin}: ${REMOTE_SECRET_KEYS.clientCert} and ${REMOTE_SECRET_KEYS.clientKey} go together`);
  }
  return credentials;
}

type RiaClient = Client & {
  Execute(request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: GrpcServiceError | null, res: { item: Buffer }) => void): grpc.ClientUnaryCall;
};

export class RemoteGate {
  private readonly client: RiaClient;
  private readonly metadata = new grpc.Metadata();

  constructor(
    private readonly settings: RemoteSettings,
    credentials: RemoteCredentials,
  ) {
    const tls = settings.tls || credentials.caCert !== undefined || credentials.clientCert !== undefined;
    if (credentials.token && !tls && !isLoopbackListen(settings.endpoint)) {
      throw new Error(`remoteEndpoint ${settings.endpoint}: refusing to send the token in clear text: put the service's CA in ca.crt of the Secret, or set remoteTLS`);
    }
    const channel: ChannelCredentials = tls
      ? grpc.credentials.createSsl(
          credentials.caCert ? Buffer.from(credentials.caCert) : null,
          credentials.clientKey ? Buffer.from(credentials.clientKey) : null,
          credentials.clientCert ? Buffer.from(credentials.clientCert) : null,
        )
      : grpc.credentials.createInsecure();
    if (credentials.token) this.metadata.set('authorization', `Bearer ${credentials.token}`);
    const pkg = grpc.loadPackageDefinition(loadProto(PROTO_FILES.veleroRestoreItemActionV1)) as unknown as {
      generated: { RestoreItemAction: new (address: string, credentials: ChannelCredentials, options: grpc.ChannelOptions) => RiaClient };
    };
    this.client = new pkg.generated.RestoreItemAction(settings.endpoint, channel, {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
  }

  get endpoint(): string {
    return this.settings.endpoint;
  }

  /** The service's Execute; its status code and message come back as ours, named after it. */
  execute(input: ExecuteInput, signal: AbortSignal): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const call = this.client.Execute(
        { plugin: input.plugin ?? '', item: input.item, restore: input.restore, itemFromBackup: input.itemFromBackup ?? Buffer.alloc(0) },
        this.metadata,
        { deadline: Date.now() + this.settings.timeoutMs },
        (err, res) => {
          signal.removeEventListener('abort', cancel);
          if (!err) return resolve(Buffer.from(res.item));
          const reason =
            err.code === status.DEADLINE_EXCEEDED ? `no answer within ${this.settings.timeoutMs} ms` : err.code === status.UNAVAILABLE ? `unreachable (${err.details})` : err.details;
          reject(new ServiceError(err.code, `drift-detector service at ${this.settings.endpoint}: ${reason}`));
        },
      );
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}
