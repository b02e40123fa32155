/** What an ignore file may cost: patterns matched in time linear in the name, and a bound on the file. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { readIgnoreFile } from '../../src/app/ignore-file.js';
import { DomainError } from '../../src/app/errors.js';
import { ignoringRule, IgnoreFileTooLargeError, MAX_IGNORE_FILE_BYTES, MAX_IGNORE_PATTERNS, parseIgnoreRules } from '../../src/drift/ignore.js';
import { compileGlob } from '../../src/util/glob.js';

test('a line of `**/` repeated 90 times is one optional run of folders: a few steps a character', (t) => {
  const pattern = `${'**/'.repeat(90)}jb-*`;
  const glob = compileGlob(pattern);
  t.true(glob.size < 20, `program of ${glob.size} instructions`);
  const path = '/DC0/vm/tkg/wc1/team-a/wc1-md-0-abcde-fghij';
  const { matched, steps } = glob.run(path);
  t.false(matched);
  t.true(steps <= 2 * (path.length + 1) * glob.size, `${steps} steps`);
  t.true(glob.test('/DC0/vm/a/b/c/jb-01'));
  t.true(glob.test('jb-01'));
});

test('stars with a letter between them cost steps in proportion to the text, not a power of it', (t) => {
  const glob = compileGlob(`${'*a'.repeat(16)}*b`);
  const short = glob.runProgram('a'.repeat(100));
  const long = glob.runProgram('a'.repeat(800));
  t.false(short.matched);
  t.false(long.matched);
  // 8 times the text: about 8 times the steps (a backtracking matcher takes a power of it); a generous margin.
  t.true(long.steps <= 10 * short.steps, `${short.steps} steps, then ${long.steps}`);
});

test(`an ignore file of more than ${MAX_IGNORE_PATTERNS} patterns is refused, naming the line where the bound is passed`, (t) => {
  const lines = Array.from({ length: MAX_IGNORE_PATTERNS + 1 }, (_, i) => `vm-${i}-*`);
  t.is(parseIgnoreRules(lines.slice(0, MAX_IGNORE_PATTERNS).join('\n'), 'f').rules.length, MAX_IGNORE_PATTERNS);
  const err = t.throws(() => parseIgnoreRules(['# header', ...lines].join('\n'), 'f'), { instanceOf: IgnoreFileTooLargeError });
  t.is(err.line, MAX_IGNORE_PATTERNS + 2);
  t.regex(err.message, /more than 10000 patterns/);
});

test('readIgnoreFile refuses a file of more than 1 MiB or too many patterns, naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ignore-bounds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const big = join(dir, 'big.driftignore');
  await writeFile(big, `# ${'x'.repeat(MAX_IGNORE_FILE_BYTES)}\n`);
  const tooBig = await t.throwsAsync(readIgnoreFile(big), { instanceOf: DomainError });
  t.regex(tooBig.message, new RegExp(`^ignore file ${big}: \\d+ bytes, more than the 1048576`));
  const many = join(dir, 'many.driftignore');
  await writeFile(many, Array.from({ length: MAX_IGNORE_PATTERNS + 1 }, (_, i) => `*${i}*`).join('\n'));
  const tooMany = await t.throwsAsync(readIgnoreFile(many), { instanceOf: DomainError });
  t.regex(tooMany.message, new RegExp(`^ignore file ${many} line 10001: more than 10000 patterns`));
  const fine = join(dir, 'fine.driftignore');
  await writeFile(fine, 'jumpbox-*\n');
  t.truthy(ignoringRule(await readIgnoreFile(fine), 'jumpbox-1'));
});
