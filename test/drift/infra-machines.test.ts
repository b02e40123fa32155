/**
 * docs/drift-rules.md §4, infrastructure machines: a VM that belongs to no backed-up cluster needs
 * confirmation when it carries CAPV's metadata or sits in a dedicated folder or pool that
 * backed-up machines use; the root VM folder and a root pool `Resources` are shared, not dedicated.
 */
import test from 'ava';
import { isRootResourcePool, isRootVMFolder, samePlace } from '../../src/drift/paths.js';
import type { Placement } from '../../src/model/backup.js';
import type { InventoryVM } from '../../src/model/inventory.js';
import { cluster, machine, run, VC, vm } from './fixtures.js';

// Paths as the inventory gives them: absolute, from the root folder, names as vCenter spells them.
const rootFolders: [string | undefined, string | undefined, boolean][] = [
  ['/DC0/vm', 'DC0', true],
  ['/dcs/emea/DC0/vm', 'DC0', true],
  ['/DC0/DC0/vm', 'DC0', true],
  ['/DC0/vm/', 'DC0', true],
  ['/DC0/VM', 'DC0', true],
  ['/dc0/vm', 'DC0', true],
  ['/DC0/vm', undefined, true],
  ['/DC0/vm/tkg', 'DC0', false],
  ['/DC0/vm/vm', 'DC0', false],
  ['/DC0/vm/DC0/vm', 'DC0', false],
  ['/DC1/vm', 'DC0', false],
  ['vm', 'DC0', false],
  [undefined, 'DC0', false],
];
for (const [path, datacenter, expected] of rootFolders) {
  test(`isRootVMFolder(${path}, ${datacenter}) = ${expected}`, (t) => t.is(isRootVMFolder(path, datacenter), expected));
}

const rootPools: [string | undefined, string | undefined, boolean][] = [
  ['/DC0/host/DC0_C0/Resources', 'DC0', true],
  ['/DC0/host/esx-01.example.com/Resources', 'DC0', true],
  ['/DC0/host/prod/DC0_C0/Resources', 'DC0', true],
  ['/dcs/DC0/host/DC0_C0/Resources', 'DC0', true],
  ['/DC0/host/Resources/DC0_C0/Resources', 'DC0', true],
  ['/DC0/host/Resources/Resources', 'DC0', true],
  ['/DC0/host/DC0_C0/Resources/', 'DC0', true],
  ['/DC0/host/DC0_C0/resources', 'DC0', true],
  ['/DC0/host/DC0_C0/Resources', undefined, true],
  ['/DC0/host/DC0_C0/Resources/tkg', 'DC0', false],
  ['/DC0/host/DC0_C0/Resources/tkg/workload', 'DC0', false],
  ['/DC0/host/DC0_C0/Resources/Resources', 'DC0', false],
  ['/DC0/host/esx-01.example.com/Resources/tkg', 'DC0', false],
  ['/DC0/host/Resources', 'DC0', false],
  ['/DC1/host/DC1_C0/Resources', 'DC0', false],
  ['/DC0/vm/Resources', 'DC0', false],
  [undefined, 'DC0', false],
];
for (const [path, datacenter, expected] of rootPools) {
  test(`isRootResourcePool(${path}, ${datacenter}) = ${expected}`, (t) => t.is(isRootResourcePool(path, datacenter), expected));
}

const spellings: [string, string, boolean][] = [
  ['/DC0/vm/tkg', '/dc0/vm/TKG/', true],
  ['/DC0/host/DC0_C0/Resources/tkg', 'dc0_c0/resources/tkg', true],
  ['/DC0/vm/tkg', 'TKG', true],
  ['/DC0/vm/tkg', '/DC0/vm/tkg2', false],
];
for (const [inventory, spec, expected] of spellings) {
  test(`samePlace(${inventory}, ${spec}) = ${expected}, whatever the case`, (t) => t.is(samePlace(inventory, spec), expected));
}

/**
 * A clean backup (every machine matched) whose machines name `spec` as folder or pool, and a VM
 * without CAPV metadata that no machine describes, placed at `jumpbox`.
 */
