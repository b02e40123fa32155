/**
 * gRPC status codes for what goes wrong, so a caller can act on the code alone; the one mapping
 * from a failure to a status, for every service this program serves or calls:
 * INVALID_ARGUMENT a bad request or an unusable backup; NOT_FOUND no such backup (or bucket);
 * PERMISSION_DENIED the storage refused the detector's own credentials; UNAVAILABLE storage
 * unreachable or failing; DEADLINE_EXCEEDED the call's deadline or the analysis timeout passed;
 * FAILED_PRECONDITION the gate blocks, or the detector is misconfigured; UNAUTHENTICATED no valid
 * caller credentials; RESOURCE_EXHAUSTED too many analyses of different backups at once.
 * Errors of the protocol itself carry their code (service-error.ts).
 */
import { status, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import type { ErrorKind } from '../app/errors.js';
import { causeChain, failureKind, kindOf } from '../app/failures.js';
import { errorMessage } from '../util/values.js';
import { trailersOf } from './gate-trailer.js';
import { grpcError, ServiceError } from './service-error.js';

const STATUS_OF_KIND: Record<ErrorKind, status> = {
  'invalid-argument': status.INVALID_ARGUMENT,
  'not-found': status.NOT_FOUND,
  'permission-denied': status.PERMISSION_DENIED,
  unavailable: status.UNAVAILABLE,
  timeout: status.DEADLINE_EXCEEDED,
  busy: status.RESOURCE_EXHAUSTED,
  blocked: status.FAILED_PRECONDITION,
  misconfigured: status.FAILED_PRECONDITION,
  cancelled: status.CANCELLED,
  internal: status.INTERNAL,
};

/** The status code of any error: the first code or kind the error or its causes carry. */
export function grpcStatusOf(err: unknown): status {
  for (const e of causeChain(err)) {
    if (e instanceof ServiceError) return e.code;
    const kind = kindOf(e);
    if (kind) return STATUS_OF_KIND[kind];
  }
  return STATUS_OF_KIND[failureKind(err)];
}

/** The error as a call's answer: its code, and its own words, which name the object and never a secret. */
export function toGrpcError(err: unknown): Partial<GrpcServiceError> {
  return { ...grpcError(grpcStatusOf(err), errorMessage(err)), metadata: trailersOf(err) };
}
