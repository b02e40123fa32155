import test from 'ava';
import { samePlace } from '../../src/drift/paths.js';
import type { BackedUpMachine } from '../../src/model/backup.js';
import type { InventoryVM } from '../../src/model/inventory.js';
import { uuidOfProviderID } from '../../src/model/provider-id.js';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import type { WorkloadNode } from '../../src/model/workload.js';
import { cluster, iuuid, machine, run, uuid, VC, vm, wc1, wc1VMs } from './fixtures.js';

// Section numbers in the titles are those of docs/drift-rules.md.

function machinesOf(report: DriftReport, clusterName = 'wc1'): MachineReport[] {
  const c = report.clusters.find((x) => x.name === clusterName)!;
  return [...c.controlPlane.machines, ...c.workers.machines];
}

function statusOf(report: DriftReport, name: string, clusterName = 'wc1'): string | undefined {
  return machinesOf(report, clusterName).find((m) => m.name === name)?.status;
}

// Section 3: one case per matching rule.
const matching: { title: string; machines: BackedUpMachine[]; vms: InventoryVM[]; expect: Record<string, string> }[] = [
  { title: 'BIOS UUID match', machines: [machine('wc1-md-0-x-a', 1)], vms: [vm('renamed', 1)], expect: { 'wc1-md-0-x-a': 'Healthy' } },
  {
    title: 'BIOS UUID compared case-insensitively (inventory and backup are lower-cased upstream)',
    machines: [machine('wc1-md-0-x-a', undefined, { biosUuid: uuid(1) })],
    vms: [vm('other', undefined, { biosUuid: uuid(1) })],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'duplicate BIOS UUID resolved by instance UUID',
    machines: [machine('wc1-md-0-x-a', 1)],
    vms: [vm('copy', undefined, { biosUuid: uuid(1), instanceUuid: iuuid(99) }), vm('wc1-md-0-x-a', 1)],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'duplicate BIOS UUID not resolved: Unknown',
    machines: [machine('wc1-md-0-x-a', 1)],
    vms: [
      vm('copy1', undefined, { biosUuid: uuid(1), instanceUuid: iuuid(98) }),
      vm('copy2', undefined, { biosUuid: uuid(1), instanceUuid: iuuid(99) }),
    ],
    expect: { 'wc1-md-0-x-a': 'Unknown' },
  },
  {
    title: 'no BIOS UUID: instance UUID match',
    machines: [machine('wc1-md-0-x-a', undefined, { instanceUuid: iuuid(5) })],
    vms: [vm('whatever', undefined, { biosUuid: uuid(5), instanceUuid: iuuid(5) })],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'BIOS UUID not found: instance UUID match',
    machines: [machine('wc1-md-0-x-a', 7)],
    vms: [vm('whatever', undefined, { biosUuid: uuid(70), instanceUuid: iuuid(7) })],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'name match in the same datacenter and folder',
    machines: [machine('wc1-md-0-x-a', 8)],
    vms: [vm('wc1-md-0-x-a', 80)],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'name match ignores another datacenter',
    machines: [machine('wc1-md-0-x-a', 8)],
    vms: [vm('wc1-md-0-x-a', 80, { datacenter: 'DC1', folder: '/DC1/vm/tkg' })],
    expect: { 'wc1-md-0-x-a': 'Stale' },
  },
  {
    title: 'name match ignores another folder',
    machines: [machine('wc1-md-0-x-a', 8)],
    vms: [vm('wc1-md-0-x-a', 80, { folder: '/DC0/vm/other' })],
    expect: { 'wc1-md-0-x-a': 'Stale' },
  },
  {
    title: 'several VMs of that name: Unknown',
    machines: [machine('wc1-md-0-x-a', 8, { placement: { vcenter: VC, datacenter: 'DC0' } })],
    vms: [vm('wc1-md-0-x-a', 80), vm('wc1-md-0-x-a', 81, { folder: '/DC0/vm/other' })],
    expect: { 'wc1-md-0-x-a': 'Unknown' },
  },
  {
    title: 'name match cannot take a VM another machine owns by UUID',
    machines: [machine('wc1-md-0-x-a', 1), machine('wc1-md-0-x-b', 2, { vmName: 'wc1-md-0-x-a' })],
    vms: [vm('wc1-md-0-x-a', 1)],
    expect: { 'wc1-md-0-x-a': 'Healthy', 'wc1-md-0-x-b': 'Stale' },
  },
  { title: 'nothing found: Stale', machines: [machine('wc1-md-0-x-a', 1)], vms: [], expect: { 'wc1-md-0-x-a': 'Stale' } },
  {
    title: 'templates are never matched',
    machines: [machine('wc1-md-0-x-a', 1)],
    vms: [vm('wc1-md-0-x-a', 1, { template: true })],
    expect: { 'wc1-md-0-x-a': 'Stale' },
  },
  {
    title: 'powered-off VM stays Healthy',
    machines: [machine('wc1-md-0-x-a', 1)],
    vms: [vm('wc1-md-0-x-a', 1, { powerState: 'poweredOff' })],
    expect: { 'wc1-md-0-x-a': 'Healthy' },
  },
  {
    title: 'machine with no vCenter named: Unknown',
    machines: [machine('wc1-md-0-x-a', 1, { placement: {} })],
    vms: [vm('wc1-md-0-x-a', 1)],
    expect: { 'wc1-md-0-x-a': 'Unknown' },
  },
];

