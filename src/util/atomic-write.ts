import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, lstat, open, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Writes a file so that readers see either the old content or the whole new one: a temp file
 * beside the target, flushed to disk, then renamed. Nothing half-written is left behind on failure.
 * A path that is a symlink, a device or a pipe (`/dev/stdout`, a link to a shared report) is
 * written through instead: renaming over it would replace the link or the device with a file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const existing = await lstat(path).catch(() => undefined);
  try {
    if (existing && !existing.isFile()) await writeThrough(path, data, mode);
    else await writeBesideAndRename(path, data, mode);
  } catch (err) {
    throw writeError(path, err);
  }
}

async function writeThrough(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const file = await open(path, 'w', mode);
  try {
    await file.writeFile(data);
  } finally {
    await file.close();
  }
}

async function writeBesideAndRename(path: string, data: string | Uint8Array, mode: number): Promise<void> {
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

/** The failure named by the target, not by the temp file beside it. */
function writeError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const dir = dirname(resolve(path));
  const why: Record<string, string> = {
    ENOENT: `the directory ${dir} does not exist`,
    ENOTDIR: `${dir} is not a directory`,
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a directory',
    ENOSPC: 'no space left on the device',
    EROFS: 'the file system is read-only',
  };
  const detail = (code && why[code]) ?? (err instanceof Error ? err.message : String(err));
  return new Error(`cannot write ${path}: ${detail}`, { cause: err });
}

/**
 * Fails early, naming the directory, when `path` cannot be written by writeFileAtomic: so that a
 * long run does not end on an error about its temp file. The write itself can still fail later
 * (disk full, a directory removed meanwhile).
 */
export async function assertWritable(path: string): Promise<void> {
  const link = await lstat(path).catch(() => undefined);
  if (link && !link.isFile()) return assertWritableThrough(path, link);
  const dir = dirname(resolve(path));
  const dirStat = await stat(dir).catch(() => undefined);
  if (!dirStat) throw new Error(`cannot write ${path}: the directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new Error(`cannot write ${path}: ${dir} is not a directory`);
  // The temp file is created in the directory, so the directory must be writable even when the file exists.
  await access(dir, constants.W_OK | constants.X_OK).catch(() => {
    throw new Error(`cannot write ${path}: the directory ${dir} is not writable`);
  });
}

/** A symlink, device or pipe is opened and written as it is: it must be writable itself. */
async function assertWritableThrough(path: string, link: Stats): Promise<void> {
  if (link.isDirectory()) throw new Error(`cannot write ${path}: it is a directory`);
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new Error(`cannot write ${path}: it is a directory`);
  if (!target) {
    // A dangling link: the file it names is created, in a directory that must exist.
    const dir = await stat(dirname(resolve(dirname(path), await readlink(path)))).catch(() => undefined);
    if (!dir?.isDirectory()) throw new Error(`cannot write ${path}: it is a link to a file in a directory that does not exist`);
    return;
  }
  await access(path, constants.W_OK).catch(() => {
    throw new Error(`cannot write ${path}: it is not writable`);
  });
}
