/**
 * The objects of one inventory walk joined into a tree: each VM with its datacenter, folder and
 * pool paths, and the inventory paths of the datastores, networks, pools and folders.
 */
import type { InventoryVM } from '../model/inventory.js';
import type { ObjectContent, PropertyValue } from './session.js';
import { readBoolean, type MoRef } from './wire.js';

/** The extraConfig key CAPV writes on every machine it reconciles (cloud-init metadata). */
const CAPV_METADATA_KEY = 'guestinfo.metadata';

interface TreeEntity {
  name?: string;
  parent?: string;
}

interface VMRecord {
  vm: InventoryVM;
  parent?: string;
  pool?: string;
}

/** The objects of the walk, joined into VMs with their datacenter, folder and pool paths. */
export class InventoryTree {
  private readonly entities = new Map<string, TreeEntity>();
  private readonly vms: VMRecord[] = [];
  private readonly paths = new Map<string, string | undefined>();
  /** `path (fault)` -> how many objects lacked it. */
  private readonly missing = new Map<string, number>();
  private readonly rootKey: string;

  constructor(rootFolder: MoRef) {
    this.rootKey = refKey(rootFolder);
  }

  get vmCount(): number {
    return this.vms.length;
  }

  get entityCount(): number {
    return this.entities.size;
  }

  add(object: ObjectContent): void {
    for (const missing of object.missingSet) {
      const key = `${object.obj.type}.${missing.path} (${missing.fault})`;
      this.missing.set(key, (this.missing.get(key) ?? 0) + 1);
    }
    if (object.obj.type === 'VirtualMachine') this.vms.push(readVM(object));
    else this.entities.set(refKey(object.obj), readEntity(object));
  }

  resolveVMs(): InventoryVM[] {
    const vms = this.vms.map(({ vm, parent, pool }) =>
      // Rebuilt in the model's field order, so snapshot files read naturally.
      withoutUndefined({
        moref: vm.moref,
        name: vm.name,
        biosUuid: vm.biosUuid,
        instanceUuid: vm.instanceUuid,
        template: vm.template,
        powerState: vm.powerState,
        datacenter: this.datacenterOf(parent ?? pool),
        folder: parent ? this.pathOf(parent) : undefined,
        resourcePool: pool ? this.pathOf(pool) : undefined,
        capvMetadata: vm.capvMetadata,
      }),
    );
    return vms.sort((a, b) => compare(a.name, b.name) || compare(a.moref, b.moref));
  }

  /**
   * Inventory paths of what a clone names besides its template (docs/unpause-forecast.md): the
   * datastores and networks (read only when the walk asked for them), pools and folders.
   */
  cloneResources(): { datastores: string[]; networks: string[]; resourcePools: string[]; folders: string[] } {
    const of = (...types: string[]) =>
      [...this.entities.keys()]
        .filter((key) => types.some((type) => key.startsWith(`${type}:`)))
        .map((key) => this.pathOf(key))
        .filter((path): path is string => path !== undefined)
        .sort(compare);
    return {
      datastores: of('Datastore'),
      networks: of('Network', 'DistributedVirtualPortgroup', 'OpaqueNetwork'),
      resourcePools: of('ResourcePool', 'VirtualApp'),
      folders: of('Folder'),
    };
  }

  missingSummary(): string[] {
    return [...this.missing].map(([what, count]) => `${count} object(s) without ${what}`);
  }

  /** Inventory path below the root folder, e.g. `/DC0/vm/tkg`; undefined when not rooted. */
  private pathOf(key: string): string | undefined {
    if (this.paths.has(key)) return this.paths.get(key);
    let path: string | undefined;
    const entity = this.entities.get(key);
    if (entity?.name !== undefined && entity.parent !== undefined) {
      const parentPath = entity.parent === this.rootKey ? '' : this.pathOf(entity.parent);
      path = parentPath === undefined ? undefined : `${parentPath}/${entity.name}`;
    }
    this.paths.set(key, path);
    return path;
  }

  private datacenterOf(key: string | undefined): string | undefined {
    for (let hops = 0; key !== undefined && key !== this.rootKey && hops < 256; hops++) {
      const entity = this.entities.get(key);
      if (!entity) return undefined;
      if (key.startsWith('Datacenter:')) return entity.name;
      key = entity.parent;
    }
    return undefined;
  }
}

function readVM(object: ObjectContent): VMRecord {
  const vm: InventoryVM = { moref: object.obj.value, name: '', template: false, capvMetadata: false };
  const record: VMRecord = { vm };
  for (const { name, val } of object.propSet) {
    switch (name) {
      case 'name':
        vm.name = textOf(val) ?? '';
        break;
      case 'config.uuid': {
        const uuid = textOf(val)?.trim();
        if (uuid) vm.biosUuid = uuid.toLowerCase();
        break;
      }
      case 'config.instanceUuid': {
        const uuid = textOf(val)?.trim();
        if (uuid) vm.instanceUuid = uuid.toLowerCase();
        break;
      }
      case 'config.template':
        vm.template = readBoolean(textOf(val)) ?? false;
        break;
      case 'runtime.powerState': {
        const state = textOf(val);
        if (state) vm.powerState = state;
        break;
      }
      case 'parent':
        if (val.kind === 'ref') record.parent = refKey(val.ref);
        break;
      case 'resourcePool':
        if (val.kind === 'ref') record.pool = refKey(val.ref);
        break;
      case 'config.extraConfig':
        // The page reader keeps only the keys: the values hold cloud-init secrets.
        vm.capvMetadata = val.kind === 'optionKeys' && val.keys.some((key) => key.trim() === CAPV_METADATA_KEY);
        break;
    }
  }
  return record;
}

function readEntity(object: ObjectContent): TreeEntity {
  const entity: TreeEntity = {};
  for (const { name, val } of object.propSet) {
    if (name === 'name') entity.name = textOf(val);
    else if (name === 'parent' && val.kind === 'ref') entity.parent = refKey(val.ref);
  }
  return entity;
}

function textOf(val: PropertyValue): string | undefined {
  return val.kind === 'text' ? val.text : undefined;
}

/** MoRef values are unique per type; the type keeps a Datacenter recognisable on the way up. */
function refKey(ref: MoRef): string {
  return `${ref.type}:${ref.value}`;
}

function withoutUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
