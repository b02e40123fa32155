/**
 * The call metadata a remote-mode plugin names the restore's BackupStorageLocation with, so the
 * service reads the backup from the bucket its Backup object names, not from its default location.
 * A name only (never a secret); without it the service uses its default location.
 */
import type { Metadata } from '@grpc/grpc-js';
import { DomainError } from '../app/errors.js';
import { isObjectName } from '../model/kube.js';

export const STORAGE_LOCATION_METADATA = 'driftdetector-storage-location';

/** Why `name` cannot name a BackupStorageLocation (a Kubernetes object name, at most 253), if it cannot. */
export function storageLocationNameProblem(name: string): string | undefined {
  return isObjectName(name)
    ? undefined
    : `"${name.slice(0, 80)}" is not a BackupStorageLocation name (lower-case letters, digits, '-' and '.', at most 253)`;
}

/** The storage location a call names; undefined when it names none. A bad value is a bad request. */
export function storageLocationOf(metadata: Metadata): string | undefined {
  const values = metadata.get(STORAGE_LOCATION_METADATA);
  if (values.length === 0) return undefined;
  const [value] = values;
  if (values.length > 1 || typeof value !== 'string') {
    throw new DomainError('invalid-argument', `metadata ${STORAGE_LOCATION_METADATA}: one text value expected`);
  }
  const problem = storageLocationNameProblem(value);
  if (problem) throw new DomainError('invalid-argument', `metadata ${STORAGE_LOCATION_METADATA}: ${problem}`);
  return value;
}
