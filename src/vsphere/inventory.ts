import { DEFAULTS } from '../config/defaults.js';
import type { CertificateProblem, InventoryVM, VCenterListing } from '../model/inventory.js';
import { vcenterKey } from '../model/vcenter.js';
import { VimError, type VimErrorKind } from './errors.js';
import {
  withVimSession,
  type ObjectContent,
  type PropertySpec,
  type PropertyValue,
  type RetrievePage,
  type VimSession,
  type VimSessionOptions,
  type VimTarget,
} from './session.js';
import { readBoolean, type MoRef } from './wire.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { redacted } from '../util/redact.js';

export type { VimTarget } from './session.js';

export interface ListOptions extends VimSessionOptions {
  /** Objects per RetrievePropertiesEx page (default DEFAULTS.vsphere.pageSize). */
  pageSize?: number;
  /** Bound on the whole walk of one vCenter (default DEFAULTS.vsphere.walkTimeoutMs). */
  walkTimeoutMs?: number;
  /** Pages of one walk at most (default DEFAULTS.vsphere.maxPages). */
  maxPages?: number;
  /** Objects of one walk at most (default DEFAULTS.vsphere.maxObjects). */
  maxObjects?: number;
}

export interface ListManyOptions extends ListOptions {
  /** vCenters read at the same time (default DEFAULTS.vsphere.concurrency). */
  concurrency?: number;
}

/** The extraConfig key CAPV writes on every machine it reconciles (cloud-init metadata). */
const CAPV_METADATA_KEY = 'guestinfo.metadata';

/**
 * VM properties read in the walk. `config.extraConfig` is requested whole (keyed paths such as
 * `config.extraConfig["guestinfo.metadata"]` are not accepted everywhere) and reduced at once to
 * whether CAPV's key is present: its values hold cloud-init secrets and are never kept.
 */
const VM_PROPERTIES = [
  'name',
  'config.uuid',
  'config.instanceUuid',
  'config.template',
  'runtime.powerState',
  'parent',
  'resourcePool',
  'config.extraConfig',
];

/** Without these the drift rules cannot match a VM; a vCenter that rejects one is not listed. */
const REQUIRED_VM_PROPERTIES = new Set(['name', 'parent', 'config.uuid', 'config.instanceUuid', 'config.template']);

/**
 * The inventory tree above the VMs: enough to name each VM's datacenter, folder path and pool
 * path. ComputeResource covers ClusterComputeResource and ResourcePool covers VirtualApp.
 */
const TREE_TYPES = ['Folder', 'Datacenter', 'ResourcePool', 'ComputeResource'];
const TREE_PROPERTIES = ['name', 'parent'];

/** The failures of a refused certificate, for the door's hint. */
const CERTIFICATE_PROBLEMS: Partial<Record<VimErrorKind, CertificateProblem>> = { tls: 'untrusted', thumbprint: 'thumbprint-mismatch' };

/**
 * Reads every VM of one vCenter in one paged property-collector walk: a ContainerView over the
 * root folder holding the VMs and the folders, datacenters, pools and compute resources above
 * them, RetrievePropertiesEx + ContinueRetrievePropertiesEx until no token, DestroyView, Logout.
 * Never throws for a vCenter problem: it returns `{ ok: false, reason }` instead.
 */
