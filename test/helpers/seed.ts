/**
 * The inventory a test seeds into vcsim (test/harness/vcsim). Shared by the vcsim launcher and
 * the fixture builder, which derives the VMs of a backup from its machines.
 */
export interface SeedVM {
  name: string;
  /** BIOS UUID (`config.uuid`). */
  uuid: string;
  /** `config.instanceUuid`. */
  instanceUuid: string;
  /** Folder path below the datacenter's VM folder, e.g. `tkg` or `tkg/workload`; default: the VM folder itself. */
  folder?: string;
  /**
   * Resource pool path below the cluster's root pool, e.g. `tkg`; default: the root pool.
   * A template ends up with no `resourcePool`, as in vCenter (marking as template drops it).
   */
  resourcePool?: string;
  /** Default: `poweredOff` for a template, `poweredOn` otherwise. */
  powerState?: 'poweredOn' | 'poweredOff' | 'suspended';
  template?: boolean;
  /** Extra config key/values, e.g. `guestinfo.metadata`. */
  extraConfig?: Record<string, string>;
}

export interface SeedDatacenter {
  name: string;
  /** Name of the datacenter's compute cluster (which owns the root pool `Resources`); default `<name>_C0`. */
  cluster?: string;
  /** Folders to create below the datacenter's VM folder (paths with `/`). */
  folders?: string[];
  /** Resource pools to create below the compute cluster's root pool (paths with `/`). */
  resourcePools?: string[];
  vms: SeedVM[];
}

export interface VcsimSeed {
  /** When set, only these credentials log in; otherwise vcsim accepts any non-empty pair. */
  username?: string;
  password?: string;
  datacenters: SeedDatacenter[];
}