interface Case {
  title: string;
  spec: Pick<Placement, 'folder' | 'resourcePool'>;
  jumpbox: Partial<InventoryVM>;
  flagged: boolean;
}

const ROOT_FOLDER = '/DC0/vm';
const ROOT_POOL = '/DC0/host/DC0_C0/Resources';
const inRoot = { folder: ROOT_FOLDER, resourcePool: ROOT_POOL };

const cases: Case[] = [
  { title: 'root VM folder, absolute', spec: { folder: '/DC0/vm' }, jumpbox: inRoot, flagged: false },
  { title: 'root VM folder, trailing slash and another case', spec: { folder: '/dc0/VM/' }, jumpbox: inRoot, flagged: false },
  { title: 'root VM folder, relative', spec: { folder: 'vm' }, jumpbox: inRoot, flagged: false },
  {
    title: 'root VM folder of a datacenter in a folder',
    spec: { folder: '/dcs/DC0/vm' },
    jumpbox: { folder: '/dcs/DC0/vm', resourcePool: '/dcs/DC0/host/DC0_C0/Resources' },
    flagged: false,
  },
  { title: "a cluster's root pool, absolute", spec: { resourcePool: ROOT_POOL }, jumpbox: inRoot, flagged: false },
  { title: "a cluster's root pool, relative", spec: { resourcePool: 'DC0_C0/Resources' }, jumpbox: inRoot, flagged: false },
  { title: "a cluster's root pool, by its name alone", spec: { resourcePool: 'Resources' }, jumpbox: inRoot, flagged: false },
  {
    title: "a cluster's root pool, trailing slash and another case",
    spec: { resourcePool: '/dc0/host/dc0_c0/resources/' },
    jumpbox: inRoot,
    flagged: false,
  },
  {
    title: "a standalone host's root pool",
    spec: { resourcePool: '/DC0/host/esx-01.example.com/Resources' },
    jumpbox: { folder: ROOT_FOLDER, resourcePool: '/DC0/host/esx-01.example.com/Resources' },
    flagged: false,
  },
  { title: 'root folder and root pool together', spec: inRoot, jumpbox: inRoot, flagged: false },
  {
    title: 'a dedicated folder the jumpbox is not in',
    spec: { folder: '/DC0/vm/tkg', resourcePool: ROOT_POOL },
    jumpbox: inRoot,
    flagged: false,
  },
  {
    title: 'a subfolder of vm, absolute',
    spec: { folder: '/DC0/vm/tkg' },
    jumpbox: { folder: '/DC0/vm/tkg', resourcePool: ROOT_POOL },
    flagged: true,
  },
  {
    title: 'a subfolder of vm, by its name',
    spec: { folder: 'tkg' },
    jumpbox: { folder: '/DC0/vm/tkg', resourcePool: ROOT_POOL },
    flagged: true,
  },
  {
    title: 'a subfolder of vm, trailing slash and another case',
    spec: { folder: '/dc0/vm/TKG/' },
    jumpbox: { folder: '/DC0/vm/tkg', resourcePool: ROOT_POOL },
    flagged: true,
  },
  { title: 'a subfolder named vm', spec: { folder: '/DC0/vm/vm' }, jumpbox: { folder: '/DC0/vm/vm', resourcePool: ROOT_POOL }, flagged: true },
  {
    title: 'a nested pool, absolute',
    spec: { resourcePool: '/DC0/host/DC0_C0/Resources/tkg' },
    jumpbox: { folder: ROOT_FOLDER, resourcePool: '/DC0/host/DC0_C0/Resources/tkg' },
    flagged: true,
  },
  {
    title: 'a nested pool, by its name',
    spec: { resourcePool: 'tkg' },
    jumpbox: { folder: ROOT_FOLDER, resourcePool: '/DC0/host/DC0_C0/Resources/tkg' },
    flagged: true,
  },
  {
    title: 'a nested pool named Resources',
    spec: { resourcePool: '/DC0/host/DC0_C0/Resources/Resources' },
    jumpbox: { folder: ROOT_FOLDER, resourcePool: '/DC0/host/DC0_C0/Resources/Resources' },
    flagged: true,
  },
  {
    title: "a pool nested under a standalone host's root pool",
    spec: { resourcePool: 'esx-01.example.com/Resources/tkg' },
    jumpbox: { folder: ROOT_FOLDER, resourcePool: '/DC0/host/esx-01.example.com/Resources/tkg' },
    flagged: true,
  },
];

