/**
 * What a bucket of Velero's is to the use cases, wherever it is (bucket.ts chooses): a backup's
 * tarball, and looks at the backups it lists with the `velero-backup.json` of each.
 */
import type { BackupSource } from '../backup/source.js';
import type { BackupRecord } from './backup-records.js';

export interface BackupBucket {
  /** The resources tarball of backup `name`: `[<prefix>/]backups/<name>/<name>.tar.gz`. */
  tarball(name: string): BackupSource;
  /** One look at the backups, its reads sharing one deadline and the caller's signal; closed when done. */
  look(signal?: AbortSignal): BucketLook;
}

export interface BucketLook {
  /** The names under `[<prefix>/]backups/` (one per backup), in the listing's order. */
  backupNames(): Promise<string[]>;
  /** The backup's `velero-backup.json`; undefined when it has none (not finished, or not Velero's). */
  backupRecord(name: string): Promise<BackupRecord | undefined>;
  close(): void;
}
