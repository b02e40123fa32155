/** Errors of the object store's configuration. */
/** A storage location that cannot be used; the message names the file (or object) and the key. */
export class StorageLocationError extends Error {
  override readonly name = 'StorageLocationError';

  constructor(
    /** The file or object the location came from, e.g. `bsl.yaml`. */
    readonly origin: string,
    /** The offending key, e.g. `spec.objectStorage.bucket`; undefined when the whole input is bad. */
    readonly key: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${origin}: ${key ? `${key}: ` : ''}${detail}`, options);
  }
}
