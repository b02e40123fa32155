/**
 * The plumbing every handler shares, whichever door serves it: authentication, a cancel signal
 * that follows the call's cancellation and deadline, a status code for any error, a log line and
 * a metric per call.
 */
import {
  status,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Logger } from '../util/jsonlog.js';
import { checkBearerToken } from './bearer.js';
import { errorMessage } from '../util/values.js';
import { grpcError, ServiceError } from './service-error.js';
import { grpcStatusOf, toGrpcError } from './status.js';

export interface CallContext {
  signal: AbortSignal;
  metadata: Metadata;
  /** Fields for this call's log line (backup, cluster, ...). */
  fields: Record<string, unknown>;
  log: Logger;
}

/** What a door counts of its calls (the service's Prometheus metrics fit). */
export interface CallMetrics {
  requests: { inc(labels: { method: string; code: string }): void };
}

export interface CallEnvironment {
  token?: string;
  logger: Logger;
  metrics?: CallMetrics;
}

/** What the plumbing needs of a server call, unary or streaming. */
type ServerCall = { metadata: Metadata; on(event: 'cancelled', f: () => void): unknown; getDeadline(): Date | number };

function callSignal(call: Pick<ServerCall, 'on' | 'getDeadline'>): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort(new ServiceError(status.CANCELLED, 'the call was cancelled')));
  const deadline = call.getDeadline();
  const ms = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(ms)) {
    timer = setTimeout(() => controller.abort(new ServiceError(status.DEADLINE_EXCEEDED, "the call's deadline passed")), Math.max(0, ms));
  }
  return { signal: controller.signal, done: () => clearTimeout(timer) };
}

function finish(env: CallEnvironment, method: string, started: number, fields: Record<string, unknown>, err?: unknown): void {
  const code = err === undefined ? status.OK : grpcStatusOf(err);
  env.metrics?.requests.inc({ method, code: status[code] });
  const line = { method, code: status[code], ms: Date.now() - started, ...fields };
  if (err === undefined) env.logger.info('call done', line);
  else if (code === status.INTERNAL) env.logger.error('call failed', { ...line, error: errorMessage(err) });
  else env.logger.warn('call failed', { ...line, error: errorMessage(err) });
}

/** One call, whichever its shape: authenticated, bounded by its signal, logged and counted; `answer` or `fail` ends it. */
function handle<T>(
  env: CallEnvironment,
  method: string,
  call: ServerCall,
  run: (ctx: CallContext) => Promise<T>,
  answer: (result: T) => void,
  fail: (err: ReturnType<typeof toGrpcError>) => void,
): void {
  const started = Date.now();
  const fields: Record<string, unknown> = {};
  const { signal, done } = callSignal(call);
  void (async () => {
    try {
      checkBearerToken(call.metadata, env.token);
      const result = await run({ signal, metadata: call.metadata, fields, log: env.logger.with(fields) });
      finish(env, method, started, fields);
      answer(result);
    } catch (err) {
      // Once the caller is gone, whatever the handler threw, the cause is the caller.
      const error: unknown = signal.aborted && !(err instanceof ServiceError) ? signal.reason : err;
      finish(env, method, started, fields, error);
      fail(toGrpcError(error));
    } finally {
      done();
    }
  })();
}

export function unary<Req, Res>(
  env: CallEnvironment,
  method: string,
  handler: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) =>
    handle(
      env,
      method,
      call,
      (ctx) => handler(call.request, ctx),
      (response) => callback(null, response),
      (err) => callback(err),
    );
}

export function serverStream<Req, Res>(
  env: CallEnvironment,
  method: string,
  handler: (request: Req, ctx: CallContext, write: (message: Res) => void) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) =>
    handle(
      env,
      method,
      call,
      (ctx) =>
        handler(call.request, ctx, (message) => {
          if (!ctx.signal.aborted) call.write(message);
        }),
      () => call.end(),
      (err) => call.emit('error', err),
    );
}

/**
 * Wraps a library's service (e.g. reflection) so that its calls need the bearer token too.
 * Streaming handlers are checked before the library sees the call.
 */
export function guarded(
  env: CallEnvironment,
  definition: ServiceDefinition,
  implementation: UntypedServiceImplementation,
): UntypedServiceImplementation {
  if (env.token === undefined) return implementation;
  const result: UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(implementation)) {
    const method = definition[name] ?? Object.values(definition).find((d) => d.originalName === name);
    result[name] = guard(env.token, handler, method?.responseStream === true || method?.requestStream === true);
  }
  return result;
}

function guard(token: string, handler: UntypedHandleCall, streaming: boolean): UntypedHandleCall {
  const h = handler as (...args: unknown[]) => void;
  return ((call: { metadata: Metadata; emit(event: 'error', err: unknown): void }, callback?: (err: unknown) => void) => {
    try {
      checkBearerToken(call.metadata, token);
    } catch (err) {
      const e = grpcError(status.UNAUTHENTICATED, errorMessage(err));
      if (callback && !streaming) callback(e);
      else call.emit('error', e);
      return;
    }
    h(call, callback);
  }) as UntypedHandleCall;
}
