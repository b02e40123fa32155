/**
 * Properties of the glob matchers (src/util/glob.ts): they answer as a plain recursive matcher does,
 * the string-search shortcut answers as the program does, and the work grows linearly with the
 * text: at most 2 × (text length + 1) × (program size) steps, and 8 times the text costs about 8 times
 * the steps, never a power of it. Step counts, not clocks: the machine is shared.
 */
import test from 'ava';
import fc from 'fast-check';
import { compileGlob, type GlobDialect } from '../../src/util/glob.js';
import { check } from './fuzz.js';
import { nameGlobRef as nameRef, pathGlobRef as pathRef } from './reference-glob.js';

const namePattern = fc
  .array(fc.constantFrom('a', 'b', '-', '*', '**', '?', '{a,b}', '{ab,*b}'), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''));
const pathPattern = fc
  .array(fc.constantFrom('a', 'b', '/', '*', '**', '?', '**/'), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''));
const text = (alphabet: string[]) => fc.array(fc.constantFrom(...alphabet), { maxLength: 9 }).map((c) => c.join(''));

test('name globs answer as the recursive matcher, with the string search and with the program', async (t) => {
  await check(
    t,
    fc.property(namePattern, text(['a', 'b', '-']), (pattern, s) => {
      const glob = compileGlob(pattern, 'name');
      const expected = nameRef(pattern, s);
      return glob.test(s) === expected && glob.runProgram(s).matched === expected;
    }),
    3000,
  );
});

test('path globs answer as the recursive matcher, with the string search and with the program', async (t) => {
  await check(
    t,
    fc.property(pathPattern, text(['a', 'b', '/']), (pattern, s) => {
      const glob = compileGlob(pattern, 'path');
      const expected = pathRef(pattern, s);
      return glob.test(s) === expected && glob.runProgram(s).matched === expected;
    }),
    3000,
  );
});

/** Patterns built to make a backtracking matcher explode: runs of stars and `**\/`, letters between, alternatives. */
const hostile = (dialect: GlobDialect) =>
  fc
    .array(fc.constantFrom('*', '**', '*a', '?', 'a', 'b', ...(dialect === 'path' ? ['**/', '/', '*/'] : ['{a,*a}', '{b,?}'])), {
      minLength: 4,
      maxLength: 60,
    })
    .map((parts) => parts.join(''));

for (const dialect of ['name', 'path'] as const) {
  test(`${dialect} globs: steps at most 2 × (length + 1) × program size, and 8 times the text at most ~8 times the steps`, async (t) => {
    const alphabet = dialect === 'path' ? ['a', 'a', 'b', '/'] : ['a', 'a', 'b'];
    await check(
      t,
      fc.property(hostile(dialect), fc.array(fc.constantFrom(...alphabet), { minLength: 10, maxLength: 30 }), (pattern, chars) => {
        const glob = compileGlob(pattern, dialect);
        // Long enough for the live positions to have filled up (and for the pattern's shortest match).
        const short = chars.join('').repeat(Math.ceil((2 * glob.size) / chars.length));
        const long = short.repeat(8);
        const a = glob.runProgram(short);
        const b = glob.runProgram(long);
        const bound = (s: string) => 2 * (s.length + 1) * glob.size;
        // Generous: 8 times the text within 16 times the steps (a backtracking matcher takes a power of 8).
        return a.steps <= bound(short) && b.steps <= bound(long) && b.steps <= 16 * a.steps + 2 * glob.size;
      }),
      1000,
    );
  });
}
