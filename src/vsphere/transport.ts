import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { DEFAULTS } from '../config/defaults.js';
import { VimError, networkError } from './errors.js';
import type { PinnedThumbprint } from '../model/vcenter.js';
import { judgePeer } from './thumbprint.js';

/** The cookie vCenter sets on Login and expects back on every later call. */
const SESSION_COOKIE = 'vmware_soap_session';

export interface TransportOptions {
  /** The SDK endpoint, `https://host[:port]/sdk`. */
  url: URL;
  pinned?: PinnedThumbprint;
  /** PEM certificates of CAs trusted beside the system's. */
  ca?: string;
  /** The operator's credentials, to a vCenter the operator has not said to trust: see judgePeer. */
  untrustedHint?: string;
  insecureSkipVerify?: boolean;
  /** Deadline of one request: connect, TLS, send and the whole response. */
  timeoutMs: number;
  /** Bound on the characters of one answer (default DEFAULTS.vsphere.maxResponseChars). */
  maxResponseChars?: number;
  /** Cancels every request in flight and refuses new ones. */
  signal?: AbortSignal;
  debug?: (msg: string) => void;
}

export interface PostOptions {
  /** The vim25 method, for messages. */
  call: string;
  /** Cleanup calls (Logout, DestroyView) still run after a cancel, under their own short deadline. */
  cleanup?: boolean;
}

/** The response `soap` expects from an HTTP client. */
interface SoapHttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  data: string;
}

/** Reads a response body chunk by chunk as it arrives. */
export interface BodyReader<T> {
  /** The next part of the body, decoded from UTF-8; may throw to stop the download. */
  write(text: string): void;
  /** The body is complete: the result, or a throw. */
  end(): T;
}

interface Exchanged<T> {
  status: number;
  headers: IncomingHttpHeaders;
  /** Length of the body in UTF-16 code units. */
  chars: number;
  value: T;
}

/** An error of a body reader, kept apart from the network errors that `explain` translates. */
class ReaderFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('the answer could not be read', { cause });
  }
}

type SoapCallback = (err: Error | null, response?: SoapHttpResponse, body?: string) => void;

/** Longest wait for a cleanup call (Logout, DestroyView): never hold up the result for long. */
const CLEANUP_TIMEOUT_MS = 5_000;

/**
 * HTTPS to one vCenter's SDK endpoint, used by `soap` as its HTTP client. It owns what `soap`
 * cannot do for vim25: the govmomi-style TLS decision (CA, then pinned thumbprint), the session
 * cookie, a deadline and cancellation on every request, and errors that say what to fix.
 * Request bodies are never logged: Login carries the password.
 */
export class VimTransport {
  readonly address: string;
  /** Set after a network failure or timeout: the peer is gone, cleanup calls would only wait. */
  broken = false;
  private readonly agent: VerifyingAgent;
  private sessionCookie: string | undefined;

  constructor(private readonly options: TransportOptions) {
    this.address = options.url.host;
    this.agent = new VerifyingAgent(
      (socket) => {
        const verdict = judgePeer({
          address: this.address,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          cert: socket.getPeerCertificate(),
          pinned: options.pinned,
          insecureSkipVerify: options.insecureSkipVerify,
          untrustedHint: options.untrustedHint,
        });
        if (verdict.ok) {
          options.debug?.(`${this.address}: TLS accepted (${verdict.via})`);
          return undefined;
        }
        return new VimError(verdict.kind === 'thumbprint-mismatch' ? 'thumbprint' : 'tls', verdict.message);
      },
      options.timeoutMs,
      options.ca,
    );
  }

  /** `soap`'s HttpClient interface; `exoptions` is what the caller passed to the soap method. */
  request(
    _rurl: string,
    data: string,
    callback: SoapCallback,
    exheaders: Record<string, string> | undefined,
    exoptions: PostOptions | undefined,
  ): void {
    this.post(data, exheaders ?? {}, exoptions ?? { call: 'request' }).then(
      (response) => callback(null, response, response.data),
      (err: Error) => callback(err),
    );
  }

