/** The ignore file's patterns and rules: globs over names and inventory paths, comments, `!`, `**`. */
import test from 'ava';
import fc from 'fast-check';
import { ignoringRule, IgnorePatternError, parseIgnoreRules } from '../../src/drift/ignore.js';
import { compileGlob, escapeGlob, GlobError, globLiteral } from '../../src/util/glob.js';

const globs: Array<[pattern: string, text: string, matches: boolean]> = [
  ['jumpbox', 'jumpbox', true],
  ['jumpbox', 'jumpbox-2', false],
  ['jump*', 'jumpbox-2', true],
  ['*', 'a/b', false],
  ['j?mp', 'jump', true],
  ['j?mp', 'j/mp', false],
  ['db-[0-9]', 'db-7', true],
  ['db-[0-9]', 'db-x', false],
  ['db-[!0-9]', 'db-x', true],
  ['db-[!0-9]', 'db-7', false],
  ['a[!x]b', 'a/b', false],
  ['[]]', ']', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'axb', false],
  ['/DC0/vm/*', '/DC0/vm/jb', true],
  ['/DC0/vm/*', '/DC0/vm/infra/jb', false],
  ['/DC0/vm/**', '/DC0/vm/infra/jb', true],
  ['/DC0/**/jb', '/DC0/jb', true],
  ['/DC0/**/jb', '/DC0/vm/a/b/jb', true],
  ['**/jb', '/DC0/vm/jb', true],
  ['**/jb', 'jb', true],
  ['/DC0/vm/**', '/DC1/vm/x', false],
  ['a.b', 'axb', false],
  ['(x)+', '(x)+', true],
  ['vm-{a,b}', 'vm-{a,b}', true],
  // A later placement of the first literal is the only one that leaves no / under the second star.
  ['**a*b', 'ba/ab', true],
  ['x*a*b', 'xa/ab', false],
];

for (const [pattern, text, matches] of globs) {
  test(`glob ${pattern} ${matches ? 'matches' : 'does not match'} ${text}`, (t) => {
    t.is(compileGlob(pattern).test(text), matches);
  });
}

for (const [pattern, problem] of [
  ['db-[0-9', /unterminated \[ at column 4/],
  ['name\\', /lone \\/],
  ['[z-a]', /invalid character class/],
  ['', /empty pattern/],
] as const) {
  test(`glob ${JSON.stringify(pattern)} is refused`, (t) => {
    const err = t.throws(() => compileGlob(pattern), { instanceOf: GlobError });
    t.regex(err.message, problem);
  });
}

test('escapeGlob: a pattern that matches exactly its text, control characters and bidirectional overrides included', (t) => {
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), fc.string({ maxLength: 40, unit: 'binary' }), (text, other) => {
      const glob = compileGlob(escapeGlob(text));
      return glob.test(text) && (other === text || !glob.test(other));
    }),
    { seed: 13, numRuns: 500 },
  );
  t.pass();
});

test('escapeGlob: a control character or U+202E is written as \\u{hex}, never raw, and matches only itself', (t) => {
  const name = 'vm\n# forged\u202etxt.exe\u001b[2J';
  const pattern = escapeGlob(name);
  t.is(pattern, 'vm\\u{a}# forged\\u{202e}txt.exe\\u{1b}\\[2J');
  t.true(compileGlob(pattern).test(name));
  t.false(compileGlob(pattern).test(name.replace('\n', 'x')), 'a control character is no wildcard');
  t.is(globLiteral(pattern), name);
});

test('glob: \\u{hex} is the code point; an invalid one is a literal u', (t) => {
  t.true(compileGlob('a\\u{9}b').test('a\tb'));
  t.true(compileGlob('a\\u{zz}').test('au{zz}'));
  t.true(compileGlob('\\u{110000}').test('u{110000}'));
  t.is(globLiteral('\\u{110000}'), 'u{110000}');
});

const FILE = `
# jumpboxes and appliances the team owns
jumpbox-*
/DC0/vm/infra/
!/DC0/vm/infra/keep-me

  # an indented comment
\\#hash-name
DC0/vm/tools/*
db-??   
`;

const rules = parseIgnoreRules(FILE, '.driftignore');
const decide = (name: string, folder?: string) => ignoringRule(rules, name, folder);

test('rules: comments and blank lines are skipped; each rule keeps its line', (t) => {
  t.deepEqual(
    rules.rules.map((r) => [r.line, r.negated, r.pattern]),
    [
      [3, false, 'jumpbox-*'],
      [4, false, '/DC0/vm/infra/'],
      [5, true, '/DC0/vm/infra/keep-me'],
      [8, false, '\\#hash-name'],
      [9, false, 'DC0/vm/tools/*'],
      [10, false, 'db-??'],
    ],
  );
});

