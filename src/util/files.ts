/** Reading the files an operator names, with one wording for why one cannot be read. */
import { readFile } from 'node:fs/promises';

/** Why a file could not be read: `no such file`, `permission denied`, or the system's code. */
export function unreadableReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
}

/** The file's bytes; when it cannot be read, `fail` words the error from the reason. */
export async function readFileOr(path: string, fail: (reason: string, cause: unknown) => Error): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw fail(unreadableReason(err), err);
  }
}

/** The file's UTF-8 text; when it cannot be read, `fail` words the error from the reason. */
export async function readTextOr(path: string, fail: (reason: string, cause: unknown) => Error): Promise<string> {
  return (await readFileOr(path, fail)).toString('utf8');
}
