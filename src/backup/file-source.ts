import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BackupSource } from './source.js';

/** A backup tarball on the local disk (e.g. written by `velero backup download`). */
export function fileBackupSource(path: string): BackupSource {
  return {
    description: path,
    async open(signal?: AbortSignal): Promise<Readable> {
      signal?.throwIfAborted();
      // A device, pipe or directory is refused before reading: /dev/zero would stream forever, and
      // opening a FIFO blocks until a writer comes.
      checkRegular(await stat(path));
      // Opening first makes a missing or unreadable file fail here, not later mid-stream.
      const handle = await open(path, 'r');
      try {
        checkRegular(await handle.stat());
      } catch (err) {
        await handle.close();
        throw err;
      }
      return handle.createReadStream({ autoClose: true });
    },
  };
}

function checkRegular(stats: Stats): void {
  if (stats.isFile()) return;
  const what = stats.isDirectory()
    ? 'a directory'
    : stats.isCharacterDevice() || stats.isBlockDevice()
      ? 'a device'
      : stats.isFIFO()
        ? 'a pipe'
        : stats.isSocket()
          ? 'a socket'
          : 'a special file';
  throw new Error(`it is ${what}, not a backup file (a .tar.gz or .tar)`);
}
