import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header, type ExtractEvents } from 'tar-stream';
import {
  BACKUP_RESOURCES,
  emptyBackupObjects,
  type BackupObjects,
  type BackupResourceKind,
} from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { BackupError } from './errors.js';
import { CAPV_NAMESPACE, neededSecretKeys } from './secrets.js';
import type { BackupSource } from './source.js';
import { errorMessage as messageOf } from '../util/values.js';

export { BackupError } from './errors.js';

export interface ReadBackupOptions {
  signal?: AbortSignal;
  /** Progress and skip notes; never receives secret data. */
  debug?: (msg: string) => void;
}

/** A kept entry larger than this is not a Kubernetes object (etcd caps objects near 1.5 MiB). */
const MAX_ITEM_BYTES = 16 * 1024 * 1024;
const VERSION_ENTRY = 'metadata/version';
/**
 * Output chunk of the gunzip stream. zlib's default (16 KiB) costs a round trip to the thread pool
 * per 16 KiB; at 256 KiB inflating a 1 GiB backup takes about half as long.
 */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

const KIND_BY_DIR: ReadonlyMap<string, BackupResourceKind> = new Map(
  Object.entries(BACKUP_RESOURCES).map(([kind, dir]) => [dir, kind as BackupResourceKind]),
);

/**
 * Which copy of an object an entry is. Velero writes the preferred version twice (plain path and
 * `<version>-preferredversion/`), and other versions under `<version>/` with EnableAPIGroupVersions.
 * A higher rank replaces a lower one.
 */
const CopyRank = { OtherVersion: 0, Plain: 1, PreferredVersion: 2 } as const;
type CopyRank = (typeof CopyRank)[keyof typeof CopyRank];

