/**
 * What goes wrong in a use case, in the domain's words. Each door maps a kind to its protocol in one
 * place (gRPC status codes in rpc/status.ts, exit codes in cli/errors.ts). vCenters and workload API
 * servers that cannot be reached fail nothing: the report carries them (see docs/drift-rules.md).
 */
export type ErrorKind =
  /** A bad request, or a backup that is not a usable Velero backup of a TKG management cluster. */
  | 'invalid-argument'
  /** No such backup (or bucket). */
  | 'not-found'
  /** The storage refused the detector's own credentials. */
  | 'permission-denied'
  /** The storage cannot be reached or fails. */
  | 'unavailable'
  /** The analysis did not finish in its time. */
  | 'timeout'
  /** Too many analyses of different backups at once. */
  | 'busy'
  /** The restore gate keeps the Cluster out of the restore. */
  | 'blocked'
  /** The detector's own settings (or storage location) cannot be used. */
  | 'misconfigured'
  /** The caller went away. */
  | 'cancelled'
  /** Anything else: a fault of the detector. */
  | 'internal';

/** An error a use case raises on purpose; its message names the object and never a secret. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
