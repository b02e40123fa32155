/**
 * The items of a Velero tarball (docs/velero-facts.md §6): where an entry sits in the layout,
 * which copy of an object wins when Velero wrote it more than once, and how a kept entry is parsed.
 * Secrets are parsed as they arrive and slimmed to the fields the analysis reads (the raw entry is
 * wiped); at the end only those the analysis needs are kept. What is kept counts against a memory
 * budget, so a backup cannot make the process grow without bound.
 */
import { BACKUP_RESOURCES, emptyBackupObjects, type BackupObjects, type BackupResourceKind } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { errorMessage, isMap } from '../util/values.js';
import { parseUntrustedJson } from '../util/json.js';
import { BackupError } from './errors.js';
import { checkFieldTypes, SECRET_KEYS_READ, typeName } from './object-schema.js';
import { CAPV_NAMESPACE, neededSecretKeys } from './secrets.js';

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

interface KeptItem {
  rank: CopyRank;
  entry: string;
  object: KubeObject;
  /** What the item counts against the budget. */
  bytes: number;
}

/**
 * A Secret as it arrived, slimmed; or, when the entry could not be parsed, the error to raise
 * should the analysis need it (a broken Secret it does not read is no reason to refuse the backup).
 */
interface SlimSecret {
  rank: CopyRank;
  entry: string;
  object?: KubeObject;
  invalid?: BackupError;
  bytes: number;
}

/** The best copy of every object read so far. */
export class BackupItems {
  private readonly items = new Map<BackupResourceKind, Map<string, KeptItem>>();
  private readonly secrets = new Map<string, SlimSecret>();
  /** Bytes of what is kept now (entry sizes of objects, slimmed sizes of Secrets). */
  retainedBytes = 0;

  constructor(
    private readonly source: string,
    /** Bound on retainedBytes; undefined: no bound. */
    private readonly budgetBytes?: number,
  ) {}

  /** False when a better copy of the object was already read, so this one need not be parsed. */
  wants(item: ItemPath): boolean {
    const key = objectKey(item.namespace, item.name);
    const held = item.kind === 'secrets' ? this.secrets.get(key) : this.items.get(item.kind)?.get(key);
    return held === undefined || held.rank < item.rank;
  }

  keep(item: ItemPath, entry: string, bytes: Buffer): void {
    const key = objectKey(item.namespace, item.name);
    if (item.kind === 'secrets') {
      let secret: SlimSecret;
      try {
        const object = slimSecret(parseObject(this.source, entry, bytes, item));
        secret = { rank: item.rank, entry, object, bytes: slimSize(object) };
      } catch (err) {
        if (!(err instanceof BackupError)) throw err;
        secret = { rank: item.rank, entry, invalid: err, bytes: 0 };
      } finally {
        bytes.fill(0);
      }
      this.account(entry, secret.bytes, this.secrets.get(key)?.bytes ?? 0);
      this.secrets.set(key, secret);
      return;
    }
    const object = parseObject(this.source, entry, bytes, item);
    let byKey = this.items.get(item.kind);
    if (!byKey) this.items.set(item.kind, (byKey = new Map<string, KeptItem>()));
    this.account(entry, bytes.length, byKey.get(key)?.bytes ?? 0);
    byKey.set(key, { rank: item.rank, entry, object, bytes: bytes.length });
  }

  /** Counts a kept entry that replaces a copy of `replaced` bytes; past the budget, the scan stops. */
  private account(entry: string, added: number, replaced: number): void {
    this.retainedBytes += added - replaced;
    if (this.budgetBytes !== undefined && this.retainedBytes > this.budgetBytes) {
      throw new BackupError(
        this.source,
        entry,
        `the objects kept from this backup pass the memory budget of ${mebibytes(this.budgetBytes)} ` +
          `(${mebibytes(this.retainedBytes)} with this entry): a management cluster's objects are far smaller`,
      );
    }
  }

  /** One list per kind, each object once; of the Secrets only those the analysis reads. */
  objects(debug: (msg: string) => void): BackupObjects {
    const objects = emptyBackupObjects(this.source);
    for (const [kind, items] of this.items) {
      if (kind === 'secrets') continue;
      objects[kind] = [...items.values()].map((item) => item.object);
    }
    objects.secrets = keepNeededSecrets(objects, this.secrets, debug);
    return objects;
  }
}

/**
 * Parses one kept entry: UTF-8, JSON of bounded depth, an object with metadata.name, and the
 * fields the analysis reads of the right types. The JSON parser's own message is not passed on: it
 * quotes the input, which for a Secret would be secret data.
 */
function parseObject(source: string, entry: string, bytes: Buffer, item: ItemPath): KubeObject {
  let value: unknown;
  try {
    value = parseUntrustedJson(bytes);
  } catch (err) {
    throw new BackupError(source, entry, `entry is ${errorMessage(err)}`);
  }
  if (!isMap(value)) throw new BackupError(source, entry, 'entry is not a JSON object');
  const meta = value['metadata'];
  if (!isMap(meta)) throw new BackupError(source, entry, 'object has no metadata');
  const name = meta['name'];
  if (name != null && typeof name !== 'string') throw new BackupError(source, entry, `metadata.name is a ${typeName(name)}, not a string`);
  if (!name) throw new BackupError(source, entry, 'object has no metadata.name');
  checkFieldTypes(source, entry, item.kind, value);
  // The path's namespace is authoritative; managedFields are bulk the detector never reads.
  if (item.namespace !== undefined && meta['namespace'] == null) meta['namespace'] = item.namespace;
  delete meta['managedFields'];
  return value as unknown as KubeObject;
}

function keepNeededSecrets(objects: BackupObjects, raw: Map<string, SlimSecret>, debug: (msg: string) => void): KubeObject[] {
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
      if (secret.invalid) throw secret.invalid;
      kept.push(secret.object!);
    }
  } finally {
    raw.clear();
  }
  debug(`kept ${kept.length} Secrets: ${kept.map((s) => objectKey(s.metadata.namespace, s.metadata.name)).join(', ') || 'none'}`);
  return kept;
}

/**
 * Only what the analysis reads: annotations go, since
 * `kubectl.kubernetes.io/last-applied-configuration` repeats the secret data, and so do data keys
 * the analysis never reads.
 */
function slimSecret(secret: KubeObject): KubeObject {
  const { name, namespace, uid, labels } = secret.metadata;
  const slim: KubeObject = {
    apiVersion: secret.apiVersion,
    kind: secret.kind,
    metadata: { name, namespace, uid, labels },
    type: secret.type,
  };
  const data = keysRead(secret.data);
  const stringData = keysRead(secret.stringData);
  if (data) slim.data = data;
  if (stringData) slim.stringData = stringData;
  return slim;
}

function keysRead(map: unknown): Record<string, string> | undefined {
  if (typeof map !== 'object' || map === null) return undefined;
  const kept: Record<string, string> = {};
  for (const key of SECRET_KEYS_READ) {
    const value = (map as Record<string, unknown>)[key];
    if (typeof value === 'string') kept[key] = value;
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

/** The size a slimmed Secret keeps: its strings (one byte per character for the ASCII of base64). */
function slimSize(secret: KubeObject): number {
  let size = 0;
  for (const map of [secret.data, secret.stringData]) for (const value of Object.values(map ?? {})) size += value.length;
  return size + JSON.stringify(secret.metadata).length;
}

function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;
}