export interface ItemPath {
  kind: BackupResourceKind;
  rank: CopyRank;
  /** Undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

/**
 * Where an entry sits in the Velero layout:
 * `resources/<group-resource>/[<version-dir>/]{namespaces/<ns>|cluster}/<name>.json`.
 * Undefined for entries of other resources, or paths outside that layout.
 */
export function parseItemPath(entryName: string): ItemPath | undefined {
  const parts = entryName.replace(/^\.\//, '').split('/');
  if (parts[0] !== 'resources' || parts.length < 4) return undefined;
  const kind = KIND_BY_DIR.get(parts[1]!);
  if (!kind) return undefined;
  let rest = parts.slice(2);
  let rank: CopyRank = CopyRank.Plain;
  if (rest[0] !== 'namespaces' && rest[0] !== 'cluster') {
    rank = rest[0]!.endsWith('-preferredversion') ? CopyRank.PreferredVersion : CopyRank.OtherVersion;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  let file: string | undefined;
  if (rest[0] === 'namespaces' && rest.length === 3) {
    namespace = rest[1];
    file = rest[2];
  } else if (rest[0] === 'cluster' && rest.length === 2) {
    file = rest[1];
  }
  if (!file?.endsWith('.json') || file.length === '.json'.length || namespace === '') return undefined;
  return { kind, rank, namespace, name: file.slice(0, -'.json'.length) };
}

/** The body of one tar entry (a streamx Readable). */
type EntryStream = ExtractEvents['entry'][1];

interface KeptItem {
  rank: CopyRank;
  entry: string;
  object: KubeObject;
}

/** A Secret entry held as raw bytes until the end of the scan tells which ones are needed. */
interface RawSecret {
  rank: CopyRank;
  entry: string;
  bytes: Buffer;
}

/**
 * Reads the objects the detector needs from a Velero backup tarball (gzip or plain tar), streaming:
 * entries of other resources are skipped unparsed, and only the Secrets the analysis needs are kept.
 * Bad input rejects with a BackupError naming the backup and the entry; an abort rejects with the
 * signal's reason.
 */
export async function readBackup(source: BackupSource, options: ReadBackupOptions = {}): Promise<BackupObjects> {
  const { signal } = options;
  const debug = options.debug ?? (() => {});
  signal?.throwIfAborted();

  let raw: Readable;
  try {
    raw = await source.open(signal);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new BackupError(source.description, undefined, `cannot open the backup: ${messageOf(err)}`, { cause: err });
  }

  const scan = new TarballScan(source.description, debug);
  await scan.run(raw, signal);

  const objects = emptyBackupObjects(source.description);
  for (const [kind, items] of scan.items) {
    if (kind === 'secrets') continue;
    objects[kind] = [...items.values()].map((item) => item.object);
  }
  if (scan.formatVersion !== undefined) objects.formatVersion = scan.formatVersion;
  objects.secrets = keepNeededSecrets(source.description, objects, scan.secrets, debug);

  if (objects.clusters.length + objects.machines.length + objects.vsphereVMs.length === 0) {
    throw new BackupError(
      source.description,
      undefined,
      'no Cluster API objects (no Cluster, Machine or VSphereVM): not a backup of a TKG management cluster',
    );
  }
  debug(
    `read ${scan.entries} entries (${scan.skipped} skipped): ` +
      (Object.keys(BACKUP_RESOURCES) as BackupResourceKind[]).map((k) => `${k}=${objects[k].length}`).join(' '),
  );
  return objects;
}

class TarballScan {
  readonly items = new Map<BackupResourceKind, Map<string, KeptItem>>();
  readonly secrets = new Map<string, RawSecret>();
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
    const wanted = isVersion || (item !== undefined && this.wants(item));

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
        else this.keep(item!, name, bytes);
        done();
      } catch (err) {
        destroy(err as Error);
      }
    });
  }

  /** False when a better copy of the object was already read, so this one need not be parsed. */
  private wants(item: ItemPath): boolean {
    const key = objectKey(item.namespace, item.name);
    const held = item.kind === 'secrets' ? this.secrets.get(key) : this.items.get(item.kind)?.get(key);
    return held === undefined || held.rank < item.rank;
  }

  private keep(item: ItemPath, entry: string, bytes: Buffer): void {
    const key = objectKey(item.namespace, item.name);
    if (item.kind === 'secrets') {
      this.secrets.get(key)?.bytes.fill(0);
      this.secrets.set(key, { rank: item.rank, entry, bytes });
      return;
    }
    const object = parseObject(this.source, entry, bytes, item.namespace);
    let byKey = this.items.get(item.kind);
    if (!byKey) this.items.set(item.kind, (byKey = new Map()));
    byKey.set(key, { rank: item.rank, entry, object });
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
async function* headThenRest(
  head: Buffer,
  rest: AsyncIterator<Buffer> | undefined,
  counted: (bytes: number) => void,
): AsyncGenerator<Buffer> {
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

/**
 * Parses one kept entry. The JSON parser's own message is not passed on: it quotes the input,
 * which for a Secret would be secret data.
 */
function parseObject(source: string, entry: string, bytes: Buffer, namespace: string | undefined): KubeObject {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BackupError(source, entry, `entry is not valid JSON (${bytes.length} bytes)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BackupError(source, entry, 'entry is not a JSON object');
  }
  const object = value as Record<string, unknown>;
  const metadata = object['metadata'];
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new BackupError(source, entry, 'object has no metadata');
  }
  const meta = metadata as Record<string, unknown>;
  if (typeof meta['name'] !== 'string' || meta['name'] === '') {
    throw new BackupError(source, entry, 'object has no metadata.name');
  }
  // The path's namespace is authoritative; managedFields are bulk the detector never reads.
  if (namespace !== undefined && meta['namespace'] === undefined) meta['namespace'] = namespace;
  delete meta['managedFields'];
  return object as unknown as KubeObject;
}

function keepNeededSecrets(
  source: string,
  objects: BackupObjects,
  raw: Map<string, RawSecret>,
  debug: (msg: string) => void,
): KubeObject[] {
  const { exact, identityNames } = neededSecretKeys(objects);
  const keys = new Set([...raw.keys()].filter((key) => exact.has(key)));
  for (const name of identityNames) {
    const inCapv = objectKey(CAPV_NAMESPACE, name);
    if (raw.has(inCapv)) keys.add(inCapv);
    else for (const key of raw.keys()) if (key.endsWith(`/${name}`)) keys.add(key);
  }
  const kept: KubeObject[] = [];
  try {
    for (const key of [...keys].sort()) {
      const secret = raw.get(key)!;
      const [namespace] = key.split('/');
      kept.push(slimSecret(parseObject(source, secret.entry, secret.bytes, namespace)));
    }
  } finally {
    for (const secret of raw.values()) secret.bytes.fill(0);
    raw.clear();
  }
  debug(`kept ${kept.length} Secrets: ${kept.map((s) => objectKey(s.metadata.namespace, s.metadata.name)).join(', ') || 'none'}`);
  return kept;
}

/**
 * Only what the analysis reads: annotations go, since
 * `kubectl.kubernetes.io/last-applied-configuration` repeats the secret data.
 */
function slimSecret(secret: KubeObject): KubeObject {
  const { name, namespace, uid, labels } = secret.metadata;
  const slim: KubeObject = {
    apiVersion: secret.apiVersion,
    kind: secret.kind,
    metadata: { name, namespace, uid, labels },
    type: secret.type,
  };
  if (secret.data) slim.data = secret.data;
  if (secret.stringData) slim.stringData = secret.stringData;
  return slim;
}

