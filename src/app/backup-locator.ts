/**
 * Where a backup's tarball is: the port the use cases read backups through, and its two
 * implementations: the storage locations a service is configured with, chosen by name, and the
 * storage location a Velero Backup names, read when the backup's analysis starts (inside its
 * timeout, so a slow API server costs one analysis, not the process).
 */
import { s3BackupSource } from '../storage/s3-source.js';
import type { BackupSource } from '../backup/source.js';
import { readStorageLocationFile, type StorageLocation } from '../storage/storage-location.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import { DomainError } from './errors.js';
import { defaultStorageLocation, type ConfiguredStorageLocation } from '../storage/configured-locations.js';

export interface BackupLocator {
  /** The tarball of backup `backupName`; finding where it lives may take calls, bounded by `signal`. */
  locate(backupName: string, signal?: AbortSignal): Promise<BackupSource>;
}

/** The locators a service may use, by storage location name; one of them is the default. */
export interface BackupLocations {
  /** The location of that name, the default one for an empty name; an unknown name is invalid-argument. */
  select(name: string | undefined): { name: string; locator: BackupLocator };
  /** Every location's name, the default one first. */
  names(): string[];
  /** The one location stands for whichever a Backup names (the plugin's): messages do not name it. */
  readonly unnamed?: boolean;
}

/**
 * `spec.storageLocation` of Velero Backup `backup` in `namespace`; undefined when it cannot be
 * known (no access to Backups, no such Backup yet, the API server failing): then every location is looked in.
 */
export type BackupStorageLocationOf = (namespace: string, backup: string, signal: AbortSignal) => Promise<string | undefined>;

/** One locator, the only (and so the default) location; `unnamed` when it stands for whichever the Backup names. */
export function onlyLocation(name: string, locator: BackupLocator, unnamed = false): BackupLocations {
  return { select: () => ({ name, locator }), names: () => [name], ...(unnamed ? { unnamed } : {}) };
}

/** The tarball of a backup in a configured location; tests replace it. */
export type SourceIn = (backupName: string, location: ConfiguredStorageLocation) => BackupSource;

export const s3SourceIn: SourceIn = (backupName, l) =>
  s3BackupSource(l.location, backupName, { timeoutMs: l.timeoutMs, deadlineMs: l.deadlineMs });

/** serve: the configured S3 storage locations, chosen by name, else the default one. */
export class ConfiguredStorageLocations implements BackupLocations {
  constructor(
    private readonly locations: ConfiguredStorageLocation[],
    private readonly sourceIn: SourceIn = s3SourceIn,
  ) {}

  select(name: string | undefined): { name: string; locator: BackupLocator } {
    const location = name ? this.locations.find((l) => l.name === name) : defaultStorageLocation({ storageLocations: this.locations });
    if (!location) {
      const configured = this.locations.map((l) => l.name).join(', ');
      throw new DomainError(
        'invalid-argument',
        `storage location "${(name ?? '').slice(0, 80)}" is not configured (configured: ${configured})`,
      );
    }
    return { name: location.name, locator: { locate: async (backupName) => this.sourceIn(backupName, location) } };
  }

  names(): string[] {
    const first = defaultStorageLocation({ storageLocations: this.locations }).name;
    return [first, ...this.locations.map((l) => l.name).filter((n) => n !== first)];
  }
}

/** The reads of Velero's objects that find a Backup's storage location (the plugin's cluster access). */
export interface VeleroStorageLocations {
  /** `spec.storageLocation` of Backup `backupName`. */
  storageLocationNameOf(backupName: string, signal?: AbortSignal): Promise<string>;
  readStorageLocation(name: string, signal?: AbortSignal): Promise<StorageLocation>;
}

export interface VeleroBackupLocatorOptions {
  /** A storage-location file that stands for every Backup's location (runs without a cluster). */
  file?: string;
  /** The cluster Velero runs in. */
  cluster: () => Promise<VeleroStorageLocations>;
  /** Bound on each try of an S3 request, in ms. */
  timeoutMs: number;
  /** Bound on one whole read of the tarball (every try, the download), in ms. */
  deadlineMs: number;
  logger: Logger;
  /** Said when the cluster cannot be reached: what the operator can do instead. */
  unreachableHint?: string;
}

/** plugin: the BackupStorageLocation a Velero Backup names. */
export class VeleroBackupLocator implements BackupLocator {
  constructor(private readonly options: VeleroBackupLocatorOptions) {}

  async locate(backupName: string, signal?: AbortSignal): Promise<BackupSource> {
    const location = await this.storageLocationOf(backupName, signal);
    return s3BackupSource(location, backupName, { timeoutMs: this.options.timeoutMs, deadlineMs: this.options.deadlineMs });
  }

  private async storageLocationOf(backupName: string, signal: AbortSignal | undefined): Promise<StorageLocation> {
    const { file, logger, unreachableHint } = this.options;
    if (file) return readStorageLocationFile(file);
    const cluster = await this.options.cluster().catch((err: unknown) => {
      const hint = unreachableHint ? ` (${unreachableHint})` : '';
      throw new Error(`cannot find the storage location of backup ${backupName}: ${errorMessage(err)}${hint}`, { cause: err });
    });
    const name = await cluster.storageLocationNameOf(backupName, signal);
    const location = await cluster.readStorageLocation(name, signal);
    logger.info('storage location read', {
      backup: backupName,
      storageLocation: name,
      bucket: location.bucket,
      ...(location.prefix ? { prefix: location.prefix } : {}),
    });
    return location;
  }
}
