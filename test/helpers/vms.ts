/** Inventory VMs as the tests write them: a machine CAPV made, placed where the TKG fixtures put it. */
import type { InventoryVM } from '../../src/model/inventory.js';

/** Where the TKG fixtures place their machines: datacenter DC0, folder and resource pool `tkg`. */
export const TKG_PLACEMENT = { datacenter: 'DC0', folder: '/DC0/vm/tkg', resourcePool: '/DC0/host/DC0_C0/Resources/tkg' } as const;

/** The control-plane VM the inventory tests seed into vcsim, as the walk reads it (UUIDs lower-cased). */
export const SEEDED_CONTROL_PLANE = {
  name: 'mgmt-control-plane-x7k2p',
  biosUuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c01',
  instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c001',
} as const;

type Identity = Pick<InventoryVM, 'name' | 'biosUuid' | 'instanceUuid'> & { moref?: string };

/** A powered-on machine VM with CAPV's metadata, placed as TKG_PLACEMENT; `extra` changes any field. Without a moref, none. */
export function capvVM(identity: Identity, extra: Partial<InventoryVM> = {}): InventoryVM {
  const { moref, ...named } = identity;
  return {
    ...(moref !== undefined ? { moref } : {}),
    ...named,
    template: false,
    powerState: 'poweredOn',
    ...TKG_PLACEMENT,
    capvMetadata: true,
    ...extra,
  } as InventoryVM;
}
