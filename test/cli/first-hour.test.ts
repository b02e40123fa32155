/** The command line's habits a newcomer meets first: usage mistakes, an output that cannot be written, colour. */
import test from 'ava';
import { join } from 'node:path';
import { wantsColor } from '../../src/cli/log.js';
import { runCli, tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';

const EXAMPLE = ['--backup', join(ROOT, 'examples/backup/my-backup-data.tar.gz'), '--inventory', join(ROOT, 'examples/inventory.json')];
const ESC = '\u001b[';

test('a flag mistake prints the error and one line pointing to --help, not the whole help', async (t) => {
  const result = await runCli(['detect', '--bogus']);
  t.is(result.code, 2);
  t.deepEqual(result.stderr.trim().split('\n'), ["error: unknown option '--bogus'", '(add --help for usage)']);
  t.is(result.stdout, '');
});

test('detect: an output in a missing directory fails before any work, naming the directory', async (t) => {
  // The backup does not exist either: the output is checked first, so its error is the one shown.
  const result = await runCli(['detect', '--backup', '/nonexistent/backup.tar.gz', '-o', '/nonexistent/dir/report.json']);
  t.is(result.code, 2);
  t.is(result.stderr, 'Error: cannot write /nonexistent/dir/report.json: the directory /nonexistent/dir does not exist\n');
});

test('detect: an output that is a directory is refused before any work', async (t) => {
  const dir = await tempDir();
  const result = await runCli(['detect', '--backup', '/nonexistent/backup.tar.gz', '-o', dir]);
  t.is(result.code, 2);
  t.is(result.stderr, `Error: cannot write ${dir}: it is a directory\n`);
});

test('inventory: an output in a missing directory fails before any vCenter is contacted', async (t) => {
  const result = await runCli(['inventory', '--server', '127.0.0.1:9', '-o', '/nonexistent/dir/inv.json']);
  t.is(result.code, 2);
  t.regex(result.stderr, /the directory \/nonexistent\/dir does not exist/);
});

test('colour: NO_COLOR turns it off, FORCE_COLOR on, a terminal decides otherwise', (t) => {
  t.true(wantsColor({ isTTY: true }, {}));
  t.false(wantsColor({ isTTY: false }, {}));
  t.false(wantsColor({ isTTY: true }, { NO_COLOR: '1' }));
  t.true(wantsColor({ isTTY: true }, { NO_COLOR: '' }), 'an empty NO_COLOR is not set');
  t.true(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' }));
  t.false(wantsColor({ isTTY: true }, { FORCE_COLOR: '0' }));
  t.false(wantsColor({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }));
});

test('colour: detect paints the console report when FORCE_COLOR asks, and not when NO_COLOR also does', async (t) => {
  const dir = await tempDir();
  const forced = await runCli(['detect', ...EXAMPLE, '-o', join(dir, 'a.json')], { FORCE_COLOR: '1' });
  t.is(forced.code, 0, forced.stderr);
  t.true(forced.stdout.includes(ESC));
  const plain = await runCli(['detect', ...EXAMPLE, '-o', join(dir, 'b.json')], { FORCE_COLOR: '1', NO_COLOR: '1' });
  t.is(plain.code, 0, plain.stderr);
  t.false(plain.stdout.includes(ESC));
});
