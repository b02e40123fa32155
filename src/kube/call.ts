/**
 * One bounded Kubernetes call: a deadline, the caller's abort signal, and one translation of what
 * went wrong into a KubeCallError that names the object and the HTTP status
 * (`Secret velero/x: forbidden (403)`). Every read or write of the detector goes through it: the
 * plugin's cluster access, the storage location read from a cluster, the workload Node listing.
 */
import type { Agent } from 'node:https';
import type { HttpLibrary, ObservableMiddleware } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import { redacted } from '../util/redact.js';
import { boundedHttpLibrary, ResponseTooLargeError } from './bounded-http.js';

export type KubeVerb = 'read' | 'list' | 'patch' | 'create' | 'update' | 'delete';

export type KubeFailure =
  | 'not-found'
  | 'unauthorized'
  | 'forbidden'
  /** Any other HTTP status. */
  | 'http'
  | 'timeout'
  | 'cancelled'
  /** No answer: a system or TLS error (see `code`). */
  | 'unreachable'
  /** An answer past the byte bound: reading stopped there. */
  | 'too-large'
  /** Refused on this side, or an answer that is not what the API sends. */
  | 'failed';

export interface KubeCall {
  /** The object in messages: `Secret velero/x`, `ConfigMaps labelled ... in namespace velero`. */
  object: string;
  verb: KubeVerb;
  /** The API server's address, for messages. */
  server: string;
  /** Deadline of the whole call (every page of a listing), in ms. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Said after a 401 or 403: what to check, e.g. the RBAC of a service account. */
  accessHint?: string;
  /** An agent that carries the connection's TLS material; destroyed when the deadline passes. */
  agent?: Agent;
  /** An agent other calls share (keep-alive): used, never destroyed; a stopped call aborts only its own request. */
  sharedAgent?: Agent;
  /** Bytes of each answer at most; default DEFAULTS.kube.maxResponseBytes. */
  maxResponseBytes?: number;
}

/** The last argument of every client-node API method, which binds the request to the call. */
export interface KubeRequestOptions {
  middleware: ObservableMiddleware[];
  middlewareMergeStrategy: 'append';
  /** Reads each answer up to the call's byte bound. */
  httpApi: HttpLibrary;
}

/** What a failed call learned besides its failure, for callers that word it their own way. */
export interface KubeCallFacts {
  status?: number;
  /** The system or TLS error code, e.g. ECONNREFUSED, CERT_HAS_EXPIRED. */
  code?: string;
  /** `message` of the API's Status answer (redacted); never part of KubeCallError's message. */
  statusMessage?: string;
}

/** A Kubernetes call that failed. The message never quotes a response body or a credential. */
export class KubeCallError extends Error {
  override readonly name = 'KubeCallError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly statusMessage: string | undefined;

  constructor(
    readonly object: string,
    readonly failure: KubeFailure,
    /** What went wrong, without the object: `forbidden (403)`. */
    readonly detail: string,
    facts: KubeCallFacts = {},
    options?: { cause?: unknown },
  ) {
    super(`${object}: ${detail}`, options);
    this.status = facts.status;
    this.code = facts.code;
    this.statusMessage = facts.statusMessage;
  }
}

type Stop = 'timeout' | 'cancelled';

/**
 * Runs `run` (one or more client-node requests, which must pass on the options it is given) under
 * the call's deadline and signal. The race makes sure a socket that never answers cannot outlive
 * the deadline even if some layer ignores the signal.
 */
