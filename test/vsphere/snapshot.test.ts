import test from 'ava';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VCenterInventory } from '../../src/model/inventory.js';
import { readInventorySnapshot, writeInventorySnapshot } from '../../src/vsphere/snapshot.js';
import { capvVM, SEEDED_CONTROL_PLANE } from '../helpers/vms.js';

const VCENTERS: VCenterInventory[] = [
  {
    vcenter: 'vc01.example.com',
    vms: [
      capvVM({ moref: 'vm-101', ...SEEDED_CONTROL_PLANE }),
      { moref: 'vm-7', name: 'ubuntu-2204-kube-v1.28.7', template: true, capvMetadata: false },
    ],
  },
  { vcenter: 'vc02.example.com:8443', vms: [] },
];

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'inventory-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a snapshot reads back as written', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'inventory.json');
  const takenAt = new Date('2026-11-21T10:15:00.000Z');
  await writeInventorySnapshot(path, VCENTERS, takenAt);
  t.deepEqual(await readInventorySnapshot(path), {
    kind: 'DriftDetectorInventory',
    version: 1,
    takenAt: '2026-11-21T10:15:00.000Z',
    vcenters: VCENTERS,
  });
  // Written whole: no temporary file is left beside it; overwriting works the same way.
  await writeInventorySnapshot(path, [], takenAt);
  t.deepEqual(await readdir(dir), ['inventory.json']);
  t.deepEqual((await readInventorySnapshot(path)).vcenters, []);
});

test('a failed write leaves nothing half-written', async (t) => {
  const dir = await tempDir(t);
  // The target is a directory: the final rename fails after the data was written to the temp file.
  const path = join(dir, 'inventory.json');
  await mkdir(path);
  const err = await t.throwsAsync(writeInventorySnapshot(path, VCENTERS, new Date()));
  t.true(err.message.startsWith(`${path}: cannot write the inventory snapshot`), err.message);
  t.deepEqual(await readdir(dir), ['inventory.json']);
  await t.throwsAsync(writeInventorySnapshot(join(dir, 'missing', 'inventory.json'), VCENTERS, new Date()), {
    message: /missing\/inventory\.json: cannot write the inventory snapshot/,
  });
});

test('a bad snapshot is refused with the file and the field', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'inventory.json');
  const good = () =>
    JSON.parse(JSON.stringify({ kind: 'DriftDetectorInventory', version: 1, takenAt: '2026-11-21T10:15:00Z', vcenters: VCENTERS }));
  const cases: Array<[string, (s: any) => void, string]> = [
    [
      'name not a string',
      (s) => {
        s.vcenters[0].vms.push(
          { moref: 'vm-2', name: 'a', template: false, capvMetadata: false },
          { moref: 'vm-3', name: 'b', template: false, capvMetadata: false },
        );
        s.vcenters[0].vms[3].name = 42;
      },
      'vcenters[0].vms[3].name: expected a string',
    ],
    ['template missing', (s) => delete s.vcenters[0].vms[1].template, 'vcenters[0].vms[1].template: expected true or false'],
    ['folder not a string', (s) => (s.vcenters[0].vms[0].folder = ['DC0']), 'vcenters[0].vms[0].folder: expected a string'],
    ['vms not an array', (s) => (s.vcenters[1].vms = {}), 'vcenters[1].vms: expected an array'],
    ['empty vCenter', (s) => (s.vcenters[1].vcenter = ' '), 'vcenters[1].vcenter: expected a vCenter name, found an empty string'],
    ['wrong kind', (s) => (s.kind = 'Inventory'), 'kind: expected "DriftDetectorInventory", found "Inventory"'],
    ['wrong version', (s) => (s.version = 2), 'version: expected 1, found 2'],
    ['bad time', (s) => (s.takenAt = 'yesterday'), 'takenAt: expected an ISO 8601 time, found "yesterday"'],
  ];
  for (const [what, mutate, problem] of cases) {
    const snapshot = good();
    mutate(snapshot);
    await writeFile(path, JSON.stringify(snapshot));
    await t.throwsAsync(readInventorySnapshot(path), { message: `${path}: ${problem}` }, what);
  }
  await writeFile(path, '{"kind": "DriftDetectorInventory",');
  await t.throwsAsync(readInventorySnapshot(path), { message: new RegExp(`^${escape(path)}: not valid JSON: `) });
  await writeFile(path, '[]');
  await t.throwsAsync(readInventorySnapshot(path), { message: `${path}: expected an object` });
  await t.throwsAsync(readInventorySnapshot(join(dir, 'absent.json')), {
    message: new RegExp(`^${escape(join(dir, 'absent.json'))}: cannot read the inventory snapshot: .*ENOENT`),
  });
});

test('UUIDs read from a snapshot are lower-cased', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'inventory.json');
  await writeFile(
    path,
    JSON.stringify({
      kind: 'DriftDetectorInventory',
      version: 1,
      takenAt: '2026-11-21T10:15:00Z',
      vcenters: [{ vcenter: 'vc', vms: [{ moref: 'vm-1', name: 'a', biosUuid: 'ABCD-EF', template: false, capvMetadata: false }] }],
    }),
  );
  t.is((await readInventorySnapshot(path)).vcenters[0]!.vms[0]!.biosUuid, 'abcd-ef');
  t.true((await readFile(path, 'utf8')).includes('ABCD-EF'));
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
