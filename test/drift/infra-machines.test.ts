/**
 * docs/drift-rules.md §4, infrastructure machines: a VM that belongs to no backed-up cluster needs
 * confirmation when it carries CAPV's metadata or sits in a dedicated folder or pool that
 * backed-up machines use; the root VM folder and a root pool `Resources` are shared, not dedicated.
 */
import test from 'ava';
import { isRootResourcePool, isRootVMFolder, samePlace } from '../../src/drift/paths.js';

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
