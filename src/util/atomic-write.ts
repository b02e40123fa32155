import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes a file so that readers see either the old content or the whole new one: a temp file
 * beside the target, flushed to disk, then renamed. Nothing half-written is left behind on failure.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Fails early, naming the directory, when `path` cannot be written by writeFileAtomic: so that a
 * long run does not end on an error about its temp file. The write itself can still fail later
 * (disk full, a directory removed meanwhile).
 */
export async function assertWritable(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) throw new Error(`cannot write ${path}: the directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new Error(`cannot write ${path}: ${dir} is not a directory`);
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new Error(`cannot write ${path}: it is a directory`);
  // The temp file is created in the directory, so the directory must be writable even when the file exists.
  await access(dir, constants.W_OK | constants.X_OK).catch(() => {
    throw new Error(`cannot write ${path}: the directory ${dir} is not writable`);
  });
}
