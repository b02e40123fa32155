/**
 * A token file that is not one bearer token (two lines, an AWS credentials file) is refused by
 * name, and its content never reaches the output.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { remoteCredentialsFromSecret } from '../../src/plugin/remote.js';
import { bearerMetadata } from '../../src/rpc/bearer.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SECRET_LINE = 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const cases = [
  { name: 'two lines', content: `first-line-token-123456\n${SECRET_LINE}\n`, problem: /the token file .* holds more than one line/ },
  { name: 'an AWS credentials file', content: `[default]\n${SECRET_LINE}\n`, problem: /holds more than one line/ },
  { name: 'a token with a space', content: `${SECRET_LINE} x\n`, problem: /holds characters not allowed in a bearer token/ },
];

for (const c of cases) {
  test(`check --token-file with ${c.name}: refused by name, content never printed`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'drift-token-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'token');
    await writeFile(file, c.content);
    const err = await t.throwsAsync<Error & { code: number; stdout: string; stderr: string }>(
      promisify(execFile)(process.execPath, [MAIN, 'check', '--server', '127.0.0.1:9', '--backup-name', 'b1', '--token-file', file], {
        timeout: 30_000,
      }),
    );
    t.is(err.code, 2, err.stderr);
    t.regex(err.stderr, c.problem);
    t.true(err.stderr.includes(file));
    t.false(`${err.stdout}${err.stderr}`.includes('wJalrXUtnFEMI'), 'the secret line is never printed');
  });
}

test("the plugin's remote Secret and the client refuse such a token without quoting it", (t) => {
  const err = t.throws(() => remoteCredentialsFromSecret({ token: `abc\n${SECRET_LINE}` }, 'Secret velero/remote'));
  t.regex(err.message, /^Secret velero\/remote: key token holds more than one line$/);
  const err2 = t.throws(() => bearerMetadata(`abc\n${SECRET_LINE}`));
  t.false(err2.message.includes('wJalrXUtnFEMI'));
});
