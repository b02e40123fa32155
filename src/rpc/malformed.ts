/**
 * A request whose bytes do not decode as the method's message is the caller's mistake: it answers
 * INVALID_ARGUMENT with a short reason. grpc-js answers INTERNAL whenever a request deserializer
 * throws, so every service added to this server gets deserializers that return a marker instead,
 * and an interceptor turns the marker into the status before any handler (or guard) sees it.
 */
import {
  Server,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptor,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

const REASON = Symbol('malformed request');

/** What a deserializer returns for bytes it cannot decode. */
interface Malformed {
  [REASON]: string;
}

/** The decoder's own words are about bytes, never content; long ones are cut. */
const MAX_DETAIL_CHARS = 120;

function isMalformed(message: unknown): message is Malformed {
  return typeof message === 'object' && message !== null && REASON in message;
}

function messageName(method: ServiceDefinition[string]): string {
  const name = (method as { requestType?: { type?: { name?: unknown } } }).requestType?.type?.name;
  return typeof name === 'string' ? name : 'request';
}

/** The service with each request deserializer answering a marker rather than throwing. */
export function tolerantDeserializers(service: ServiceDefinition): ServiceDefinition {
  const methods = Object.entries(service).map(([key, method]) => {
    const expected = messageName(method);
    const requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return method.requestDeserialize(bytes);
      } catch (err) {
        const detail = err instanceof Error ? err.message.slice(0, MAX_DETAIL_CHARS) : '';
        return { [REASON]: `malformed request: not a ${expected} message${detail ? ` (${detail})` : ''}` } satisfies Malformed;
      }
    };
    return [key, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(methods) as ServiceDefinition;
}

/** Ends a call whose request was malformed with INVALID_ARGUMENT; other messages pass. */
export const rejectMalformed: ServerInterceptor = (_method, call) => {
  let rejected = false;
  return new ServerInterceptingCall(call, {
    start: (next) =>
      next(
        new ServerListenerBuilder()
          .withOnReceiveMessage((message: unknown, pass) => {
            if (!isMalformed(message)) return pass(message);
            rejected = true;
            call.sendStatus({ code: status.INVALID_ARGUMENT, details: message[REASON] });
          })
          .withOnReceiveHalfClose((pass) => {
            if (!rejected) pass();
          })
          .build(),
      ),
  });
};

/** A grpc-js server whose every service (ours, health, reflection) answers malformed requests INVALID_ARGUMENT. */
export class MalformedRequests extends Server {
  constructor(options: ServerOptions = {}) {
    super({ ...options, interceptors: [rejectMalformed, ...(options.interceptors ?? [])] });
  }

  override addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    super.addService(tolerantDeserializers(service), implementation);
  }
}
