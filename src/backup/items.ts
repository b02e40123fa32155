/**
 * The items of a Velero tarball (docs/velero-facts.md §6): where an entry sits in the layout,
 * which copy of an object wins when Velero wrote it more than once, and how a kept entry is parsed.
 * Secrets are held as raw bytes until the scan ends, then only those the analysis needs are parsed;
 * the others are wiped.
 */
import { BACKUP_RESOURCES, emptyBackupObjects, type BackupObjects, type BackupResourceKind } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { BackupError } from './errors.js';
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
}

/** A Secret entry held as raw bytes until the end of the scan tells which ones are needed. */
interface RawSecret {
  rank: CopyRank;
  entry: string;
  bytes: Buffer;
}

/** The best copy of every object read so far. */
export class BackupItems {
  private readonly items = new Map<BackupResourceKind, Map<string, KeptItem>>();
  private readonly secrets = new Map<string, RawSecret>();

  constructor(private readonly source: string) {}

  /** False when a better copy of the object was already read, so this one need not be parsed. */
  wants(item: ItemPath): boolean {
    const key = objectKey(item.namespace, item.name);
    const held = item.kind === 'secrets' ? this.secrets.get(key) : this.items.get(item.kind)?.get(key);
    return held === undefined || held.rank < item.rank;
  }

  keep(item: ItemPath, entry: string, bytes: Buffer): void {
    const key = objectKey(item.namespace, item.name);
    if (item.kind === 'secrets') {
      this.secrets.get(key)?.bytes.fill(0);
      this.secrets.set(key, { rank: item.rank, entry, bytes });
      return;
    }
    const object = parseObject(this.source, entry, bytes, item.namespace);
    let byKey = this.items.get(item.kind);
    if (!byKey) this.items.set(item.kind, (byKey = new Map<string, KeptItem>()));
    byKey.set(key, { rank: item.rank, entry, object });
  }

  /** One list per kind, each object once; of the Secrets only those the analysis reads. */
  objects(debug: (msg: string) => void): BackupObjects {
    const objects = emptyBackupObjects(this.source);
    for (const [kind, items] of this.items) {
      if (kind === 'secrets') continue;
      objects[kind] = [...items.values()].map((item) => item.object);
    }
    objects.secrets = keepNeededSecrets(this.source, objects, this.secrets, debug);
    return objects;
  }
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

function keepNeededSecrets(source: string, objects: BackupObjects, raw: Map<string, RawSecret>, debug: (msg: string) => void): KubeObject[] {
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
