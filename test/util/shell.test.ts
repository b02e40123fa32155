/** Names from a report made safe: escaped where shown (printable), quoted exactly where run (shellQuote). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { printable, shellQuote } from '../../src/util/shell.js';
import { SEED } from '../fuzz/fuzz.js';

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

test('printable: controls, line separators and bidirectional overrides are written as \\u{hex}', (t) => {
  t.is(printable('vm\n# forged'), 'vm\\u{a}# forged');
  t.is(printable('invoice\u202efdp.exe'), 'invoice\\u{202e}fdp.exe');
  t.is(printable('\u001b[2J\u2066x\u2069\u200f'), '\\u{1b}[2J\\u{2066}x\\u{2069}\\u{200f}');
  t.is(printable('plain-name_1.2 ünïcode'), 'plain-name_1.2 ünïcode');
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => !RAW.test(printable(text))),
    { seed: SEED, numRuns: 500 },
  );
});

test('shellQuote: bash reads back exactly the name, and a name with an unsafe character is shown escaped', async (t) => {
  const names = fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }), { seed: SEED, numRuns: 40 });
  names.push("a'b\n\u202ec\\d", '$(reboot)', "it's");
  const quoted = names.map(shellQuote);
  for (const q of quoted) t.false(RAW.test(q) && q.startsWith("$'"), q);
  // One bash for all: each word printed NUL-terminated.
  const script = `printf '%s\\0' ${quoted.join(' ')}`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { encoding: 'buffer' });
  const back = stdout.toString('utf8').split('\0').slice(0, -1);
  // bash cannot pass a NUL in an argument; names with one are cut there, as any C string is.
  t.deepEqual(
    back,
    names.map((n) => n.split('\0')[0]!),
  );
});
