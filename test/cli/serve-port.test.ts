/** `serve` on a port another process holds: one error, ours, and no grpc-js log line before it. */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/scenario.js';

test('a taken port is said once, without grpc-js log lines', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const { port } = holder.address() as { port: number };
  const dir = await tempDir();
  await writeFile(join(dir, 'bsl.yaml'), 'bucket: b\n');
  const result = await runCli(['serve', '--listen', `127.0.0.1:${port}`, '--storage-location', join(dir, 'bsl.yaml')]);
  t.is(result.code, 2);
  const lines = result.stderr.trim().split('\n');
  t.is(lines.length, 1, result.stderr);
  t.regex(lines[0]!, new RegExp(`^Error: listen 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
});
