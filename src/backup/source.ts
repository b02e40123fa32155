import type { Readable } from 'node:stream';

/**
 * Where a backup tarball comes from: a local file, or an object in a Velero bucket.
 * `open` is called once per read and returns the raw (gzip or plain tar) byte stream.
 */
export interface BackupSource {
  /** For messages and the report: a path or an `s3://bucket/key` URL. */
  readonly description: string;
  open(signal?: AbortSignal): Promise<Readable>;
}
