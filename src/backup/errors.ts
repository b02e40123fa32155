/**
 * Bad backup input: the file cannot be read, is not a Velero tarball, or holds an object the
 * detector cannot use. The CLI turns it into exit code 2. Messages name the backup (a path or an
 * s3:// URL) and, when one is to blame, the tarball entry or object; they never quote secret data.
 */
export class BackupError extends Error {
  override readonly name = 'BackupError';

  constructor(
    /** Where the backup came from (BackupSource.description). */
    readonly source: string,
    /** The tarball entry (or object) at fault, when there is one. */
    readonly entry: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${entry ? `${entry}: ` : ''}${detail}`, options);
  }
}

export type BackupSourceFailure = 'not-found' | 'access-denied' | 'credentials' | 'network' | 'invalid' | 'failed';

/**
 * A backup object that cannot be read from its bucket. The message names the bucket and key (as
 * an s3:// URL) in plain words, and never holds a secret.
 */
export class BackupSourceError extends Error {
  override readonly name = 'BackupSourceError';

  constructor(
    readonly failure: BackupSourceFailure,
    readonly bucket: string,
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
