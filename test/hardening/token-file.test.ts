/**
 * A token file that is not one bearer token (two lines, an AWS credentials file) is refused by
 * name, and its content never reaches the output.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { remoteCredentialsFromSecret } from '../../src/plugin/remote.js';
import { bearerMetadata, bearerTokenProblem, MAX_BEARER_TOKEN_CHARS } from '../../src/rpc/bearer.js';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const SECRET_LINE = 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const cases = [
  { name: 'two lines', content: `first-line-token-123456\n${SECRET_LINE}\n`, problem: /the token file .* holds more than one line/ },
  { name: 'an AWS credentials file', content: `[default]\n${SECRET_LINE}\n`, problem: /holds more than one line/ },
  { name: 'a token with a space', content: `${SECRET_LINE} x\n`, problem: /holds characters not allowed in a bearer token/ },
  // Sent as it was, it ended in a raw `INTERNAL: Received RST_STREAM` and a process that never exited.
  {
    name: 'a 200 KB one-line token',
    content: `wJalrXUtnFEMI${'k'.repeat(200_000)}\n`,
    problem: /holds more than 65536 bytes: not a bearer token/,
  },
  {
    name: 'a 9 KiB one-line token',
    content: `wJalrXUtnFEMI${'k'.repeat(9 * 1024)}\n`,
    problem: /holds a token of 9229 characters, more than the 8192 gRPC metadata carries/,
  },
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

test('a token file is bounded wherever it is read: the service refuses one the client would, by the same words', (t) => {
  t.is(bearerTokenProblem('k'.repeat(MAX_BEARER_TOKEN_CHARS)), undefined);
  t.regex(bearerTokenProblem('k'.repeat(MAX_BEARER_TOKEN_CHARS + 1))!, /more than the 8192/);
});

test('check against a peer that resets the call: exits 2 and says what a reset stream means', async (t) => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.close(http2.constants.NGHTTP2_COMPRESSION_ERROR);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  const err = await t.throwsAsync<Error & { code: number; stderr: string }>(
    promisify(execFile)(process.execPath, [MAIN, 'check', '--server', `127.0.0.1:${port}`, '--backup-name', 'b1', '--timeout', '20s'], {
      timeout: 30_000,
    }),
  );
  t.is(err.code, 2, err.stderr);
  t.regex(err.stderr, /check b1 at 127\.0\.0\.1:\d+: INTERNAL: .*RST_STREAM.* reset the call without an answer/);
});