for (const c of matching) {
  test(`section 3: ${c.title}`, (t) => {
    const cl = cluster('wc1', c.machines);
    cl.placement = { datacenter: 'DC0' };
    const report = run({ clusters: [cl], vms: c.vms });
    for (const [name, status] of Object.entries(c.expect)) t.is(statusOf(report, name), status, name);
  });
}

test('section 3: powered-off match carries a warning', (t) => {
  const report = run({
    vms: [vm('wc1-control-plane-aaaaa', 1), vm('wc1-md-0-abc-bbbbb', 2, { powerState: 'poweredOff' }), vm('wc1-md-0-abc-ccccc', 3)],
  });
  const m = machinesOf(report).find((x) => x.name === 'wc1-md-0-abc-bbbbb')!;
  t.is(m.status, 'Healthy');
  t.deepEqual(m.warnings, ['VM wc1-md-0-abc-bbbbb is poweredOff']);
});

test('section 3: a vCenter that could not be listed makes its machines Unknown and its cluster NeedFurtherConfirmation', (t) => {
  const report = run({ vcenters: [{ ok: false, vcenter: VC, reason: 'connection refused' }] });
  // The cause is said once, in the error; each machine refers to it.
  for (const m of machinesOf(report)) {
    t.is(m.status, 'Unknown');
    t.is(m.reason, `vCenter ${VC} could not be listed (the error for vcenter:${VC} says why)`);
  }
  t.is(report.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.deepEqual(report.errors, [{ scope: `vcenter:${VC}`, message: 'connection refused', severity: 'error' }]);
  t.true(report.summary.hasErrors);
});

test('section 3: the VMs behind an ambiguous match are not ghosts', (t) => {
  const report = run({
    clusters: [cluster('wc1', [machine('wc1-md-0-x-a', 1)])],
    vms: [
      vm('wc1-md-0-x-a', undefined, { biosUuid: uuid(1), instanceUuid: iuuid(8) }),
      vm('wc1-md-0-x-b', undefined, { biosUuid: uuid(1), instanceUuid: iuuid(9) }),
    ],
  });
  t.deepEqual(
    machinesOf(report).map((m) => m.status),
    ['Unknown'],
  );
  t.is(report.clusters[0]!.status, 'NeedFurtherConfirmation');
});

// Section 4.
test('section 4: an extra worker VM with the cluster prefix is a Ghost worker (name evidence)', (t) => {
  const report = run({ vms: [...wc1VMs(), vm('wc1-md-0-abc-ddddd', 4)] });
  const c = report.clusters[0]!;
  t.is(c.workers.status, 'ManualRemediationRequired');
  t.is(c.controlPlane.status, 'Healthy');
  t.is(c.status, 'ManualRemediationRequired');
  const ghost = c.workers.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'wc1-md-0-abc-ddddd');
  t.regex(ghost.reason, /delete Node wc1-md-0-abc-ddddd and delete the VM/);
});

test('section 4: an extra VM with the KCP prefix is a Ghost control plane', (t) => {
  const report = run({ vms: [...wc1VMs(), vm('wc1-control-plane-zzzzz', 9)] });
  const c = report.clusters[0]!;
  t.is(c.controlPlane.status, 'ManualRemediationRequired');
  t.is(c.workers.status, 'Healthy');
  t.regex(c.controlPlane.machines.find((m) => m.status === 'Ghost')!.reason, /etcd member/);
});

