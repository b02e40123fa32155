import type { Command } from 'commander';
import { fileBackupSource } from '../backup/file-source.js';
import type { BackupSource } from '../backup/source.js';
import { DEFAULTS } from '../config/defaults.js';
import { UsageError } from './errors.js';
import { durationOption, positiveInt } from './options.js';

const MIB = 1024 * 1024;

/** The --backup-memory flag in bytes. */
export function backupMemoryBytes(flags: BackupFlags): number {
  return flags.backupMemory * MIB;
}

export interface BackupFlags {
  backup?: string;
  backupName?: string;
  storageLocation?: string;
  storageLocationName?: string;
  veleroNamespace: string;
  /** Durations in ms. */
  s3Timeout: number;
  s3Deadline: number;
  backupMemory: number;
}

/** Where `detect` and `inventory` take the backup from: a file, an s3:// URL, or a backup name in a storage location. */
export function backupOptions(command: Command): Command {
  return command
    .option(
      '--backup <path>',
      'the Velero backup tarball: a file (.tar.gz or .tar, e.g. from `velero backup download`) or s3://bucket/prefix/backups/NAME/NAME.tar.gz',
    )
    .option('--backup-name <name>', 'a backup in the Velero bucket, with --storage-location or --storage-location-name')
    .option(
      '--storage-location <file>',
      'a BackupStorageLocation manifest (or its flat fields) describing the bucket; also endpoint/credentials for s3:// URLs',
    )
    .option(
      '--storage-location-name <name>',
      'read the BackupStorageLocation object of this name from the cluster (in-cluster config or KUBECONFIG)',
    )
    .option('--velero-namespace <ns>', 'namespace of the BackupStorageLocation object', DEFAULTS.velero.namespace)
    .addOption(
      durationOption(
        command.name(),
        '--s3-timeout <duration>',
        `bound on each try of an object-storage request (connecting, the answer, a stalled download); ${DEFAULTS.storage.maxAttempts} tries at most`,
        DEFAULTS.storage.requestTimeoutMs,
      ),
    )
    .addOption(
      durationOption(
        command.name(),
        '--s3-deadline <duration>',
        'bound on the whole read of the backup from object storage: every try and the download',
        DEFAULTS.storage.deadlineMs,
      ),
    )
    .option(
      '--backup-memory <MiB>',
      'bound on what is kept from the backup (its objects, Secrets slimmed); a backup past it is refused',
      positiveInt,
      DEFAULTS.backup.maxRetainedBytes / MIB,
    );
}

export async function backupSourceFrom(command: string, flags: BackupFlags): Promise<BackupSource> {
  const bounds = { timeoutMs: flags.s3Timeout, deadlineMs: flags.s3Deadline };
  if (flags.backup && flags.backupName) throw new UsageError(command, 'give --backup or --backup-name, not both');
  if (flags.backup && !flags.backup.startsWith('s3://')) return fileBackupSource(flags.backup);
  // The S3 and Kubernetes clients load only for backups that need them.
  const [{ s3BackupSource, s3BackupSourceFromUrl }, { readStorageLocationFile }, { readStorageLocationFromCluster }] = await Promise.all([
    import('../storage/s3-source.js'),
    import('../storage/storage-location.js'),
    import('../storage/storage-location-cluster.js'),
  ]);
  if (flags.backup?.startsWith('s3://')) {
    const location = flags.storageLocation ? await readStorageLocationFile(flags.storageLocation) : undefined;
    return s3BackupSourceFromUrl(flags.backup, { ...bounds, ...(location ? { location } : {}) });
  }
  if (!flags.backupName) throw new UsageError(command, 'required option --backup <path> (or --backup-name <name>) not given');
  if (flags.storageLocation && flags.storageLocationName) {
    throw new UsageError(command, 'give --storage-location or --storage-location-name, not both');
  }
  if (flags.storageLocation) return s3BackupSource(await readStorageLocationFile(flags.storageLocation), flags.backupName, bounds);
  if (flags.storageLocationName) {
    const location = await readStorageLocationFromCluster(flags.storageLocationName, flags.veleroNamespace, { timeoutMs: bounds.timeoutMs });
    return s3BackupSource(location, flags.backupName, bounds);
  }
  throw new UsageError(command, '--backup-name needs --storage-location <file> or --storage-location-name <name>');
}
