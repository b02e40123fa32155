/**
 * remoteEndpoint: the plugin hands each Execute to a running `drift-detector serve` (its Velero
 * RestoreItemAction service, the same handlers) instead of analysing here. The service's gate
 * settings apply; the call names the BackupStorageLocation the restore's Backup is in, when the
 * cluster tells, so the service reads that bucket; its answer (the item, or the error) is passed on.
 * Useful when the analysis should not run inside Velero's pod, or should be shared between
 * Velero installations.
 */
import { bearerTokenProblem } from '../rpc/bearer.js';
import { status } from '@grpc/grpc-js';
import type { ExecuteInput } from '../app/restore-gate.js';
import { ServiceClient } from '../rpc/client.js';
import { decisionOf, type DecisionSummary } from '../rpc/gate-trailer.js';
import { SERVICE_NAMES } from '../rpc/protos.js';
import { ServiceError } from '../rpc/service-error.js';
import { STORAGE_LOCATION_METADATA } from '../rpc/storage-location-metadata.js';
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
  const problem = credentials.token ? bearerTokenProblem(credentials.token) : undefined;
  if (problem) throw new Error(`${origin}: key ${REMOTE_SECRET_KEYS.token} ${problem}`);
  if ((credentials.clientCert === undefined) !== (credentials.clientKey === undefined)) {
    throw new Error(`${origin}: ${REMOTE_SECRET_KEYS.clientCert} and ${REMOTE_SECRET_KEYS.clientKey} go together`);
  }
  return credentials;
}

/** The service blocked the Cluster: its error, and the decision it sent along. */
export class RemoteBlockedError extends ServiceError {
  constructor(
    code: status,
    message: string,
    readonly decision: DecisionSummary,
  ) {
    super(code, message);
  }
}

export class RemoteGate {
  private readonly client: ServiceClient;

  constructor(
    private readonly settings: RemoteSettings,
    credentials: RemoteCredentials,
  ) {
    this.client = new ServiceClient(
      SERVICE_NAMES.restoreItemActionV1,
      settings.endpoint,
      { ...credentials, tls: settings.tls },
      {
        refusalHint: "put the service's CA in ca.crt of the Secret, or set remoteTLS",
      },
    );
  }

  get endpoint(): string {
    return this.settings.endpoint;
  }

  /**
   * The service's Execute, naming `storageLocation` when known; its status code and message come back as ours, named after it, with the
   * decision behind a blocked Cluster (RemoteBlockedError) when the service sent it.
   */
  async execute(input: ExecuteInput, signal: AbortSignal, storageLocation?: string): Promise<{ item: Buffer; skipRestore: boolean }> {
    const request = {
      plugin: input.plugin ?? '',
      item: input.item,
      restore: input.restore,
      itemFromBackup: input.itemFromBackup ?? Buffer.alloc(0),
    };
    try {
      const answer = await this.client.call<{ item: Buffer; skipRestore?: boolean }>('Execute', request, {
        timeoutMs: this.settings.timeoutMs,
        signal,
        ...(storageLocation !== undefined ? { metadata: { [STORAGE_LOCATION_METADATA]: storageLocation } } : {}),
      });
      return { item: Buffer.from(answer.item), skipRestore: answer.skipRestore === true };
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const reason =
        err.code === status.DEADLINE_EXCEEDED
          ? `no answer within ${this.settings.timeoutMs} ms`
          : err.code === status.UNAVAILABLE
            ? `unreachable (${err.message})`
            : err.message;
      const message = `drift-detector service at ${this.settings.endpoint}: ${reason}`;
      const decision = decisionOf(err.trailers);
      throw decision ? new RemoteBlockedError(err.code, message, decision) : new ServiceError(err.code, message);
    }
  }

  close(): void {
    this.client.close();
  }
}
