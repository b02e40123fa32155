/**
 * A local directory laid out as Velero's bucket (`bucket: file:///path`), for labs and air-gapped
 * reviews: `[<prefix>/]backups/<name>/<name>.tar.gz` and `.../velero-backup.json`, as Velero writes
 * them and `aws s3 sync` copies them. Backup names are Kubernetes object names (no '/', no '..'),
 * and every path is checked to stay inside the directory.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { BackupSourceError } from '../backup/errors.js';
import { fileBackupSource } from '../backup/file-source.js';
import type { BackupSource } from '../backup/source.js';
import { isObjectName } from '../model/kube.js';
import { MAX_BACKUP_JSON_BYTES, parseBackupRecord, type BackupRecord } from './backup-records.js';
import type { BackupBucket } from './backup-bucket.js';
import { backupsPrefix, backupTarballKey, checkBackupKey } from './s3-url.js';
import type { StorageLocation } from './storage-location.js';

export function directoryBucket(location: StorageLocation): BackupBucket {
  const root = location.directory!;
  const objectOf = (key: string) => ({ key, path: inside(location, root, key), url: `${location.bucket}/${key}` });
  return {
    tarball(name) {
      checkBackupKey(location, name);
      return fileObjectSource(location, objectOf(backupTarballKey(location, name)), name);
    },
    look(signal) {
      return {
        backupNames: () => listBackupNames(location, objectOf(backupsPrefix(location)).path, signal),
        backupRecord: (name) => readBackupRecord(location, objectOf(`${backupsPrefix(location)}${name}/velero-backup.json`), name, signal),
        close: () => {},
      };
    },
  };
}

interface LocalObject {
  key: string;
  path: string;
  url: string;
}

/** The path of `key` below the directory; a key that would leave it is refused. */
function inside(location: StorageLocation, root: string, key: string): string {
  const path = join(root, key);
  const rel = relative(root, path);
  if (rel.startsWith(`..${sep}`) || rel === '..') {
    throw new BackupSourceError('invalid', location.bucket, key, `${key} leaves the bucket directory ${location.bucket}`);
  }
  return path;
}

/** The backup directories under `[<prefix>/]backups/`; none when it does not exist (an empty bucket). */
async function listBackupNames(location: StorageLocation, path: string, signal?: AbortSignal): Promise<string[]> {
  signal?.throwIfAborted();
  await stat(location.directory!).catch((err: NodeJS.ErrnoException) => {
    throw localFailure(err, location, '', 'the bucket directory');
  });
  const entries = await readdir(path, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw localFailure(err, location, backupsPrefix(location), 'the backup listing');
  });
  return entries.filter((e) => e.isDirectory() && isObjectName(e.name)).map((e) => e.name);
}

async function readBackupRecord(
  location: StorageLocation,
  object: LocalObject,
  name: string,
  signal?: AbortSignal,
): Promise<BackupRecord | undefined> {
  signal?.throwIfAborted();
  let text: string;
  try {
    const handle = await open(object.path, 'r');
    try {
      const { size } = await handle.stat();
      if (size > MAX_BACKUP_JSON_BYTES) {
        throw new BackupSourceError('invalid', location.bucket, object.key, `${object.url} is larger than ${MAX_BACKUP_JSON_BYTES} bytes`);
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof BackupSourceError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw localFailure(err as NodeJS.ErrnoException, location, object.key, `backup ${name}`);
  }
  return parseBackupRecord(name, text, location.bucket, object.key, object.url);
}

/** The tarball of a local backup: a regular file (file-source.ts), named by its file:// URL. */
function fileObjectSource(location: StorageLocation, object: LocalObject, name: string): BackupSource {
  const file = fileBackupSource(object.path);
  return {
    description: object.url,
    open: (signal?: AbortSignal) =>
      file.open(signal).catch((err: NodeJS.ErrnoException) => {
        if (signal?.aborted) throw err;
        if (err.code) throw localFailure(err, location, object.key, `backup ${name}`);
        throw new BackupSourceError('invalid', location.bucket, object.key, `${object.url}: ${err.message}`, { cause: err });
      }),
  };
}

function localFailure(err: NodeJS.ErrnoException, location: StorageLocation, key: string, what: string): BackupSourceError {
  const url = key ? `${location.bucket}/${key}` : location.bucket;
  if (err.code === 'ENOENT') return new BackupSourceError('not-found', location.bucket, key, `${what} not found: ${url}`, { cause: err });
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new BackupSourceError('access-denied', location.bucket, key, `${what}: ${url}: permission denied`, { cause: err });
  }
  return new BackupSourceError('failed', location.bucket, key, `${what}: ${url}: ${err.code ?? err.message}`, { cause: err });
}
