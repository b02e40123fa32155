/**
 * Golden files: whole outputs people read (reports, console text, the gate's messages), kept under
 * test/golden/ and compared whole. `npm run test:golden:update` (UPDATE_GOLDEN=1) rewrites them
 * from the current code; review the diff before committing it.
 *
 * Values that change from run to run are normalized here and nowhere else, before comparing or
 * writing: the report's `generatedAt` (also as a baseline's header quotes it), the detector version, and the temporary directories and
 * repository path a test passes in.
 */
import type { ExecutionContext } from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DETECTOR_VERSION } from '../../src/version.js';

/** test/golden of the repository (the sources, not build/). */
export const GOLDEN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/golden');
export const UPDATE_GOLDEN = process.env['UPDATE_GOLDEN'] === '1';

export interface Volatile {
  /** Placeholder -> the path it stands for, e.g. `{ '<tmp>': dir }`; every occurrence is replaced. */
  paths?: Record<string, string>;
}

export function normalize(text: string, volatile: Volatile = {}): string {
  let out = text
    .replace(/("generatedAt": ?)"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"/g, '$1"<generatedAt>"')
    .replace(/^(# Report generated: )\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/gm, '$1<generatedAt>')
    .replaceAll(`"detectorVersion": "${DETECTOR_VERSION}"`, '"detectorVersion": "<version>"')
    .replaceAll(`"detectorVersion":"${DETECTOR_VERSION}"`, '"detectorVersion":"<version>"');
  // Longest path first, so a directory inside another is replaced by its own placeholder.
  const paths = Object.entries(volatile.paths ?? {}).sort((a, b) => b[1].length - a[1].length);
  for (const [placeholder, path] of paths) out = out.replaceAll(path, placeholder);
  return out;
}

/** Compares `actual` (normalized) with test/golden/<name>, or rewrites that file under UPDATE_GOLDEN=1. */
export async function assertGolden(t: ExecutionContext, name: string, actual: string, volatile: Volatile = {}): Promise<void> {
  const file = join(GOLDEN_DIR, name);
  const text = normalize(actual, volatile);
  if (UPDATE_GOLDEN) {
    await mkdir(dirname(file), { recursive: true });
    const before = await readFile(file, 'utf8').catch(() => undefined);
    if (before !== text) {
      await writeFile(file, text);
      t.log(`golden file ${name} ${before === undefined ? 'written' : 'updated'}`);
    }
    t.pass();
    return;
  }
  const expected = await readFile(file, 'utf8').catch(() => undefined);
  if (expected === undefined) {
    t.fail(`golden file test/golden/${name} is missing: run npm run test:golden:update`);
    return;
  }
  t.is(text, expected, `differs from test/golden/${name} (if the change is meant: npm run test:golden:update)`);
}
