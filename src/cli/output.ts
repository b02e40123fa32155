/**
 * Where a command writes what `-o` names: a file (atomically, or through a symlink or device), or
 * standard output for `-o -`, so that a report can be piped. A command whose report takes stdout
 * writes its own words to stderr.
 */
import { assertWritable, writeFileAtomic } from '../util/atomic-write.js';

/** The `-o` value that means standard output. */
export const STDOUT = '-';

/** Fails before any work when an `-o` cannot be written; `-` always can. */
export async function checkOutput(path: string): Promise<void> {
  if (path !== STDOUT) await assertWritable(path);
}

export async function writeOutput(path: string, text: string, mode: number): Promise<void> {
  if (path !== STDOUT) return writeFileAtomic(path, text, mode);
  await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

/** The stream for a command's own words: stderr when its output took stdout. */
export function wordsStream(outputs: readonly string[]): NodeJS.WriteStream {
  return outputs.includes(STDOUT) ? process.stderr : process.stdout;
}