export async function boundedKubeCall<T>(call: KubeCall, run: (options: KubeRequestOptions) => Promise<T>): Promise<T> {
  const k8s = await import('@kubernetes/client-node');
  if (call.signal?.aborted) {
    call.agent?.destroy();
    throw stopped(call, 'cancelled');
  }
  const controller = new AbortController();
  let stop: (why: Stop) => void = () => {};
  const stopping = new Promise<never>((_, reject) => {
    stop = (why) => {
      controller.abort();
      call.agent?.destroy();
      reject(stopped(call, why));
    };
  });
  const timer = setTimeout(() => stop('timeout'), call.timeoutMs);
  const onAbort = () => stop('cancelled');
  call.signal?.addEventListener('abort', onAbort, { once: true });
  const bind: ObservableMiddleware = {
    pre: (context) => {
      context.setSignal(controller.signal);
      const agent = call.agent ?? call.sharedAgent;
      if (agent) context.setAgent(agent);
      return new k8s.Observable(Promise.resolve(context));
    },
    post: (context) => new k8s.Observable(Promise.resolve(context)),
  };
  const httpApi = await boundedHttpLibrary(call.maxResponseBytes ?? DEFAULTS.kube.maxResponseBytes);
  const running = (async () => run({ middleware: [bind], middlewareMergeStrategy: 'append', httpApi }))();
  running.catch(() => {}); // after a stop, its rejection is already reported by `stopping`
  try {
    return await Promise.race([running, stopping]);
  } catch (err) {
    if (err instanceof KubeCallError) throw err;
    throw translate(call, err, err instanceof k8s.ApiException ? err : undefined);
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
  }
}

function stopped(call: KubeCall, why: Stop): KubeCallError {
  if (why === 'cancelled') {
    return new KubeCallError(call.object, 'cancelled', `${call.verb} cancelled`, {}, { cause: call.signal?.reason });
  }
  return new KubeCallError(
    call.object,
    'timeout',
    `${call.verb} at ${call.server} timed out after ${call.timeoutMs} ms`,
    {},
    {
      cause: new DOMException(`timed out after ${call.timeoutMs} ms`, 'TimeoutError'),
    },
  );
}

const STATUS_WORDS: Record<number, [KubeFailure, string]> = {
  401: ['unauthorized', 'unauthorized'],
  403: ['forbidden', 'forbidden'],
  404: ['not-found', 'not found'],
};

/** `api` is set when the API server answered with an error status. */
function translate(call: KubeCall, err: unknown, api: { code: number; body: unknown } | undefined): KubeCallError {
  const fail = (failure: KubeFailure, detail: string, facts: KubeCallFacts = {}) =>
    new KubeCallError(call.object, failure, detail, facts, { cause: err });
  if (api) {
    const status = api.code;
    const statusMessage = statusMessageOf(api.body);
    const known = STATUS_WORDS[status];
    const facts = { status, ...(statusMessage ? { statusMessage } : {}) };
    if (!known) return fail('http', `${call.verb} at ${call.server} failed with HTTP ${status}`, facts);
    const hint = status !== 404 && call.accessHint ? `: ${call.accessHint}` : '';
    return fail(known[0], `${known[1]} (${status})${hint}`, facts);
  }
  if (err instanceof ResponseTooLargeError) {
    return fail('too-large', `refused: the answer to this ${call.verb} at ${call.server} is larger than ${sizeInWords(err.maxBytes)}`);
  }
  const code = errorCode(err);
  if (code) return fail('unreachable', `cannot reach ${call.server} (${code})`, { code });
  if (err instanceof Error && err.name === 'AbortError') return fail('cancelled', `${call.verb} cancelled`);
  // A client-side refusal (e.g. an http:// server without skipTLSVerify) or an answer that is not
  // the API's (a proxy's HTML page): its first line says why.
  return fail('failed', `cannot ${call.verb} it at ${call.server}: ${firstLine(err)}`);
}

/** `64 MiB`, `256 KiB`. */
function sizeInWords(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** The first line of an error's message, short and with anything key-like removed. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redacted(text.split('\n')[0]!, { max: 160 });
}

function errorCode(err: unknown): string | undefined {
  // node-fetch's FetchError copies the system error's code; TLS errors may sit one level down.
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

function statusMessageOf(body: unknown): string | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? redacted(message, { max: 200 }) : undefined;
}
