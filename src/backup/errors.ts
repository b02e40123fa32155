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

/**
 * A readable backup that holds no Cluster API object: not a backup of a TKG management cluster.
 * `detect` refuses it; the doors that gate a restore have nothing to judge in it.
 */
export class NoClusterApiObjects extends BackupError {
  constructor(source: string) {
    super(source, undefined, 'no Cluster API objects (no Cluster, Machine or VSphereVM): not a backup of a TKG management cluster');
  }
}

/**
 * `not-found`: the bucket answered and the object is not in it. `no-bucket`: the location's bucket
 * does not exist there, a misconfiguration and never a missing backup.
 */
export type BackupSourceFailure = 'not-found' | 'no-bucket' | 'access-denied' | 'credentials' | 'network' | 'invalid' | 'failed';

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
