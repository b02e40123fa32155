/** Builders of the analysis' plain inputs, shared by the tests of test/drift. */
import { analyzeDrift, type DriftInput } from '../../src/drift/analyze.js';
import type { BackedUpCluster, BackedUpMachine } from '../../src/model/backup.js';
import type { InventoryVM } from '../../src/model/inventory.js';
import type { DriftReport } from '../../src/model/report.js';

export const VC = 'vc.example.com';
export const uuid = (n: number) => `00000000-0000-0000-0000-${n.toString().padStart(12, '0')}`;
export const iuuid = (n: number) => `11111111-0000-0000-0000-${n.toString().padStart(12, '0')}`;

export function machine(name: string, n: number | undefined, extra: Partial<BackedUpMachine> = {}): BackedUpMachine {
  return {
    namespace: 'default',
    name,
    cluster: name.split('-')[0]!,
    controlPlane: name.includes('-control-plane-'),
    ...(n !== undefined ? { biosUuid: uuid(n), instanceUuid: iuuid(n) } : {}),
    vmName: name,
    placement: { vcenter: VC, datacenter: 'DC0', folder: 'tkg' },
    ...extra,
  };
}

export function cluster(name: string, machines: BackedUpMachine[]): BackedUpCluster {
  return {
    namespace: 'default',
    name,
    controlPlaneName: `${name}-control-plane`,
    placement: { vcenter: VC, datacenter: 'DC0' },
    machines,
  };
}

export function vm(name: string, n: number | undefined, extra: Partial<InventoryVM> = {}): InventoryVM {
  return {
    moref: `vm-${n ?? name}`,
    name,
    ...(n !== undefined ? { biosUuid: uuid(n), instanceUuid: iuuid(n) } : {}),
    template: false,
    powerState: 'poweredOn',
    datacenter: 'DC0',
    folder: '/DC0/vm/tkg',
    resourcePool: '/DC0/host/DC0_C0/Resources',
    capvMetadata: true,
    ...extra,
  };
}

export const wc1 = () =>
  cluster('wc1', [machine('wc1-control-plane-aaaaa', 1), machine('wc1-md-0-abc-bbbbb', 2), machine('wc1-md-0-abc-ccccc', 3)]);
export const wc1VMs = () => [vm('wc1-control-plane-aaaaa', 1), vm('wc1-md-0-abc-bbbbb', 2), vm('wc1-md-0-abc-ccccc', 3)];

export function run(input: Partial<DriftInput> & { vms?: InventoryVM[] }): DriftReport {
  return analyzeDrift({
    clusters: input.clusters ?? [wc1()],
    vcenters: input.vcenters ?? [{ ok: true, vcenter: VC, vms: input.vms ?? wc1VMs() }],
    ...(input.workloads ? { workloads: input.workloads } : {}),
    ...(input.ignore ? { ignore: input.ignore } : {}),
  });
}
