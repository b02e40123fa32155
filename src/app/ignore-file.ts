/** Reads the ignore file of VMs the operator knows (`detect --ignore-file`); the rules are src/drift/ignore.ts. */
import { readFile } from 'node:fs/promises';
import { IgnorePatternError, parseIgnoreRules, type IgnoreRules } from '../drift/ignore.js';
import { errorMessage } from '../util/values.js';
import { DomainError } from './errors.js';

/** The rules of the file; a file that cannot be read, or a line that is no valid pattern, is an error naming the file (and line). */
export async function readIgnoreFile(path: string): Promise<IgnoreRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DomainError('invalid-argument', `cannot read the ignore file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    return parseIgnoreRules(text, path);
  } catch (err) {
    if (err instanceof IgnorePatternError) throw new DomainError('invalid-argument', `ignore file ${path} line ${err.line}: ${err.message}`);
    throw err;
  }
}