  /** POSTs a SOAP request and answers the whole response body as one string (for `soap`). */
  async post(body: string, soapHeaders: Record<string, string>, options: PostOptions): Promise<SoapHttpResponse> {
    const { status, headers, value: data } = await this.exchange(body, soapHeaders, options, () => bufferingReader());
    const response = { status, headers, data };
    if (status !== 200 && !isSoapEnvelope(response)) throw this.notSdk(status, options);
    // SOAP forbids DTDs, so XML's five entities are the only ones; `soap`'s parser would stumble on others.
    const entity = /<!(?:DOCTYPE|ENTITY)\b|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)[A-Za-z_][\w.-]{0,30};/.exec(data)?.[0];
    if (entity) {
      const why = entity.startsWith('<') ? 'it carries a DOCTYPE' : `it uses the undefined entity ${entity}`;
      throw new VimError(
        'protocol',
        `the answer to ${options.call} is not a vim25 response (${why}); is ${this.address} a vSphere SDK endpoint?`,
      );
    }
    return response;
  }

  /**
   * POSTs a SOAP request and hands the response body to a reader as it arrives, so a large
   * answer is parsed while it downloads and never held whole. `open` gets the HTTP status once
   * the headers are in; what the reader's `end` returns or throws is the result. A non-200
   * answer that is not XML is refused before any of it is read.
   */
  async postStreaming<T>(
    body: string,
    soapHeaders: Record<string, string>,
    options: PostOptions,
    open: (status: number) => BodyReader<T>,
  ): Promise<T> {
    const { value } = await this.exchange(body, soapHeaders, options, (status, headers) => {
      if (status !== 200 && !/xml/i.test(String(headers['content-type'] ?? ''))) throw this.notSdk(status, options);
      return open(status);
    });
    return value;
  }

  debug(msg: string): void {
    this.options.debug?.(msg);
  }

  /** Closes idle and pending connections. */
  close(): void {
    this.agent.destroy();
  }

  /** One request under the deadline and the caller's signal; the body goes to the reader `open` returns. */
  private async exchange<T>(
    body: string,
    soapHeaders: Record<string, string>,
    options: PostOptions,
    open: (status: number, headers: IncomingHttpHeaders) => BodyReader<T>,
  ): Promise<Exchanged<T>> {
    const userSignal = this.options.signal;
    if (userSignal?.aborted && !options.cleanup) {
      throw new VimError('cancelled', `cancelled before ${options.call}`);
    }
    const timeoutMs = options.cleanup ? Math.min(this.options.timeoutMs, CLEANUP_TIMEOUT_MS) : this.options.timeoutMs;
    const deadline = new AbortController();
    // A request waiting for its TLS handshake has no socket to abort yet: end the handshake too.
    deadline.signal.addEventListener('abort', () => this.agent.abortHandshakes(), { once: true });
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const onUserAbort = () => deadline.abort();
    if (!options.cleanup) userSignal?.addEventListener('abort', onUserAbort, { once: true });
    const started = Date.now();
    try {
      const exchanged = await this.send(body, soapHeaders, deadline.signal, (status, headers) => {
        this.rememberCookie(headers);
        return open(status, headers);
      });
      this.options.debug?.(`${this.address} ${options.call}: HTTP ${exchanged.status}, ${exchanged.chars} chars, ${Date.now() - started} ms`);
      return exchanged;
    } catch (err) {
      // The exchange itself worked: the answer was a fault, not vim25, or not from an SDK endpoint.
      if (err instanceof ReaderFailure) throw err.cause;
      throw this.explain(err, options, deadline.signal, timeoutMs);
    } finally {
      clearTimeout(timer);
      userSignal?.removeEventListener('abort', onUserAbort);
    }
  }

  private send<T>(
    body: string,
    soapHeaders: Record<string, string>,
    signal: AbortSignal,
    open: (status: number, headers: IncomingHttpHeaders) => BodyReader<T>,
  ): Promise<Exchanged<T>> {
    const headers: Record<string, string | number> = {
      'Content-Type': soapHeaders['Content-Type'] ?? 'text/xml; charset=utf-8',
      SOAPAction: soapHeaders.SOAPAction ?? '',
      'Content-Length': Buffer.byteLength(body, 'utf8'),
      'User-Agent': 'drift-detector',
      Accept: 'text/xml',
    };
    if (this.sessionCookie) headers.Cookie = this.sessionCookie;
    return new Promise((resolve, reject) => {
      const req = https.request(this.options.url, { method: 'POST', agent: this.agent, headers, signal }, (res) => {
        const status = res.statusCode ?? 0;
        let reader: BodyReader<T>;
        try {
          reader = open(status, res.headers);
        } catch (err) {
          reject(new ReaderFailure(err));
          req.destroy();
          return;
        }
        let chars = 0;
        let failed = false;
        // Decodes UTF-8 across chunk boundaries.
        res.setEncoding('utf8');
        const maxChars = this.options.maxResponseChars ?? DEFAULTS.vsphere.maxResponseChars;
        res.on('data', (chunk: string) => {
          if (failed) return;
          chars += chunk.length;
          if (chars > maxChars) {
            // A streaming reader would not hold it all, but the soap client buffers, and no answer is this large.
            failed = true;
            reject(new ReaderFailure(this.tooLarge(maxChars)));
            req.destroy();
            return;
          }
          try {
            reader.write(chunk);
          } catch (err) {
            // Nothing after a malformed part can be read; stop the download.
            failed = true;
            reject(new ReaderFailure(err));
            req.destroy();
          }
        });
        res.on('error', reject);
        res.on('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        res.on('end', () => {
          if (failed) return;
          if (!res.complete) {
            reject(Object.assign(new Error('response truncated'), { code: 'ECONNRESET' }));
            return;
          }
          try {
            resolve({ status, headers: res.headers, chars, value: reader.end() });
          } catch (err) {
            reject(new ReaderFailure(err));
          }
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  private tooLarge(maxChars: number): VimError {
    return new VimError(
      'protocol',
      `the answer of ${this.address} passed ${Math.round(maxChars / (1024 * 1024))} Mi characters, far more than a vCenter sends; download stopped`,
    );
  }

  private notSdk(status: number, options: PostOptions): VimError {
    return new VimError(
      'http',
      `HTTP ${status} answer to ${options.call} from ${this.options.url.href}; check that it is a vSphere SDK endpoint`,
    );
  }

  /** Keeps the session cookie exactly as the server wrote it (a real vCenter may quote it). */
  private rememberCookie(headers: IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const pair = line.split(';', 1)[0]?.trim() ?? '';
      if (pair.startsWith(`${SESSION_COOKIE}=`)) this.sessionCookie = pair;
    }
  }

  private explain(err: unknown, options: PostOptions, deadline: AbortSignal, timeoutMs: number): Error {
    if (err instanceof VimError) {
      if (err.kind !== 'http') this.broken = true;
      return err;
    }
    this.broken = true;
    if (deadline.aborted) {
      if (this.options.signal?.aborted && !options.cleanup) {
        return new VimError('cancelled', `cancelled during ${options.call}`);
      }
      return new VimError(
        'timeout',
        `no answer from ${this.address} to ${options.call} within ${formatSeconds(timeoutMs)} (timed out); check that the vCenter is up and reachable, or raise the timeout`,
      );
    }
    return networkError(this.address, options.call, err as NodeJS.ErrnoException);
  }
}

/**
 * An HTTPS agent that hands a socket to a request only once the TLS handshake is done and the
 * peer is accepted, so nothing (least of all the Login password) is written to a refused peer.
 * Node's own checks run with rejectUnauthorized off; their result feeds `judgePeer`.
 */
class VerifyingAgent extends https.Agent {
  /** Sockets in their TLS handshake, with the function that ends their wait. */
  private readonly pending = new Map<TLSSocket, (err: Error) => void>();

  constructor(
    private readonly check: (socket: TLSSocket) => VimError | undefined,
    private readonly handshakeTimeoutMs: number,
    ca?: string,
  ) {
    // Resumed TLS sessions skip Node's verification; pinning needs the full handshake every time.
    // A CA given replaces Node's roots unless they are given with it.
    super({
      keepAlive: true,
      maxSockets: 1,
      maxCachedSessions: 0,
      rejectUnauthorized: false,
      ...(ca ? { ca: [...rootCertificates, ca] } : {}),
    });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = super.createConnection({ ...options, rejectUnauthorized: false }) as TLSSocket;
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      this.pending.delete(socket);
      socket.setTimeout(0);
      if (err) socket.destroy();
      callback?.(err, socket);
    };
    this.pending.set(socket, settle);
    socket.setTimeout(this.handshakeTimeoutMs, () => settle(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })));
    // Stays attached after the handshake: a late error must not go unhandled before the request listens.
    socket.on('error', settle);
    socket.once('secureConnect', () => settle(this.check(socket) ?? null));
    return undefined;
  }

  abortHandshakes(): void {
    for (const settle of [...this.pending.values()]) {
      settle(Object.assign(new Error('TLS handshake aborted'), { code: 'ECONNABORTED' }));
    }
  }

  override destroy(): void {
    this.abortHandshakes();
    super.destroy();
  }
}

function bufferingReader(): BodyReader<string> {
  const parts: string[] = [];
  return {
    write: (text) => void parts.push(text),
    end: () => parts.join(''),
  };
}

function isSoapEnvelope(response: SoapHttpResponse): boolean {
  return /xml/i.test(String(response.headers['content-type'] ?? '')) && /<([\w.-]+:)?Envelope[\s>]/.test(response.data);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
