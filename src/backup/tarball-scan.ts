/**
 * One pass over a Velero backup tarball, gzip or plain tar, as it streams in: entries the detector
 * does not read are drained unparsed, the others handed to BackupItems. A truncated or corrupt
 * archive rejects with a BackupError naming the entry where it broke.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header, type ExtractEvents } from 'tar-stream';
import { errorMessage as messageOf } from '../util/values.js';
import { BackupError } from './errors.js';
import { parseItemPath, type BackupItems } from './items.js';

/** A kept entry larger than this is not a Kubernetes object (etcd caps objects near 1.5 MiB). */
const MAX_ITEM_BYTES = 16 * 1024 * 1024;
const VERSION_ENTRY = 'metadata/version';
/**
 * Output chunk of the gunzip stream. zlib's default (16 KiB) costs a round trip to the thread pool
 * per 16 KiB; at 256 KiB inflating a 1 GiB backup takes about half as long.
 */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

/** The body of one tar entry (a streamx Readable). */
type EntryStream = ExtractEvents['entry'][1];

/** Reads the tarball's entries into `items`, and `metadata/version` into formatVersion. */
export class TarballScan {
  formatVersion?: string;
  entries = 0;
  skipped = 0;
  private bytesIn = 0;
  private gzip = false;
  /** The entry being read, or the last one read: where a truncated archive ended. */
  private lastEntry?: string;
  private inEntry = false;

  constructor(
    private readonly source: string,
    private readonly items: BackupItems,
    private readonly debug: (msg: string) => void,
  ) {}

  run(raw: Readable, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const extract = tarExtract();
      let input: Readable | undefined;
      const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
      let settled = false;

      const teardown = (err: unknown) => {
        raw.destroy();
        input?.destroy();
        gunzip.destroy();
        extract.destroy(err instanceof Error ? err : undefined);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        teardown(err);
        reject(signal?.aborted ? signal.reason : err);
      };
      const onAbort = () => fail(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });

      extract.on('entry', (header, stream, next) => {
        try {
          this.onEntry(header, stream, next, (err) => {
            extract.destroy(err);
          });
        } catch (err) {
          extract.destroy(err as Error);
        }
      });
      extract.on('error', (err: Error) => fail(err instanceof BackupError ? err : this.tarError(err)));
      extract.on('finish', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (this.bytesIn === 0) reject(this.error(undefined, 'the file is empty: not a gzip or tar archive'));
        else resolve();
      });
      gunzip.on('error', (err: NodeJS.ErrnoException) => fail(this.gzipError(err)));

      // The first bytes say whether to gunzip; the rest of the source streams behind them.
      const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const onSourceError = (err: unknown) =>
        fail(new BackupError(this.source, undefined, `reading the backup failed: ${messageOf(err)}`, { cause: err }));
      readHead(chunks, 2)
        .then(({ head, done }) => {
          if (settled) return;
          this.bytesIn += head.length;
          this.gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
          this.debug(`${this.source}: ${this.gzip ? 'gzip' : 'plain'} tarball`);
          const counted = (bytes: number) => {
            this.bytesIn += bytes;
          };
          input = Readable.from(headThenRest(head, done ? undefined : chunks, counted), { objectMode: false });
          input.on('error', onSourceError);
          if (this.gzip) input.pipe(gunzip).pipe(extract);
          else input.pipe(extract);
        })
        .catch(onSourceError);
    });
  }

  private onEntry(header: Header, stream: EntryStream, next: () => void, destroy: (err: Error) => void): void {
    const name = header.name.replace(/^\.\//, '');
    this.entries++;
    this.lastEntry = name;
    this.inEntry = true;
    const done = () => {
      this.inEntry = false;
      next();
    };
    // Entry streams are destroyed with the extractor's error; that error is handled there.
    stream.on('error', () => {});
    const isFile = header.type === 'file' || header.type === 'contiguous-file' || header.type == null;
    const item = isFile ? parseItemPath(name) : undefined;
    const isVersion = isFile && name === VERSION_ENTRY;
    const wanted = isVersion || (item !== undefined && this.items.wants(item));

    if (!wanted) {
      // Drain without buffering: tar-stream stalls until every entry's body is consumed.
      this.skipped++;
      stream.on('end', done);
      stream.resume();
      return;
    }
    if ((header.size ?? 0) > MAX_ITEM_BYTES) {
      destroy(this.error(name, `entry is ${header.size} bytes, too large for a Kubernetes object`));
      stream.resume();
      return;
    }
    const parts: Buffer[] = [];
    stream.on('data', (chunk) => {
      parts.push(chunk as Buffer);
    });
    stream.on('end', () => {
      try {
        const bytes = Buffer.concat(parts);
        if (isVersion) this.formatVersion = bytes.toString('utf8').trim();
        else this.items.keep(item!, name, bytes);
        done();
      } catch (err) {
        destroy(err as Error);
      }
    });
  }

  private error(entry: string | undefined, detail: string): BackupError {
    return new BackupError(this.source, entry, detail);
  }

  private truncated(): BackupError {
    const entry = this.lastEntry;
    return this.error(
      entry,
      entry === undefined
        ? 'truncated archive: it ends before the first entry'
        : this.inEntry
          ? 'truncated archive: it ends inside this entry'
          : 'truncated archive: it ends after this entry',
    );
  }

  private gzipError(err: NodeJS.ErrnoException): BackupError {
    if (err.code === 'Z_BUF_ERROR') return this.truncated();
    return this.error(this.lastEntry, `corrupt gzip data (${err.message})`);
  }

  private tarError(err: Error): BackupError {
    const endOfData = /unexpected end of data/i.test(err.message);
    if (this.entries === 0 && (endOfData || /invalid tar header/i.test(err.message))) {
      return this.error(undefined, this.gzip ? 'the gzip data is not a tar archive' : 'not a gzip or tar archive');
    }
    if (endOfData) return this.truncated();
    if (/invalid tar header/i.test(err.message)) return this.error(this.lastEntry, 'corrupt tar header after this entry');
    return this.error(this.lastEntry, `unreadable tar archive (${err.message})`);
  }
}

/** The bytes read to sniff the format, then the rest of the source. */
async function* headThenRest(head: Buffer, rest: AsyncIterator<Buffer> | undefined, counted: (bytes: number) => void): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  if (!rest) return;
  for (let r = await rest.next(); !r.done; r = await rest.next()) {
    counted(r.value.length);
    yield r.value;
  }
}

/** Reads at least `size` bytes (unless the source ends first), without losing what it read. */
async function readHead(chunks: AsyncIterator<Buffer>, size: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < size) {
    const r = await chunks.next();
    if (r.done) return { head: Buffer.concat(parts), done: true };
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    parts.push(chunk);
    length += chunk.length;
  }
  return { head: Buffer.concat(parts), done: false };
}
