/**
 * Errors of the protocol itself, which know their status code: a caller without valid
 * credentials, a method not offered, a peer's answer passed on. (Everything else gets its code
 * from its kind, in status.ts.) Loads none of the backup readers, so a client stays light.
 */
import { Metadata, status, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  /** What a peer sent along with its error (e.g. the gate's decision). */
  readonly trailers: Metadata | undefined;
  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown; trailers?: Metadata },
  ) {
    super(message, options);
    this.trailers = options?.trailers;
  }
}

/** `DEADLINE_EXCEEDED` for 4: how a code is named in messages and logs. */
export function statusName(code: number): string {
  return status[code] ?? String(code);
}

/** A call's error answer: the code, and words that name the object and never a secret. */
export function grpcError(code: status, message: string): Partial<GrpcServiceError> {
  return { code, details: message, metadata: new Metadata() };
}
