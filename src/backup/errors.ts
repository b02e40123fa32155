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
