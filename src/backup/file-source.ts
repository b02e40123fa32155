import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BackupSource } from './source.js';

/** A backup tarball on the local disk (e.g. written by `velero backup download`). */
export function fileBackupSource(path: string): BackupSource {
  return {
    description: path,
    async open(signal?: AbortSignal): Promise<Readable> {
      signal?.throwIfAborted();
      // Opening first makes a missing or unreadable file fail here, not later mid-stream.
      const handle = await open(path, 'r');
      return handle.createReadStream({ autoClose: true });
    },
  };
}
