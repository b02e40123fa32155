/**
 * The inventory snapshot use case without the CLI: all or nothing. A vCenter without credentials
 * stops it before anything is read; a vCenter that cannot be read (a loopback port that refuses)
 * stops it before anything is written. The snapshot written from vcsim is test/cli/detect.test.ts's.
 */
import test, { type ExecutionContext } from 'ava';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { takeInventorySnapshot, type InventoryRequest } from '../../src/app/inventory.js';
import { SERVICE_WORDS } from '../../src/app/service.js';
import { tempDir } from '../helpers/scenario.js';

const HINTS = { untrusted: 'trust it', 'thumbprint-mismatch': 'check it' };

async function scratch(t: ExecutionContext): Promise<string> {
  const dir = await tempDir('drift-inventory-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The request, and the texts it was asked to write. */
async function request(t: ExecutionContext, overrides: Partial<InventoryRequest>): Promise<InventoryRequest & { written: string[] }> {
  const written: string[] = [];
  return {
    written,
    servers: [],
    credentials: {},
    output: async (text) => {
      written.push(text);
    },
    insecureSkipVerify: true,
    timeoutMs: 10_000,
    words: SERVICE_WORDS,
    certificateHints: HINTS,
    ...overrides,
  };
}

test("a vCenter without credentials is named with the door's hint, and nothing is read or written", async (t) => {
  const req = await request(t, { servers: ['vc01.example.com'] });
  const result = await takeInventorySnapshot(req);
  t.false(result.written);
  t.true('missing' in result);
  if (!('missing' in result)) return;
  t.is(result.missing.length, 1);
  t.is(result.missing[0]!.vcenter, 'vc01.example.com');
  t.true(result.missing[0]!.reason.includes(SERVICE_WORDS.credentialsHint));
  t.deepEqual(req.written, []);
});

test('a vCenter that cannot be read fails the snapshot, and no partial snapshot is written', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const dir = await scratch(t);
  await writeFile(`${dir}/password`, 'not-a-real-password\n');
  const req = await request(t, {
    servers: [`127.0.0.1:${port}`],
    credentials: { vsphereUsername: 'administrator@vsphere.local', vspherePasswordFile: `${dir}/password` },
  });
  const result = await takeInventorySnapshot(req);
  t.false(result.written);
  t.true('failed' in result);
  if (!('failed' in result)) return;
  t.deepEqual(
    result.failed.map((f) => f.vcenter),
    [`127.0.0.1:${port}`],
  );
  t.regex(result.failed[0]!.reason, /ECONNREFUSED|refused/);
  t.false(result.failed[0]!.reason.includes('not-a-real-password'));
  t.deepEqual(req.written, []);
});
