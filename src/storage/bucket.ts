/**
 * Velero's bucket, wherever it is: an S3 bucket (s3-backups.ts) or a local directory laid out as
 * one (directory-bucket.ts). Every use case reads backups through it: a backup's tarball, and the
 * `velero-backup.json` Velero uploads when a backup has finished, as Velero's own sync reads them
 * (docs/velero-facts.md, object storage layout). The readiness watch asks for the newest Completed
 * backups, the webhook for a schedule's newest.
 */
import type { BackupSource } from '../backup/source.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { newestOfSchedule, recentCompleted, type BackupRecord, type RecentCompleted } from './backup-records.js';
import { directoryBucket } from './directory-bucket.js';
import type { S3SourceOptions } from './s3-client.js';
import { s3Bucket } from './s3-backups.js';
import type { StorageLocation } from './storage-location.js';
import type { BackupBucket, BucketLook } from './backup-bucket.js';

export type { BackupBucket, BucketLook } from './backup-bucket.js';

/** `velero-backup.json` objects read at once: a first look at a bucket of hundreds of backups fits an admission deadline. */
const READ_CONCURRENCY = 8;

/** The bucket of a storage location: a local directory when it has one, else S3. */
export function bucketOf(location: StorageLocation, options: S3SourceOptions = {}): BackupBucket {
  return location.directory ? directoryBucket(location) : s3Bucket(location, options);
}

/** The tarball of backup `name` in the location's bucket. */
export function backupSourceIn(location: StorageLocation, name: string, options: S3SourceOptions = {}): BackupSource {
  return bucketOf(location, options).tarball(name);
}

/**
 * Reads the location's backups, remembering finished ones: Velero writes `velero-backup.json`
 * when a backup has finished, and does not change it after, so each is read once.
 */
export class BucketBackupCatalog {
  private readonly finished = new Map<string, BackupRecord>();
  private readonly bucket: BackupBucket;

  constructor(location: StorageLocation, options: S3SourceOptions = {}) {
    this.bucket = bucketOf(location, options);
  }

  /** The `depth` Completed backups that finished last, newest first; a completion past `notAfter` apart. */
  async recentCompleted(depth: number, notAfter: number, signal?: AbortSignal): Promise<RecentCompleted> {
    return recentCompleted(await this.records(signal), depth, notAfter);
  }

  /** The backup Velero restores for `--from-schedule schedule` (backup-records.ts), if any. */
  async newestOfSchedule(schedule: string, signal?: AbortSignal): Promise<BackupRecord | undefined> {
    return newestOfSchedule(await this.records(signal), schedule);
  }

  /** Every backup of the location with a `velero-backup.json`; the listing and the reads share one deadline. */
  private async records(caller: AbortSignal | undefined): Promise<BackupRecord[]> {
    const look = this.bucket.look(caller);
    try {
      const names = await look.backupNames();
      const listed = new Set(names);
      for (const known of this.finished.keys()) if (!listed.has(known)) this.finished.delete(known);
      const records = await mapWithConcurrency(names, READ_CONCURRENCY, async (name) => this.finished.get(name) ?? this.read(look, name));
      return records.filter((r) => r !== undefined);
    } finally {
      look.close();
    }
  }

  private async read(look: BucketLook, name: string): Promise<BackupRecord | undefined> {
    const record = await look.backupRecord(name);
    if (record && record.phase !== 'InProgress' && record.phase !== 'New' && record.phase !== '') this.finished.set(name, record);
    return record;
  }
}
