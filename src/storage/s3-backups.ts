/**
 * The backups a storage location holds, read as Velero's own sync does (docs/velero-facts.md,
 * object storage layout): the `backups/<name>/` prefixes of the bucket, and each one's
 * `velero-backup.json`, the Backup object Velero uploads once the backup has finished. The
 * readiness watch asks for the newest Completed backup, the webhook for a schedule's newest.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { isObjectName } from '../model/kube.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { trimSlashes } from '../util/values.js';
import { backupRecordOf, newestOfSchedule, recentCompleted, type BackupRecord, type RecentCompleted } from './backup-records.js';
import { BackupSourceError } from '../backup/errors.js';
import { connectS3, readDeadline, type ReadDeadline, type S3Connection, type S3SourceOptions } from './s3-client.js';
import { deadlineFailure, describeS3Failure } from './s3-failure.js';
import type { StorageLocation } from './storage-location.js';

/** A Backup object is a few KiB; anything much larger is not one. */
const MAX_BACKUP_JSON_BYTES = 1024 * 1024;
/** Listing pages of 1000 keys; a bucket with more backups than this is read up to the bound. */
const MAX_LISTING_PAGES = 100;
/** `velero-backup.json` objects read at once: a first look at a bucket of hundreds of backups fits an admission deadline. */
const READ_CONCURRENCY = 8;

function backupsPrefix(location: StorageLocation): string {
  const prefix = trimSlashes(location.prefix ?? '');
  return `${prefix ? `${prefix}/` : ''}backups/`;
}

/**
 * Reads the location's backups, remembering finished ones: Velero writes `velero-backup.json`
 * when a backup has finished, and does not change it after, so each is read once.
 */
export class S3BackupCatalog {
  private readonly finished = new Map<string, BackupRecord>();

  constructor(
    private readonly location: StorageLocation,
    private readonly options: S3SourceOptions = {},
  ) {}

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
    const s3 = connectS3(this.location, this.options);
    const deadline = readDeadline(s3, caller);
    try {
      const names = await listBackupNames(s3, deadline);
      const listed = new Set(names);
      for (const known of this.finished.keys()) if (!listed.has(known)) this.finished.delete(known);
      const records = await mapWithConcurrency(
        names,
        READ_CONCURRENCY,
        async (name) => this.finished.get(name) ?? this.read(s3, name, deadline),
      );
      return records.filter((r) => r !== undefined);
    } finally {
      deadline.clear();
      s3.client.destroy();
    }
  }

  private async read(s3: S3Connection, name: string, deadline: ReadDeadline): Promise<BackupRecord | undefined> {
    const record = await readBackupRecord(s3, name, deadline);
    if (record && record.phase !== 'InProgress' && record.phase !== 'New' && record.phase !== '') this.finished.set(name, record);
    return record;
  }
}

/** Why a read stopped when its signal fired: the deadline, naming the object, or the caller's reason. */
function stopped(deadline: ReadDeadline, s3: S3Connection, key: string): unknown {
  return deadline.expired() ? deadlineFailure(s3, key) : deadline.signal.reason;
}

/** The names under `<prefix>/backups/` (one per backup directory), in the listing's order. */
async function listBackupNames(s3: S3Connection, deadline: ReadDeadline): Promise<string[]> {
  const prefix = backupsPrefix(s3.location);
  const names: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_LISTING_PAGES; page++) {
    let output;
    try {
      output = await s3.client.send(
        new ListObjectsV2Command({
          Bucket: s3.location.bucket,
          Prefix: prefix,
          Delimiter: '/',
          ...(token ? { ContinuationToken: token } : {}),
        }),
        { abortSignal: deadline.signal },
      );
    } catch (err) {
      if (deadline.signal.aborted) throw stopped(deadline, s3, prefix);
      throw await describeS3Failure(err, s3, prefix, 'the backup listing');
    }
    for (const p of output.CommonPrefixes ?? []) {
      const name = p.Prefix?.slice(prefix.length).replace(/\/$/, '');
      if (name && isObjectName(name)) names.push(name);
    }
    if (!output.IsTruncated || !output.NextContinuationToken) break;
    token = output.NextContinuationToken;
  }
  return names;
}

/** `velero-backup.json` of backup `name`; undefined when the backup has none (not finished, or not Velero's). */
async function readBackupRecord(s3: S3Connection, name: string, deadline: ReadDeadline): Promise<BackupRecord | undefined> {
  const key = `${backupsPrefix(s3.location)}${name}/velero-backup.json`;
  let text: string;
  try {
    const output = await s3.client.send(new GetObjectCommand({ Bucket: s3.location.bucket, Key: key }), { abortSignal: deadline.signal });
    text = await readBounded(output.Body as Readable | undefined, output.ContentLength, s3.location.bucket, key, deadline.signal);
  } catch (err) {
    if (deadline.signal.aborted) throw stopped(deadline, s3, key);
    if (err instanceof BackupSourceError) throw err;
    const failure = await describeS3Failure(err, s3, key, `backup ${name}`);
    if (failure.failure === 'not-found') return undefined;
    throw failure;
  }
  return parseBackupRecord(name, text, s3.location.bucket, key);
}

async function readBounded(
  body: Readable | undefined,
  length: number | undefined,
  bucket: string,
  key: string,
  signal: AbortSignal,
): Promise<string> {
  const tooLarge = () => new BackupSourceError('invalid', bucket, key, `s3://${bucket}/${key} is larger than ${MAX_BACKUP_JSON_BYTES} bytes`);
  if (!body) return '';
  // A body that trickles under the size bound ends with the read's deadline.
  const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await readAtMost(body, length, tooLarge);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function readAtMost(body: Readable, length: number | undefined, tooLarge: () => BackupSourceError): Promise<string> {
  if (length !== undefined && length > MAX_BACKUP_JSON_BYTES) {
    body.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BACKUP_JSON_BYTES) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A `velero-backup.json`, read as the Backup object it is. */
export function parseBackupRecord(name: string, text: string, bucket: string, key: string): BackupRecord {
  try {
    return backupRecordOf(name, JSON.parse(text));
  } catch {
    throw new BackupSourceError('invalid', bucket, key, `s3://${bucket}/${key} is not JSON`);
  }
}