test('section 4: name evidence needs the same vCenter datacenter', (t) => {
  const report = run({
    vms: [
      ...wc1VMs(),
      vm('wc1-md-0-abc-ddddd', 4, { datacenter: 'DC1', folder: '/DC1/vm/x', resourcePool: '/DC1/host/C/Resources', capvMetadata: false }),
    ],
  });
  t.is(report.clusters[0]!.status, 'Healthy');
  t.is(report.summary.outOfScopeVMs, 1);
});

test('section 4: the longest cluster name wins', (t) => {
  const report = run({
    clusters: [wc1(), cluster('wc1-md', [])],
    vms: [...wc1VMs(), vm('wc1-md-extra-1', 4)],
  });
  t.is(report.clusters.find((c) => c.name === 'wc1-md')!.status, 'ManualRemediationRequired');
  t.is(report.clusters.find((c) => c.name === 'wc1')!.status, 'Healthy');
});

const node = (name: string, n: number, controlPlane = false): WorkloadNode => ({
  name,
  providerID: `vsphere://${uuid(n).toUpperCase()}`,
  controlPlane,
});

test('section 4: node evidence makes a VM without the prefix a Ghost, with its role from the Node', (t) => {
  const report = run({
    vms: [...wc1VMs(), vm('renamed-vm', 9)],
    workloads: [
      {
        namespace: 'default',
        cluster: 'wc1',
        reached: true,
        nodes: [
          node('wc1-control-plane-aaaaa', 1, true),
          node('wc1-md-0-abc-bbbbb', 2),
          node('wc1-md-0-abc-ccccc', 3),
          node('renamed-node', 9, true),
        ],
      },
    ],
  });
  const c = report.clusters[0]!;
  const ghost = c.controlPlane.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'renamed-vm');
  t.is(ghost.nodeName, 'renamed-node');
  t.is(c.apiServer.reached, true);
  t.is(c.apiServer.nodes, 4);
  t.is(machinesOf(report).find((m) => m.name === 'wc1-md-0-abc-bbbbb')!.nodeName, 'wc1-md-0-abc-bbbbb');
});

test('section 4: a Node whose VM is in no listed vCenter is a Ghost of its cluster', (t) => {
  const report = run({
    workloads: [
      { namespace: 'default', cluster: 'wc1', reached: true, nodes: [node('wc1-control-plane-aaaaa', 1, true), node('elsewhere', 42)] },
    ],
  });
  const ghost = report.clusters[0]!.workers.machines.find((m) => m.status === 'Ghost')!;
  t.is(ghost.name, 'elsewhere');
  t.is(ghost.source, 'node');
  t.is(report.clusters[0]!.status, 'ManualRemediationRequired');
});

test('section 4: an unreadable API server is a warning and changes no status', (t) => {
  const report = run({ workloads: [{ namespace: 'default', cluster: 'wc1', reached: false, nodes: [], error: 'timed out after 10 s' }] });
  t.is(report.clusters[0]!.status, 'Healthy');
  t.is(report.errors.length, 1);
  t.is(report.errors[0]!.severity, 'warning');
  t.is(report.errors[0]!.scope, 'cluster:default/wc1');
  t.false(report.summary.hasErrors);
  t.deepEqual(report.clusters[0]!.apiServer, { reached: false, error: 'timed out after 10 s' });
});

