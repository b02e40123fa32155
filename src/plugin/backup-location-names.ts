/**
 * Which BackupStorageLocation each backup of the restore is in, as its Backup object says
 * (`spec.storageLocation`), for a remote-mode plugin to name to the service. Read once per backup
 * for the process (one restore). When the Backup cannot be read (no cluster access, RBAC), the
 * answer is "unknown" and the service uses its default location, as before.
 */
import { DomainError } from '../app/errors.js';
import { storageLocationNameProblem } from '../rpc/storage-location-metadata.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';

/** Reads `spec.storageLocation` of Backup `backupName` (VeleroCluster.storageLocationNameOf). */
export type StorageLocationLookup = (backupName: string, signal: AbortSignal) => Promise<string>;

export class BackupLocationNames {
  private readonly names = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly lookup: StorageLocationLookup,
    private readonly logger: Logger,
  ) {}

  /** The location's name; undefined when the cluster cannot tell. A cancelled read is not kept. */
  nameOf(backupName: string, signal: AbortSignal): Promise<string | undefined> {
    let name = this.names.get(backupName);
    if (!name) {
      name = this.read(backupName, signal);
      this.names.set(backupName, name);
      name.catch(() => this.names.delete(backupName));
    }
    return name;
  }

  private async read(backupName: string, signal: AbortSignal): Promise<string | undefined> {
    let name: string;
    try {
      name = await this.lookup(backupName, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      this.logger.warn("cannot read the Backup's storage location; the service reads the backup from its default one", {
        backup: backupName,
        error: errorMessage(err),
      });
      return undefined;
    }
    const problem = storageLocationNameProblem(name);
    if (problem) throw new DomainError('invalid-argument', `Backup ${backupName}: spec.storageLocation: ${problem}`);
    return name;
  }
}
