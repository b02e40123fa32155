/**
 * The kind of any failure a use case meets: its own DomainErrors, and the errors of the sources it
 * reads (backup tarball, S3 object, storage location), which keep their classes. Doors map the kind
 * to their protocol; nothing else inspects error classes.
 */
import { BackupError, BackupSourceError, type BackupSourceFailure } from '../backup/errors.js';
import { StorageLocationError } from '../storage/errors.js';
import { ForecastInputError } from '../forecast/project.js';
import { KubeCallError, type KubeFailure } from '../kube/call.js';
import { DomainError, type ErrorKind } from './errors.js';

const SOURCE_FAILURES: Record<BackupSourceFailure, ErrorKind> = {
  'not-found': 'not-found',
  'no-bucket': 'misconfigured',
  'access-denied': 'permission-denied',
  credentials: 'permission-denied',
  network: 'unavailable',
  failed: 'unavailable',
  invalid: 'invalid-argument',
};

/** A call to the detector's own cluster (the management cluster of the unpause forecast). */
const KUBE_FAILURES: Record<KubeFailure, ErrorKind> = {
  'not-found': 'not-found',
  unauthorized: 'permission-denied',
  forbidden: 'permission-denied',
  http: 'unavailable',
  timeout: 'timeout',
  cancelled: 'cancelled',
  unreachable: 'unavailable',
  'too-large': 'unavailable',
  failed: 'unavailable',
};

/** The error and its causes, outermost first (a bounded walk: causes may loop). */
export function* causeChain(err: unknown): Generator<unknown> {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** The kind this one error (not its causes) stands for, if it says. */
export function kindOf(e: unknown): ErrorKind | undefined {
  if (e instanceof DomainError) return e.kind;
  if (e instanceof BackupSourceError) return SOURCE_FAILURES[e.failure];
  if (e instanceof StorageLocationError) return 'misconfigured';
  if (e instanceof KubeCallError) return KUBE_FAILURES[e.failure];
  // A live object the controllers could not use either: the cluster's data, not the request, is at fault.
  if (e instanceof ForecastInputError) return 'invalid-argument';
  // The platform's own: AbortSignal.timeout() and abort() without a reason.
  const name = (e as { name?: unknown }).name;
  if (name === 'TimeoutError') return 'timeout';
  if (name === 'AbortError') return 'cancelled';
  return undefined;
}

/** The kind of a failure: the first the error or its causes say; a backup that was read but is unusable is invalid. */
export function failureKind(err: unknown): ErrorKind {
  for (const e of causeChain(err)) {
    const kind = kindOf(e);
    if (kind) return kind;
  }
  return err instanceof BackupError ? 'invalid-argument' : 'internal';
}

/** What to tell of a failure: a store's own words when a read of it failed (they name the object), else the error's. */
export function failureMessage(err: unknown): string {
  for (const e of causeChain(err)) if (e instanceof BackupSourceError) return e.message;
  return err instanceof Error ? err.message : String(err);
}
