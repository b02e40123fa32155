/**
 * Backups read straight from the bucket Velero writes to, with the S3 API and the configuration
 * of a BackupStorageLocation. The tarball is streamed: it is never written to disk nor held whole
 * in memory.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { BackupSourceError } from '../backup/errors.js';
import { connectS3, readDeadline, type ReadDeadline, type S3Connection, type S3SourceOptions } from './s3-client.js';
import { deadlineFailure, describeS3Failure, plainNetworkReason } from './s3-failure.js';
import { backupTarballKey, checkBackupKey, parseS3BackupUrl, storageLocationForUrl } from './s3-url.js';
import type { BackupSource } from '../backup/source.js';
import type { StorageLocation } from './storage-location.js';

/**
 * The resources tarball of Velero backup `backupName` in the location's bucket:
 * `<prefix>/backups/<name>/<name>.tar.gz`.
 */
export function s3BackupSource(location: StorageLocation, backupName: string, options: S3SourceOptions = {}): BackupSource {
  checkBackupKey(location, backupName);
  return s3ObjectSource(location, backupTarballKey(location, backupName), options, backupName);
}

/** Any tarball object in the location's bucket (e.g. a copy outside Velero's layout). */
export function s3ObjectSource(location: StorageLocation, key: string, options: S3SourceOptions = {}, backupName?: string): BackupSource {
  const description = `s3://${location.bucket}/${key}`;
  return {
    description,
    async open(signal?: AbortSignal): Promise<Readable> {
      signal?.throwIfAborted();
      const s3 = connectS3(location, options);
      const what = backupName ? `backup ${backupName}` : 'backup object';
      const deadline = readDeadline(s3, signal);
      let output: GetObjectCommandOutput;
      try {
        output = await s3.client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }), { abortSignal: deadline.signal });
      } catch (err) {
        try {
          if (signal?.aborted) throw signal.reason;
          if (deadline.expired()) throw deadlineFailure(s3, key);
          const failure = await describeS3Failure(err, s3, key, what);
          throw failure.failure === 'not-found' ? await confirmedAbsence(s3, key, failure, deadline) : failure;
        } finally {
          s3.client.destroy();
          deadline.clear();
        }
      }
      return streamBody(output, s3, key, description, deadline);
    },
  };
}

/**
 * A 404 for the object counts as "the backup is not there" only when the bucket answers a listing
 * of the object's folder as a bucket does: a misnamed bucket, an endpoint that answers 404 (or a
 * web page) to everything, or a listing refused is the location's failure, never a missing backup.
 */
async function confirmedAbsence(s3: S3Connection, key: string, absent: BackupSourceError, deadline: ReadDeadline): Promise<BackupSourceError> {
  const { bucket } = s3.location;
  const folder = key.slice(0, key.lastIndexOf('/') + 1);
  let listing;
  try {
    listing = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, MaxKeys: 1 }), { abortSignal: deadline.signal });
  } catch (err) {
    if (deadline.expired()) return deadlineFailure(s3, folder);
    const failure = await describeS3Failure(err, s3, folder, 'the listing of the backup folder');
    if (failure.failure !== 'not-found') return failure;
    return new BackupSourceError(
      'no-bucket',
      bucket,
      key,
      `${s3.endpoint} answers 404 to s3://${bucket}/${key} and to a listing of bucket ${bucket}: it does not serve that bucket (check s3Url and bucket)`,
      { cause: err },
    );
  }
  if (listing.Name === undefined) {
    return new BackupSourceError(
      'no-bucket',
      bucket,
      key,
      `${s3.endpoint} answered a listing of bucket ${bucket} with something that is not an S3 bucket listing (check s3Url)`,
    );
  }
  return absent;
}

/** `detect --backup s3://...`: the source for a URL, configured as storageLocationForUrl says. */
export function s3BackupSourceFromUrl(url: string, options: S3SourceOptions & { location?: StorageLocation } = {}): BackupSource {
  const parsed = parseS3BackupUrl(url);
  const location = storageLocationForUrl(parsed, options.env ?? process.env, options.location);
  return parsed.backupName ? s3BackupSource(location, parsed.backupName, options) : s3ObjectSource(location, parsed.key, options);
}

/** The object's body, counted, ended by the read's deadline; the client goes when the stream closes. */
function streamBody(output: GetObjectCommandOutput, s3: S3Connection, key: string, description: string, deadline: ReadDeadline): Readable {
  const { bucket } = s3.location;
  const body = output.Body as Readable | undefined;
  // A web server or a login portal in place of S3 answers every key with a page: no backup is read from it.
  const webPage = /^text\/html\b/i.test(output.ContentType ?? '');
  if (!body || webPage) {
    body?.destroy();
    s3.client.destroy();
    deadline.clear();
    // An endpoint that is not the bucket is a misconfigured location, as a missing bucket is.
    throw new BackupSourceError(
      webPage ? 'no-bucket' : 'failed',
      bucket,
      key,
      webPage
        ? `${s3.endpoint} answered ${description} with a web page (text/html), not an S3 object: it does not serve that bucket (check s3Url)`
        : `${description}: the S3 endpoint answered without a body`,
    );
  }
  const counted = new CountedBody(
    output.ContentLength,
    (detail) => new BackupSourceError('network', bucket, key, `reading ${description} from ${s3.endpoint} failed: ${detail}`),
  );
  // A fault mid-download (reset, stall past the timeout) ends the returned stream with an error
  // naming the object, so the reader can report it against this source.
  body.on('error', (err) => counted.destroy(counted.failure(plainNetworkReason(err, s3.timeoutMs) || 'the connection failed')));
  // A body that trickles (never stalling long enough for the socket timeout) or never ends.
  deadline.signal.addEventListener('abort', () => {
    if (deadline.expired()) counted.destroy(deadlineFailure(s3, key));
  });
  counted.on('close', () => {
    deadline.clear();
    body.destroy();
    s3.client.destroy();
  });
  body.pipe(counted);
  return counted;
}

/**
 * Passes the body through, counting bytes: a body that ends short of its Content-Length is an
 * error, not a quietly truncated tarball.
 */
class CountedBody extends Transform {
  private bytes = 0;

  constructor(
    private readonly expected: number | undefined,
    readonly failure: (detail: string) => BackupSourceError,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.expected !== undefined && this.bytes !== this.expected) {
      done(this.failure(`the download ended after ${this.bytes} of ${this.expected} bytes`));
    } else {
      done();
    }
  }
}