test('section 4: an orphan VM with CAPV metadata needs confirmation; a foreign VM is out of scope', (t) => {
  const report = run({
    vms: [
      ...wc1VMs(),
      vm('newcluster-md-0-x-y', 50),
      vm('database-01', 51, { capvMetadata: false, folder: '/DC0/vm/apps', resourcePool: '/DC0/host/DC0_C0/Resources/apps' }),
    ],
  });
  t.is(report.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.is(report.summary.infraMachinesNeedFurtherConfirmation, 1);
  t.is(report.infraMachines[0]!.name, 'newcluster-md-0-x-y');
  t.is(report.summary.outOfScopeVMs, 1);
});

test('section 4: an orphan VM in a folder that backed-up machines use needs confirmation', (t) => {
  const report = run({ vms: [...wc1VMs(), vm('somebody', 52, { capvMetadata: false })] });
  t.is(report.infraMachines.length, 1);
});

test('section 4: templates are neither ghosts nor infrastructure machines', (t) => {
  const report = run({ vms: [...wc1VMs(), vm('wc1-template', 53, { template: true })] });
  t.is(report.summary.status, 'Healthy');
  t.is(report.summary.outOfScopeVMs, 0);
});

// Section 5.
const rollups: { title: string; vms: InventoryVM[]; extraVMs?: InventoryVM[]; expect: string }[] = [
  { title: 'everything matched: Healthy', vms: wc1VMs(), expect: 'Healthy' },
  { title: 'a Stale worker: ManualRemediationNotRequired', vms: wc1VMs().slice(0, 2), expect: 'ManualRemediationNotRequired' },
  {
    title: 'Stale and Ghost: ManualRemediationRequired',
    vms: [...wc1VMs().slice(0, 2), vm('wc1-md-0-abc-eeeee', 6)],
    expect: 'ManualRemediationRequired',
  },
];
for (const c of rollups) {
  test(`section 5: ${c.title}`, (t) => {
    const report = run({ vms: c.vms });
    t.is(report.clusters[0]!.status, c.expect as never);
    t.is(report.summary.status, c.expect as never);
  });
}

test('section 5: a cluster deleted after the backup is all Stale', (t) => {
  const report = run({ vms: [] });
  t.true(machinesOf(report).every((m) => m.status === 'Stale'));
  t.is(report.summary.status, 'ManualRemediationNotRequired');
  t.is(report.summary.clusters.ManualRemediationNotRequired, 1);
});

test('section 5: infrastructure machines outrank Stale but not Unknown or Ghost in the summary', (t) => {
  const orphan = vm('other-md-0-x-y', 60);
  t.is(run({ vms: [...wc1VMs().slice(0, 2), orphan] }).summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.is(run({ vms: [...wc1VMs(), vm('wc1-md-0-abc-eeeee', 6), orphan] }).summary.status, 'ManualRemediationRequired');
  t.is(run({ vcenters: [{ ok: false, vcenter: VC, reason: 'down' }] }).summary.status, 'NeedFurtherConfirmation');
});

test('section 5: the summary counts clusters per status', (t) => {
  const report = run({
    clusters: [wc1(), cluster('wc2', [machine('wc2-md-0-a-b', 20)]), cluster('wc3', [machine('wc3-md-0-a-b', 30)])],
    vms: [...wc1VMs(), vm('wc2-md-0-a-b', 20), vm('wc2-md-0-a-c', 21)],
  });
  t.deepEqual(report.summary.clusters, {
    total: 3,
    Healthy: 1,
    ManualRemediationNotRequired: 1,
    ManualRemediationRequired: 1,
    NeedFurtherConfirmation: 0,
  });
  t.deepEqual(
    report.clusters.map((c) => c.name),
    ['wc1', 'wc2', 'wc3'],
  );
});

test('providerID parsing', (t) => {
  t.is(uuidOfProviderID('vsphere://4223A39E-5E3F-D729-172C-B36F382508DB'), '4223a39e-5e3f-d729-172c-b36f382508db');
  t.is(uuidOfProviderID('aws:///i-123'), undefined);
  t.is(uuidOfProviderID(undefined), undefined);
});

const places: [string | undefined, string | undefined, boolean][] = [
  ['/DC0/vm/tkg', '/DC0/vm/tkg', true],
  ['/DC0/vm/tkg', '/DC0/vm/tkg/', true],
  ['/DC0/vm/tkg', 'tkg', true],
  ['/DC0/vm/tkg', 'vm/tkg', true],
  ['/DC0/vm/a/tkg', 'tkg', true],
  ['/DC0/vm/mytkg', 'tkg', false],
  ['/DC0/vm/tkg', '/DC1/vm/tkg', false],
  ['/DC0/vm/tkg', undefined, false],
  [undefined, 'tkg', false],
];
for (const [inventory, spec, expected] of places) {
  test(`samePlace(${inventory}, ${spec}) = ${expected}`, (t) => t.is(samePlace(inventory, spec), expected));
}

test('datacenters named as inventory paths match the inventory name', (t) => {
  const report = run({
    clusters: [cluster('wc1', [machine('wc1-md-0-x-a', 8, { placement: { vcenter: VC, datacenter: '/DC0', folder: '/DC0/vm/tkg' } })])],
    vms: [vm('wc1-md-0-x-a', 80), vm('wc1-md-0-x-b', 81)],
  });
  t.is(statusOf(report, 'wc1-md-0-x-a'), 'Healthy');
  t.is(report.clusters[0]!.workers.machines.find((m) => m.name === 'wc1-md-0-x-b')?.status, 'Ghost');
});
