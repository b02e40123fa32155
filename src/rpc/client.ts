/**
 * The one gRPC client of this program: `drift-detector check` asks a running `serve` for verdicts,
 * and the plugin's remoteEndpoint mode hands it each Execute. The channel's credentials come from
 * a CA, a client certificate and key (mutual TLS) and a bearer token; a token never travels in
 * clear text to another host; every call has a deadline and follows its caller's cancel.
 */
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { DomainError } from '../app/errors.js';
import { isLoopbackListen } from '../config/addresses.js';
import { bearerMetadata } from './bearer.js';
import { loadProto, PROTO_FILES, SERVICE_NAMES } from './protos.js';
import { ServiceError } from './service-error.js';
import { redacted } from '../util/redact.js';

/** What a client presents, all optional (PEM texts and the token). Holds secrets: never log it. */
export interface ClientCredentials {
  /** TLS with the system's CAs, even without a CA of its own. */
  tls?: boolean;
  caCert?: string | Buffer;
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  token?: string;
}

/** The services this program calls, and the proto that defines each. */
const CLIENT_PROTOS = {
  [SERVICE_NAMES.driftDetector]: PROTO_FILES.driftDetector,
  [SERVICE_NAMES.restoreItemActionV1]: PROTO_FILES.veleroRestoreItemActionV1,
} as const;

export type ClientService = keyof typeof CLIENT_PROTOS;

/** TLS when asked for, or when there is a CA or a client certificate to use. */
export function usesTls(credentials: Pick<ClientCredentials, 'tls' | 'caCert' | 'clientCert'>): boolean {
  return credentials.tls === true || credentials.caCert !== undefined || credentials.clientCert !== undefined;
}

/** The rule for bearer tokens: over TLS, or to this host only. The refusal in plain words, when it applies. */
export function clearTextRefusal(endpoint: string, tls: boolean, withToken: boolean): string | undefined {
  return withToken && !tls && !isLoopbackListen(endpoint) ? `refusing to send the token in clear text to ${endpoint}` : undefined;
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

type StreamMethod = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

export class ServiceClient {
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;
  /** Blanked from the peer's words, should it quote the request's metadata back. */
  private readonly token: string | undefined;

  /** `refusalHint` follows a refusal to send the token in clear text: how to give TLS through the caller's door. */
  constructor(
    private readonly service: ClientService,
    readonly endpoint: string,
    credentials: ClientCredentials,
    options: { refusalHint: string },
  ) {
    const tls = usesTls(credentials);
    const refusal = clearTextRefusal(endpoint, tls, Boolean(credentials.token));
    if (refusal) throw new DomainError('misconfigured', `${refusal}: ${options.refusalHint}`);
    const pem = (text: string | Buffer | undefined) => (text === undefined ? null : Buffer.from(text));
    const channel = tls
      ? withoutIpServerName(grpc.credentials.createSsl(pem(credentials.caCert), pem(credentials.clientKey), pem(credentials.clientCert)))
      : grpc.credentials.createInsecure();
    const definition = loadProto(CLIENT_PROTOS[service])[service] as grpc.ServiceDefinition;
    const Client = grpc.makeGenericClientConstructor(definition, service);
    // Velero's items and Restores come in any size; so may the answers.
    this.client = new Client(endpoint, channel, { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
    this.metadata = bearerMetadata(credentials.token);
    this.token = credentials.token;
  }

  /**
   * One unary call within `timeoutMs`, cancelled with `signal`, with the `metadata` given besides the
   * token; a failure is a ServiceError with the peer's code and words.
   */
  call<Res>(
    method: string,
    request: object,
    options: { timeoutMs: number; signal?: AbortSignal; metadata?: Record<string, string> },
  ): Promise<Res> {
    const unary = (this.client as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (!unary) return Promise.reject(new Error(`${this.service} has no method ${method}`));
    const { timeoutMs, signal } = options;
    let metadata = this.metadata;
    if (options.metadata) {
      metadata = this.metadata.clone();
      for (const [key, value] of Object.entries(options.metadata)) metadata.set(key, value);
    }
    return new Promise<Res>((resolve, reject) => {
      const cancel = () => call.cancel();
      const call = unary.call(this.client, request, metadata, { deadline: Date.now() + timeoutMs }, (err, response) => {
        signal?.removeEventListener('abort', cancel);
        if (err) reject(new ServiceError(err.code, this.peerDetails(err), { trailers: err.metadata }));
        else resolve(response as Res);
      });
      signal?.addEventListener('abort', cancel, { once: true });
      if (signal?.aborted) cancel();
    });
  }

  /**
   * One server-streaming call: each message to `onMessage` until the server ends the stream
   * (resolves), it fails or `timeoutMs` passes (a ServiceError), or `signal` cancels it (resolves).
   */
  stream<Res>(
    method: string,
    request: object,
    onMessage: (message: Res) => void,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<void> {
    const method_ = (this.client as unknown as Record<string, StreamMethod | undefined>)[method];
    if (!method_) return Promise.reject(new Error(`${this.service} has no method ${method}`));
    const { timeoutMs, signal } = options;
    return new Promise<void>((resolve, reject) => {
      const call = method_.call(this.client, request, this.metadata, { deadline: Date.now() + timeoutMs });
      const cancel = () => call.cancel();
      call.on('data', (message: Res) => onMessage(message));
      call.on('end', () => {
        signal?.removeEventListener('abort', cancel);
        resolve();
      });
      call.on('error', (err: grpc.ServiceError) => {
        signal?.removeEventListener('abort', cancel);
        if (err.code === grpc.status.CANCELLED && signal?.aborted) resolve();
        else reject(new ServiceError(err.code, this.peerDetails(err)));
      });
      signal?.addEventListener('abort', cancel, { once: true });
      if (signal?.aborted) cancel();
    });
  }

  close(): void {
    this.client.close();
  }

  /** The peer's words; grpc-js ends a connection failure with an empty `Resolution note: ` when the resolver had nothing to add. */
  private peerDetails(err: grpc.ServiceError): string {
    const details = (err.details || err.message).replace(/\s*Resolution note:\s*$/, '');
    return redacted(details, { secrets: [this.token], max: PEER_DETAILS_CHARS, keepLines: true });
  }
}

/** Our own service explains a refusal in a few lines; a peer's words beyond this are cut. */
const PEER_DETAILS_CHARS = 4000;

/**
 * grpc-js sends the target's host as TLS ServerName even when it is an IP address, which SNI does
 * not allow and Node warns about (DEP0123) on every such connection. Without a ServerName Node
 * still checks the certificate against the host (an IP SAN).
 */
function withoutIpServerName(credentials: grpc.ChannelCredentials): grpc.ChannelCredentials {
  const connector = credentials._createSecureConnector.bind(credentials);
  credentials._createSecureConnector = (...args) => {
    const secure = connector(...args);
    const options = (secure as { connectionOptions?: { servername?: string } }).connectionOptions;
    if (options?.servername && isIP(options.servername)) delete options.servername;
    return secure;
  };
  return credentials;
}