export async function listVCenter(target: VimTarget, options: ListOptions = {}): Promise<VCenterListing> {
  let vcenter: string;
  try {
    vcenter = vcenterKey(target.server);
  } catch (err) {
    return { ok: false, vcenter: target.server.trim(), reason: `invalid vCenter server: ${(err as Error).message}` };
  }
  // A vCenter that answers every request in time could still page forever: the walk has its own deadline.
  const walkMs = positiveInteger(options.walkTimeoutMs) ?? DEFAULTS.vsphere.walkTimeoutMs;
  const walk = new AbortController();
  const timer = setTimeout(() => walk.abort(), walkMs);
  const signal = options.signal ? AbortSignal.any([options.signal, walk.signal]) : walk.signal;
  try {
    const vms = await withVimSession(target, { ...options, signal }, (session) => readInventory(session, options));
    return { ok: true, vcenter, vms };
  } catch (err) {
    if (walk.signal.aborted && !options.signal?.aborted) {
      return { ok: false, vcenter, reason: `the inventory walk of ${vcenter} did not finish within ${walkMs / 1000} s (timed out)` };
    }
    const reason = err instanceof VimError ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`;
    const certificate = err instanceof VimError ? CERTIFICATE_PROBLEMS[err.kind] : undefined;
    // Defence in depth: whatever a server echoed, the password never reaches a report.
    const loginRefused = err instanceof VimError && err.kind === 'login';
    return {
      ok: false,
      vcenter,
      reason: redacted(reason, { secrets: [target.password], max: 1000 }),
      ...(certificate ? { certificate } : {}),
      ...(loginRefused ? { loginRefused } : {}),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Lists several vCenters, a few at a time; one listing per target, in the order given. */
export async function listVCenters(targets: VimTarget[], options: ListManyOptions = {}): Promise<VCenterListing[]> {
  const limit = positiveInteger(options.concurrency) ?? DEFAULTS.vsphere.concurrency;
  return mapWithConcurrency(targets, limit, (target) => listVCenter(target, options));
}

async function readInventory(session: VimSession, options: ListOptions): Promise<InventoryVM[]> {
  const started = Date.now();
  const pageSize = positiveInteger(options.pageSize) ?? DEFAULTS.vsphere.pageSize;
  const tree = new InventoryTree(session.content.rootFolder);
  const view = await session.createContainerView(session.content.rootFolder, ['VirtualMachine', ...TREE_TYPES], true);
  let pages = 0;
  let objects = 0;
  const maxPages = positiveInteger(options.maxPages) ?? DEFAULTS.vsphere.maxPages;
  const maxObjects = positiveInteger(options.maxObjects) ?? DEFAULTS.vsphere.maxObjects;
  // Objects join the tree as they are read off the wire; no page is held whole.
  const add = (object: ObjectContent) => {
    if (++objects > maxObjects) throw endless(session.address, `more than ${maxObjects} objects`);
    tree.add(object);
  };
  try {
    const first = await retrieveFirstPage(session, view, pageSize, add, options.debug);
    let token = first.token;
    pages++;
    try {
      while (token) {
        if (pages >= maxPages) throw endless(session.address, `more than ${maxPages} pages`);
        const page = await session.continueRetrieve(token, add);
        token = page.token;
        pages++;
      }
    } catch (err) {
      // Frees the collector's state for the pages we will not read.
      if (token) await session.cancelRetrieve(token);
      throw err;
    }
  } catch (err) {
    if (err instanceof VimError && err.kind === 'fault') {
      throw new VimError('fault', `listing the VMs failed: ${err.message}`, err.fault);
    }
    throw err;
  } finally {
    await session.destroyView(view);
  }
  const vms = tree.resolveVMs();
  for (const line of tree.missingSummary()) options.debug?.(`${session.address}: ${line}`);
  options.debug?.(
    `${session.address}: ${vms.length} VMs and ${tree.entityCount} folders/datacenters/pools/compute resources ` +
      `in ${pages} page(s), ${Date.now() - started} ms`,
  );
  return vms;
}

/**
 * The first RetrievePropertiesEx. Where a vCenter faults the whole call with
 * InvalidProperty (vcsim reports a bad path per object instead), it retries without that path
 * if the drift rules can do without it.
 */
async function retrieveFirstPage(
  session: VimSession,
  view: MoRef,
  pageSize: number,
  onObject: (object: ObjectContent) => void,
  debug: ((msg: string) => void) | undefined,
): Promise<RetrievePage> {
  let vmPaths = VM_PROPERTIES;
  for (;;) {
    const propSet: PropertySpec[] = [
      { type: 'VirtualMachine', pathSet: vmPaths },
      ...TREE_TYPES.map((type) => ({ type, pathSet: TREE_PROPERTIES })),
    ];
    try {
      // A faulted call has handed on no object, so the retry starts from nothing.
      return await session.retrieveFromView(view, propSet, pageSize, onObject);
    } catch (err) {
      const rejected = err instanceof VimError && err.fault?.type === 'InvalidProperty' ? err.fault.propertyName : undefined;
      if (!rejected || !vmPaths.includes(rejected) || REQUIRED_VM_PROPERTIES.has(rejected)) {
        if (rejected && REQUIRED_VM_PROPERTIES.has(rejected)) {
          throw new VimError(
            'fault',
            `the vCenter rejects the VM property ${rejected} (InvalidProperty), which the drift rules need`,
            (err as VimError).fault,
          );
        }
        throw err;
      }
      debug?.(`${session.address}: the vCenter rejects the VM property ${rejected}; listing without it`);
      vmPaths = vmPaths.filter((path) => path !== rejected);
    }
  }
}

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
class InventoryTree {
  private readonly entities = new Map<string, TreeEntity>();
  private readonly vms: VMRecord[] = [];
  private readonly paths = new Map<string, string | undefined>();
  /** `path (fault)` -> how many objects lacked it. */
  private readonly missing = new Map<string, number>();
  private readonly rootKey: string;

  constructor(rootFolder: MoRef) {
    this.rootKey = refKey(rootFolder);
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

function positiveInteger(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A walk past its bounds: no vCenter holds that much under one root folder. */
function endless(address: string, what: string): VimError {
  return new VimError('protocol', `${address} answered the inventory walk with ${what}; no vCenter holds that many, the walk was stopped`);
}
