/**
 * gRPC status codes for what goes wrong, so a caller can act on the code alone:
 * INVALID_ARGUMENT a bad request or an unusable backup; NOT_FOUND no such backup (or bucket);
 * PERMISSION_DENIED the storage refused the detector's own credentials; UNAVAILABLE storage
 * unreachable or failing; DEADLINE_EXCEEDED the call's deadline or the analysis timeout passed;
 * FAILED_PRECONDITION the gate blocks; UNAUTHENTICATED no valid caller credentials;
 * RESOURCE_EXHAUSTED too many analyses of different backups at once.
 * vCenters and workload API servers that cannot be reached do not fail a call: the report carries
 * them as Unknown machines and errors (drift-semantics section 3), and the gate judges that.
 */
import { status, type ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { BackupError, BackupSourceError } from '../backup/errors.js';
import { StorageLocationError } from '../backup/storage-location.js';
import { errorMessage as messageOf } from '../util/values.js';

/** An error that already knows its status code. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function statusCodeOf(err: unknown): status {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ServiceError) return e.code;
    if (e instanceof BackupSourceError) {
      switch (e.failure) {
        case 'not-found':
          return status.NOT_FOUND;
        case 'access-denied':
        case 'credentials':
          return status.PERMISSION_DENIED;
        case 'network':
        case 'failed':
          return status.UNAVAILABLE;
        case 'invalid':
          return status.INVALID_ARGUMENT;
      }
    }
    if (e instanceof StorageLocationError) return status.FAILED_PRECONDITION;
    const name = (e as { name?: string }).name;
    if (name === 'TimeoutError') return status.DEADLINE_EXCEEDED;
    if (name === 'AnalysisBusyError') return status.RESOURCE_EXHAUSTED;
    if (name === 'AbortError') return status.CANCELLED;
  }
  // A backup that was read but is not a usable Velero backup of a TKG management cluster.
  if (err instanceof BackupError) return status.INVALID_ARGUMENT;
  return status.INTERNAL;
}

/** The message a caller sees: the error's own words, which name the object and never a secret. */

export { messageOf };

export function toGrpcError(err: unknown): Partial<GrpcServiceError> {
  const code = statusCodeOf(err);
  return { code, details: messageOf(err), metadata: new Metadata() };
}

export function grpcError(code: status, message: string): Partial<GrpcServiceError> {
  return { code, details: message, metadata: new Metadata() };
}
