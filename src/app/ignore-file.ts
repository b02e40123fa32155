/** Reads the ignore file of VMs the operator knows (`detect --ignore-file`); the rules are src/drift/ignore.ts. */
import { open } from 'node:fs/promises';
import { IgnoreFileTooLargeError, IgnorePatternError, MAX_IGNORE_FILE_BYTES, parseIgnoreRules, type IgnoreRules } from '../drift/ignore.js';
import { errorMessage } from '../util/values.js';
import { DomainError } from './errors.js';

/** The rules of the file; a file that cannot be read, or a line that is no valid pattern, is an error naming the file (and line). */
export async function readIgnoreFile(path: string): Promise<IgnoreRules> {
  let text: string;
  try {
    text = await readBounded(path);
  } catch (err) {
    if (err instanceof IgnoreFileTooLargeError) throw new DomainError('invalid-argument', `ignore file ${path}: ${err.message}`);
    throw new DomainError('invalid-argument', `cannot read the ignore file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    return parseIgnoreRules(text, path);
  } catch (err) {
    if (err instanceof IgnoreFileTooLargeError && err.line === 0)
      throw new DomainError('invalid-argument', `ignore file ${path}: ${err.message}`);
    if (err instanceof IgnorePatternError) throw new DomainError('invalid-argument', `ignore file ${path} line ${err.line}: ${err.message}`);
    throw err;
  }
}

/** The file's text, refused unread when it holds more than an ignore file may. */
async function readBounded(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size > MAX_IGNORE_FILE_BYTES) {
      throw new IgnoreFileTooLargeError(0, `${size} bytes, more than the ${MAX_IGNORE_FILE_BYTES} an ignore file may hold`);
    }
    // A file that grows while read (or a device) is cut one byte past the bound: parseIgnoreRules refuses it.
    const buffer = Buffer.alloc(MAX_IGNORE_FILE_BYTES + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}
