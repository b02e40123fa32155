/**
 * One pass over a Velero backup tarball, gzip or plain tar, as it streams in: entries the detector
 * does not read are drained unparsed, the others handed to BackupItems. A truncated or corrupt
 * archive rejects with a BackupError naming the entry where it broke. What no Velero backup holds is
 * refused by entry: a name that is not UTF-8, an absolute, empty, `.` or `..` path segment, an
 * entry the detector reads written twice (which copy is true cannot be told), and an archive that
 * shows neither `metadata/version` nor `resources/` within its first entries (DEFAULTS.backup).
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header, type ExtractEvents } from 'tar-stream';
import { DEFAULTS } from '../config/defaults.js';
import { errorMessage as messageOf } from '../util/values.js';
import { BackupError } from './errors.js';
import { parseItemPath, type BackupItems } from './items.js';

/** A kept entry larger than this is not a Kubernetes object (etcd caps objects near 1.5 MiB). */
const MAX_ITEM_BYTES = 16 * 1024 * 1024;
const VERSION_ENTRY = 'metadata/version';
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- control characters are what it escapes
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
/** An empty, `.` or `..` path segment (group 2), found in one pass over the name. */
const BAD_SEGMENT = /(^|\/)(\.{0,2})(?=\/|$)/;
/** zlib's errors while reading a gzip member header: past the first member, bytes that are not gzip. */
const GZIP_HEADER_ERROR = /incorrect header check|unknown compression method|unknown header flags|invalid header/i;
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
  /** A `metadata/version` or `resources/` entry was seen: this is a Velero backup. */
  private velero = false;
  /** Tar bytes (after gunzip) read so far, for the Velero probe. */
  private tarBytes = 0;
  /** Names of the entries read that the detector reads: a second copy is refused. */
  private readonly read = new Set<string>();

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
          const tar = this.gzip ? input.pipe(gunzip) : input;
          tar.on('data', (chunk: Buffer) => this.probe(chunk.length, fail));
          tar.pipe(extract);
        })
        .catch(onSourceError);
    });
  }

  private onEntry(header: Header, stream: EntryStream, next: () => void, destroy: (err: Error) => void): void {
    const name = printable(header.name.replace(/^\.\//, ''));
    this.entries++;
    this.lastEntry = name;
    this.inEntry = true;
    const done = () => {
      this.inEntry = false;
      next();
    };
    // Entry streams are destroyed with the extractor's error; that error is handled there.
    stream.on('error', () => {});
    const refused = refusedName(name);
    if (refused) {
      destroy(this.error(name, refused));
      return;
    }
    if (name === VERSION_ENTRY || name.startsWith('resources/')) this.velero = true;
    else if (!this.velero && this.entries > DEFAULTS.backup.probeEntries) {
      destroy(this.notVelero());
      return;
    }
    const isFile = header.type === 'file' || header.type === 'contiguous-file' || header.type == null;
    const item = isFile ? parseItemPath(name) : undefined;
    const isVersion = isFile && name === VERSION_ENTRY;
    if (isVersion || item) {
      if (this.read.has(name)) {
        destroy(this.error(name, 'the archive holds this entry twice: Velero writes each entry once, and which copy is true cannot be told'));
        return;
      }
      this.read.add(name);
    }
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

  /** Counts tar bytes; past the probe's bound with no sign of Velero, the read stops. */
  private probe(bytes: number, fail: (err: unknown) => void): void {
    this.tarBytes += bytes;
    if (!this.velero && this.tarBytes > DEFAULTS.backup.probeBytes) fail(this.notVelero());
  }

  private notVelero(): BackupError {
    const { probeEntries, probeBytes } = DEFAULTS.backup;
    return this.error(
      undefined,
      `not a Velero backup: no metadata/version and no resources/ entry in its first ${probeEntries} entries or ${probeBytes / (1024 * 1024)} MiB`,
    );
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
    // The first member's header was read before any entry; a header error later is what follows it.
    if (this.tarBytes > 0 && GZIP_HEADER_ERROR.test(err.message)) {
      return this.error(
        undefined,
        'the gzip data is followed by bytes that are not gzip: the file was damaged or appended to after Velero wrote it',
      );
    }
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

/** The name as messages show it: control characters escaped, so that a name cannot drive the terminal. */
function printable(name: string): string {
  // Most names have none: test once rather than rebuild every name of a 250,000-entry backup.
  if (!CONTROL_CHARACTER.test(name)) return name;
  return name.replace(CONTROL_CHARACTERS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Why an entry name is refused: no Velero backup holds it, and a path with `..` is a traversal attempt. */
function refusedName(name: string): string | undefined {
  if (name.includes('\uFFFD')) return 'entry name is not valid UTF-8';
  if (name === '' || name === '.') return undefined;
  if (name.startsWith('/')) return 'entry name is an absolute path';
  const bad = BAD_SEGMENT.exec(name.endsWith('/') ? name.slice(0, -1) : name);
  return bad === null ? undefined : `entry name has a path segment ${JSON.stringify(bad[2])}: a Velero backup has none`;
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
