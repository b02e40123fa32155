/** One virtual machine as read from a vCenter (or from an inventory snapshot). */
export interface InventoryVM {
  /** Managed object id, e.g. `vm-123`. */
  moref: string;
  name: string;
  /** Lower-case `config.uuid` (SMBIOS UUID), when the VM has a config. */
  biosUuid?: string;
  /** Lower-case `config.instanceUuid`. */
  instanceUuid?: string;
  template: boolean;
  powerState?: string;
  /** Name of the datacenter that holds the VM. */
  datacenter?: string;
  /** Inventory path of the VM's folder, e.g. `/DC0/vm/tkg`. */
  folder?: string;
  /** Inventory path of the VM's resource pool, e.g. `/DC0/host/DC0_C0/Resources/tkg`. */
  resourcePool?: string;
  /**
   * True when `config.extraConfig` carries CAPV's `guestinfo.metadata`. Only this flag is kept:
   * extraConfig values (cloud-init user data) hold bootstrap secrets.
   */
  capvMetadata: boolean;
}

/** The VMs of one vCenter. */
export interface VCenterInventory {
  /** The vCenter key (see vcenterKey). */
  vcenter: string;
  vms: InventoryVM[];
}

/** A vCenter that could not be listed; every machine on it becomes Unknown. */
export interface VCenterFailure {
  vcenter: string;
  /** Why, in words a user can act on. Never holds a credential. */
  reason: string;
  /**
   * The vCenter's TLS certificate was refused: not trusted, or not the pinned thumbprint. How to
   * trust or pin it depends on the door, which adds its own hint to the reason.
   */
  certificate?: CertificateProblem;
  /** The vCenter refused the credentials: the door says where they came from and how to give others. */
  loginRefused?: boolean;
}

export type CertificateProblem = 'untrusted' | 'thumbprint-mismatch';

export type VCenterListing = ({ ok: true } & VCenterInventory) | ({ ok: false } & VCenterFailure);

/** The inventory snapshot file written by `drift-detector inventory`. */
export interface InventorySnapshot {
  kind: 'DriftDetectorInventory';
  version: 1;
  /** When the snapshot was taken (ISO 8601). */
  takenAt: string;
  vcenters: VCenterInventory[];
}
