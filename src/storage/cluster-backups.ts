/**
 * The finished backups of a storage location as Velero's cluster knows them: the Backup objects in
 * Velero's namespace whose `spec.storageLocation` names the location, for serve's readiness watch
 * (watch.source cluster). One paged, bounded listing per look; a failing API server is the
 * location's failure, never a reason to read the bucket instead.
 */
import { backupRecordOf, recentCompleted, type BackupRecord, type RecentCompleted } from './backup-records.js';
import { isObjectName } from '../model/kube.js';
import { isMap } from '../util/values.js';
import type { KubeClient } from '../kube/client.js';

export const BACKUPS_RBAC_HINT =
  "the service account of drift-detector serve needs list on backups.velero.io in Velero's namespace (deploy/service)";

export class ClusterBackupCatalog {
  constructor(
    private readonly client: () => Promise<KubeClient>,
    private readonly namespace: string,
    /** The BackupStorageLocation's name, as Backups name it in spec.storageLocation. */
    private readonly location: string,
  ) {}

  /** The `depth` Completed backups of the location that finished last, newest first; a completion past `notAfter` apart. */
  async recentCompleted(depth: number, notAfter: number, signal?: AbortSignal): Promise<RecentCompleted> {
    const backups = await (await this.client()).listVeleroObjects('Backup', this.namespace, '', signal);
    const records: BackupRecord[] = [];
    for (const backup of backups) {
      if (!isMap(backup) || !isMap(backup['spec']) || backup['spec']['storageLocation'] !== this.location) continue;
      const name = isMap(backup['metadata']) ? backup['metadata']['name'] : undefined;
      if (typeof name === 'string' && isObjectName(name)) records.push(backupRecordOf(name, backup));
    }
    return recentCompleted(records, depth, notAfter);
  }
}
