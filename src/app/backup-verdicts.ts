/**
 * The verdicts on Velero's Backup objects, as the service reads and writes them: the leader's
 * watch records each analysis (a signed label and annotations, backup-verdict.ts), and every
 * replica reads them back: the verdict on a Restore's backup, and the newest backup of a location
 * whose verdict is Restorable (what a denial points to). Only signed verdicts count.
 */
import { backupRecordOf } from '../storage/backup-records.js';
import { SCHEDULE_LABEL } from '../storage/backup-records.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';
import { readVerdict, VERDICT_LABEL, verdictPatch, type BackupVerdict, type ReadVerdict } from './backup-verdict.js';

/** Velero's Backup objects in its namespace (the API server, in `serve`). */
export interface BackupObjects {
  /** The Backup object; throws when it cannot be read (not found included). */
  read(name: string, signal?: AbortSignal): Promise<unknown>;
  /** The Backups that match the label selector. */
  list(labelSelector: string, signal?: AbortSignal): Promise<unknown[]>;
  /** Merge-patches a Backup. */
  patch(name: string, patch: object): Promise<void>;
}

/** A backup a denial can point to: its verdict is Restorable, signed by this service. */
export interface RestorableBackup {
  name: string;
  completedAt?: number;
  analyzedAt: number;
}

/** A backup and the verdict this service signed on it. */
export interface SignedBackup {
  name: string;
  completedAt?: number;
  verdict: BackupVerdict;
}

export class BackupVerdicts {
  constructor(
    private readonly backups: BackupObjects,
    /** The signing key, shared by the replicas (verdict-key.ts). */
    private readonly key: () => Promise<Buffer>,
    private readonly logger: Logger,
  ) {}

  /** Writes the verdict on the Backup, signed over its uid: a Backup deleted and made again under the same name carries none. */
  async record(name: string, verdict: BackupVerdict, signal?: AbortSignal): Promise<void> {
    const backup = await this.backups.read(name, signal);
    const uid = metadataText(backup, 'uid');
    if (!uid) throw new Error(`Backup ${name} has no metadata.uid`);
    await this.backups.patch(name, verdictPatch(await this.key(), uid, verdict));
  }

  /** The Backup object and the verdict it carries, trusted or not. */
  async read(name: string, signal?: AbortSignal): Promise<{ backup: unknown; verdict: ReadVerdict }> {
    const backup = await this.backups.read(name, signal);
    return { backup, verdict: readVerdict(backup, await this.key()) };
  }

  /**
   * The newest Completed backup of `location` (and of `schedule`, when the Restore named one)
   * whose signed verdict is Restorable and no older than `maxAgeMs`, other than `exclude`; a
   * completion past `notAfter` is a clock running ahead and is passed over.
   */
  async newestRestorable(
    scope: { location: string; schedule?: string; exclude: string; maxAgeMs: number; now: number; notAfter: number },
    signal?: AbortSignal,
  ): Promise<RestorableBackup | undefined> {
    const [listed, key] = await Promise.all([this.backups.list(`${VERDICT_LABEL}=Restorable`, signal), this.key()]);
    let best: RestorableBackup | undefined;
    for (const backup of listed) {
      const name = metadataText(backup, 'name') ?? '';
      if (name === '' || name === scope.exclude || backupPlace(backup).location !== scope.location) continue;
      const record = backupRecordOf(name, backup);
      if (record.phase !== 'Completed' || (scope.schedule && record.schedule !== scope.schedule)) continue;
      if ((record.completedAt ?? -Infinity) > scope.notAfter) continue;
      const read = readVerdict(backup, key);
      if (!read.trusted) {
        this.logger.warn('a Backup carries a restore verdict this service did not sign: ignored', { backup: name, label: VERDICT_LABEL });
        continue;
      }
      if (read.verdict.verdict !== 'Restorable' || scope.now - read.verdict.analyzedAt > scope.maxAgeMs) continue;
      if (!best || (record.completedAt ?? -Infinity) > (best.completedAt ?? -Infinity)) {
        best = { name, analyzedAt: read.verdict.analyzedAt, ...(record.completedAt !== undefined ? { completedAt: record.completedAt } : {}) };
      }
    }
    return best;
  }

  /**
   * The newest Completed backup of each location that carries a verdict this service signed (a
   * completion past `notAfter` passed over): what a replica that does not run the watch shows of
   * readiness. A verdict nobody signed is ignored, as everywhere.
   */
  async newestSigned(notAfter: number, signal?: AbortSignal): Promise<Map<string, SignedBackup>> {
    const [listed, key] = await Promise.all([this.backups.list(VERDICT_LABEL, signal), this.key()]);
    const newest = new Map<string, SignedBackup>();
    for (const backup of listed) {
      const name = metadataText(backup, 'name') ?? '';
      const { location } = backupPlace(backup);
      const record = backupRecordOf(name, backup);
      if (name === '' || !location || record.phase !== 'Completed' || (record.completedAt ?? -Infinity) > notAfter) continue;
      const read = readVerdict(backup, key);
      if (!read.trusted) continue;
      const best = newest.get(location);
      if (!best || (record.completedAt ?? -Infinity) > (best.completedAt ?? -Infinity)) {
        newest.set(location, { name, verdict: read.verdict, ...(record.completedAt !== undefined ? { completedAt: record.completedAt } : {}) });
      }
    }
    return newest;
  }

  /** As `newestRestorable`, but a failure to look is logged and answers "none known": a denial stands without its pointer. */
  async pointer(
    scope: Parameters<BackupVerdicts['newestRestorable']>[0],
    signal?: AbortSignal,
  ): Promise<RestorableBackup | undefined | 'unknown'> {
    try {
      return await this.newestRestorable(scope, signal);
    } catch (err) {
      this.logger.warn('cannot look for a restorable backup to point to', { storageLocation: scope.location, error: errorMessage(err) });
      return 'unknown';
    }
  }
}

/** A non-empty string of the Backup's metadata (`name`, `uid`). */
function metadataText(backup: unknown, key: 'name' | 'uid'): string | undefined {
  const metadata = isMap(backup) && isMap(backup['metadata']) ? backup['metadata'] : {};
  const value = metadata[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The storage location and schedule a Backup object names. */
export function backupPlace(backup: unknown): { location?: string; schedule?: string } {
  const spec = isMap(backup) && isMap(backup['spec']) ? backup['spec'] : {};
  const metadata = isMap(backup) && isMap(backup['metadata']) ? backup['metadata'] : {};
  const labels = isMap(metadata['labels']) ? metadata['labels'] : {};
  const location = spec['storageLocation'];
  const schedule = labels[SCHEDULE_LABEL];
  return {
    ...(typeof location === 'string' && location !== '' ? { location } : {}),
    ...(typeof schedule === 'string' && schedule !== '' ? { schedule } : {}),
  };
}