function backupPlacedAt(spec: Case['spec']) {
  const placed = { placement: { vcenter: VC, datacenter: 'DC0', ...spec } };
  return cluster('wc1', [machine('wc1-control-plane-aaaaa', 1, placed), machine('wc1-md-0-abc-bbbbb', 2, placed)]);
}

for (const c of cases) {
  test(`section 4: a VM without CAPV metadata where the machines name ${c.title}: ${c.flagged ? 'needs confirmation' : 'out of scope'}`, (t) => {
    const report = run({
      clusters: [backupPlacedAt(c.spec)],
      vms: [vm('wc1-control-plane-aaaaa', 1), vm('wc1-md-0-abc-bbbbb', 2), vm('jumpbox', 40, { capvMetadata: false, ...c.jumpbox })],
    });
    t.is(report.clusters[0]!.status, 'Healthy');
    t.is(report.summary.status, c.flagged ? 'NeedFurtherConfirmationInfraMachines' : 'Healthy');
    t.deepEqual(
      report.infraMachines.map((m) => m.name),
      c.flagged ? ['jumpbox'] : [],
    );
    t.is(report.summary.outOfScopeVMs, c.flagged ? 0 : 1);
  });
}

test('section 4: the reason names the dedicated place the VM shares with backed-up machines', (t) => {
  const pool = '/DC0/host/DC0_C0/Resources/tkg';
  const report = run({
    clusters: [backupPlacedAt({ folder: ROOT_FOLDER, resourcePool: pool })],
    vms: [
      vm('wc1-control-plane-aaaaa', 1),
      vm('wc1-md-0-abc-bbbbb', 2),
      vm('jumpbox', 40, { capvMetadata: false, folder: ROOT_FOLDER, resourcePool: pool }),
    ],
  });
  t.is(
    report.infraMachines[0]!.reason,
    `VM jumpbox (vm-40) sits in resource pool ${pool} that backed-up machines use but belongs to no cluster in the backup; confirm whether it is still needed`,
  );
});

test('section 4: a VM with CAPV metadata needs confirmation in the root folder and root pool too', (t) => {
  const report = run({
    clusters: [backupPlacedAt(inRoot)],
    vms: [
      vm('wc1-control-plane-aaaaa', 1),
      vm('wc1-md-0-abc-bbbbb', 2),
      vm('wc9-md-0-x-y', 41, inRoot),
      vm('vcsa', 42, { capvMetadata: false, ...inRoot }),
    ],
  });
  t.is(report.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.deepEqual(
    report.infraMachines.map((m) => [m.name, m.reason]),
    [
      [
        'wc9-md-0-x-y',
        'VM wc9-md-0-x-y (vm-41) carries CAPV guestinfo.metadata but belongs to no cluster in the backup; confirm whether it is still needed',
      ],
    ],
  );
  t.is(report.summary.outOfScopeVMs, 1);
});

test('section 4: a place is shared only with machines of the same vCenter', (t) => {
  const pool = '/DC0/host/DC0_C0/Resources/tkg';
  const report = run({
    clusters: [backupPlacedAt({ resourcePool: pool })],
    vcenters: [
      { ok: true, vcenter: VC, vms: [vm('wc1-control-plane-aaaaa', 1), vm('wc1-md-0-abc-bbbbb', 2)] },
      { ok: true, vcenter: 'vc2.example.com', vms: [vm('jumpbox', 40, { capvMetadata: false, resourcePool: pool })] },
    ],
  });
  t.is(report.summary.status, 'Healthy');
  t.is(report.summary.outOfScopeVMs, 1);
});