const decisions: Array<[name: string, folder: string | undefined, line: number | undefined]> = [
  ['jumpbox-01', '/DC0/vm', 3], // a name pattern matches the name wherever the VM sits
  ['jumpbox-01', undefined, 3],
  ['appliance', '/DC0/vm/infra', 4], // a trailing / names everything under the folder
  ['deep', '/DC0/vm/infra/nested', 4],
  ['keep-me', '/DC0/vm/infra', undefined], // the later ! wins
  ['#hash-name', '/DC0/vm', 8],
  ['grafana', '/DC0/vm/tools', 9], // a path pattern without a leading / is anchored at the root
  ['grafana', '/DC1/DC0/vm/tools', undefined],
  ['db-01', '/DC0/vm', 10], // trailing blanks are trimmed
  ['db-001', '/DC0/vm', undefined],
  ['infra', '/DC0/vm', undefined], // a path pattern is not a name pattern
  ['wc1-md-0-abc', '/DC0/vm/tkg', undefined],
];

for (const [name, folder, line] of decisions) {
  test(`rules: ${folder ?? '(no folder)'}/${name} is ${line ? `ignored by line ${line}` : 'not ignored'}`, (t) => {
    t.is(decide(name, folder)?.line, line);
  });
}

test('rules: a later pattern re-ignores what a ! let through (the last match wins)', (t) => {
  const r = parseIgnoreRules('wc9-*\n!wc9-md-*\nwc9-md-0-keep', 'f');
  t.is(ignoringRule(r, 'wc9-control-plane-a')?.line, 1);
  t.is(ignoringRule(r, 'wc9-md-0-b'), undefined);
  t.is(ignoringRule(r, 'wc9-md-0-keep')?.line, 3);
});

test('rules: an escaped trailing blank and a literal ! are kept', (t) => {
  const r = parseIgnoreRules('name\\ \n\\!bang', 'f');
  t.truthy(ignoringRule(r, 'name '));
  t.is(ignoringRule(r, 'name'), undefined);
  t.truthy(ignoringRule(r, '!bang'));
});

test('rules: no file, no rules: nothing is ignored', (t) => {
  t.is(ignoringRule(undefined, 'anything', '/DC0/vm'), undefined);
  t.deepEqual(parseIgnoreRules('# only a comment\n\n', 'f').rules, []);
});

for (const [text, line, problem] of [
  ['ok\n!\n', 2, /! with no pattern/],
  ['ok\n# fine\n/DC0/vm/[abc\n', 3, /pattern "\/DC0\/vm\/\[abc": unterminated \[/],
  ['trailing\\', 1, /lone \\/],
] as const) {
  test(`rules: a bad line is refused with its number (${JSON.stringify(text)})`, (t) => {
    const err = t.throws(() => parseIgnoreRules(text, 'f'), { instanceOf: IgnorePatternError });
    t.is(err.line, line);
    t.regex(err.message, problem);
  });
}

test('globLiteral: the text of a pattern without wildcards, escapes resolved', (t) => {
  t.is(globLiteral('/DC0/vm/tkg/wc9-md-0'), '/DC0/vm/tkg/wc9-md-0');
  t.is(globLiteral('a\\*b\\[c\\\\'), 'a*b[c\\');
  t.is(globLiteral('a*b'), undefined);
  t.is(globLiteral('a\\\\*'), undefined, 'an escaped backslash before a real *');
  t.is(globLiteral('a?'), undefined);
  t.is(globLiteral('[ab]'), undefined);
});

test('rules: the literal fast path decides as a plain last-match walk does (wildcards, literals and ! mixed)', (t) => {
  const segment = fc.constantFrom('a', 'b', 'ab', '*', 'a?', '[ab]', '**');
  const line = fc
    .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([negated, parts, absolute]) => `${negated ? '!' : ''}${absolute ? '/' : ''}${parts.join('/')}`);
  const vmAt = fc.tuple(fc.constantFrom('a', 'b', 'ab', 'ba'), fc.constantFrom(undefined, '/a', '/a/b', '/b/ab'));
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), vmAt, (lines, [name, folder]) => {
      const parsed = parseIgnoreRules(lines.join('\n'), 'f');
      const path = folder ? `${folder}/${name}` : undefined;
      const walk = [...parsed.rules].reverse().find((r) => r.glob.test(name) || (path !== undefined && r.glob.test(path)));
      const expected = walk && !walk.negated ? walk : undefined;
      return ignoringRule(parsed, name, folder) === expected;
    }),
    { seed: 13, numRuns: 1000 },
  );
  t.pass();
});

test('rules: a blank after an escaped backslash is trimmed', (t) => {
  const r = parseIgnoreRules('name\\\\  ', 'f');
  t.is(r.rules[0]!.pattern, 'name\\\\');
  t.truthy(ignoringRule(r, 'name\\'));
});
