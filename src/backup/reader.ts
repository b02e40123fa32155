import type { Readable } from 'node:stream';
import { DEFAULTS } from '../config/defaults.js';
import { BACKUP_RESOURCES, type BackupObjects, type BackupResourceKind } from '../model/backup.js';
import { errorMessage as messageOf } from '../util/values.js';
import { BackupError, NoClusterApiObjects } from './errors.js';
import { BackupItems } from './items.js';
import type { BackupSource } from './source.js';
import { TarballScan } from './tarball-scan.js';

export { BackupError } from './errors.js';

export interface ReadBackupOptions {
  signal?: AbortSignal;
  /** Progress and skip notes; never receives secret data. */
  debug?: (msg: string) => void;
  /** Bound on the bytes kept from the backup (DEFAULTS.backup.maxRetainedBytes). */
  maxRetainedBytes?: number;
}

/**
 * Reads the objects the detector needs (docs/drift-rules.md §1.1) from a Velero backup tarball (gzip
 * or plain tar), streaming: entries of other resources are skipped unparsed (TarballScan), and of
 * the Secrets only those the analysis needs are kept (BackupItems).
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

  const items = new BackupItems(source.description, options.maxRetainedBytes ?? DEFAULTS.backup.maxRetainedBytes);
  const scan = new TarballScan(source.description, items, debug);
  await scan.run(raw, signal);
  const objects = items.objects(debug);
  if (scan.formatVersion !== undefined) objects.formatVersion = scan.formatVersion;

  if (objects.clusters.length + objects.machines.length + objects.vsphereVMs.length === 0) {
    throw new NoClusterApiObjects(source.description);
  }
  debug(
    `read ${scan.entries} entries (${scan.skipped} skipped): ` +
      (Object.keys(BACKUP_RESOURCES) as BackupResourceKind[]).map((k) => `${k}=${objects[k].length}`).join(' '),
  );
  return objects;
}
