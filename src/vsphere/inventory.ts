import { DEFAULTS } from '../config/defaults.js';
import type { CertificateProblem, VCenterListing } from '../model/inventory.js';
import { vcenterKey } from '../model/vcenter.js';
import { VimError, type VimErrorKind } from './errors.js';
import { InventoryTree } from './inventory-tree.js';
import {
  withVimSession,
  type ObjectContent,
  type PropertySpec,
  type RetrievePage,
  type VimSession,
  type VimSessionOptions,
  type VimTarget,
} from './session.js';
import type { MoRef } from './wire.js';
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
  /** Also read the datastores and networks, and return what a clone needs (the unpause forecast). */
  cloneResources?: boolean;
}

/** Inventory paths of what a clone names, from the same walk as the VMs. */
export interface CloneResourcePaths {
  datastores: string[];
  networks: string[];
  resourcePools: string[];
  folders: string[];
}

/** A listing, with the clone resources when the walk was asked for them and succeeded. */
export type VCenterWalk = { listing: VCenterListing; resources?: CloneResourcePaths };

export interface ListManyOptions extends ListOptions {
  /** vCenters read at the same time (default DEFAULTS.vsphere.concurrency). */
  concurrency?: number;
}

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
/** Read only for clones: Network covers DistributedVirtualPortgroup and OpaqueNetwork. */
const CLONE_RESOURCE_TYPES = ['Datastore', 'Network'];

/** The failures of a refused certificate, for the door's hint. */
const CERTIFICATE_PROBLEMS: Partial<Record<VimErrorKind, CertificateProblem>> = { tls: 'untrusted', thumbprint: 'thumbprint-mismatch' };

/**
 * Reads every VM of one vCenter in one paged property-collector walk: a ContainerView over the
 * root folder holding the VMs and the folders, datacenters, pools and compute resources above
 * them, RetrievePropertiesEx + ContinueRetrievePropertiesEx until no token, DestroyView, Logout.
 * Never throws for a vCenter problem: it returns `{ ok: false, reason }` instead.
 */
export async function listVCenter(target: VimTarget, options: ListOptions = {}): Promise<VCenterListing> {
  return (await walkVCenter(target, options)).listing;
}

/** listVCenter, with the clone resources of the same walk when `options.cloneResources`. */
export async function walkVCenter(target: VimTarget, options: ListOptions = {}): Promise<VCenterWalk> {
  let vcenter: string;
  try {
    vcenter = vcenterKey(target.server);
  } catch (err) {
    return { listing: { ok: false, vcenter: target.server.trim(), reason: `invalid vCenter server: ${(err as Error).message}` } };
  }
  // A vCenter that answers every request in time could still page forever: the walk has its own deadline.
  const walkMs = positiveInteger(options.walkTimeoutMs) ?? DEFAULTS.vsphere.walkTimeoutMs;
  const walk = new AbortController();
  const timer = setTimeout(() => walk.abort(), walkMs);
  const signal = options.signal ? AbortSignal.any([options.signal, walk.signal]) : walk.signal;
  try {
    const tree = await withVimSession(target, { ...options, signal }, (session) => readInventory(session, options));
    const listing: VCenterListing = { ok: true, vcenter, vms: tree.resolveVMs() };
    return { listing, ...(options.cloneResources ? { resources: tree.cloneResources() } : {}) };
  } catch (err) {
    if (walk.signal.aborted && !options.signal?.aborted) {
      return {
        listing: { ok: false, vcenter, reason: `the inventory walk of ${vcenter} did not finish within ${walkMs / 1000} s (timed out)` },
      };
    }
    const reason = err instanceof VimError ? err.message : `unexpected error: ${(err as Error).message ?? String(err)}`;
    const certificate = err instanceof VimError ? CERTIFICATE_PROBLEMS[err.kind] : undefined;
    // Defence in depth: whatever a server echoed, the password never reaches a report.
    const loginRefused = err instanceof VimError && err.kind === 'login';
    return {
      listing: {
        ok: false,
        vcenter,
        reason: redacted(reason, { secrets: [target.password], max: 1000 }),
        ...(certificate ? { certificate } : {}),
        ...(loginRefused ? { loginRefused } : {}),
      },
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

/** walkVCenter over several vCenters, as listVCenters. */
export async function walkVCenters(targets: VimTarget[], options: ListManyOptions = {}): Promise<VCenterWalk[]> {
  const limit = positiveInteger(options.concurrency) ?? DEFAULTS.vsphere.concurrency;
  return mapWithConcurrency(targets, limit, (target) => walkVCenter(target, options));
}

async function readInventory(session: VimSession, options: ListOptions): Promise<InventoryTree> {
  const started = Date.now();
  const pageSize = positiveInteger(options.pageSize) ?? DEFAULTS.vsphere.pageSize;
  const tree = new InventoryTree(session.content.rootFolder);
  const treeTypes = options.cloneResources ? [...TREE_TYPES, ...CLONE_RESOURCE_TYPES] : TREE_TYPES;
  const view = await session.createContainerView(session.content.rootFolder, ['VirtualMachine', ...treeTypes], true);
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
    const first = await retrieveFirstPage(session, view, treeTypes, pageSize, add, options.debug);
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
  for (const line of tree.missingSummary()) options.debug?.(`${session.address}: ${line}`);
  options.debug?.(
    `${session.address}: ${tree.vmCount} VMs and ${tree.entityCount} folders/datacenters/pools/compute resources ` +
      `in ${pages} page(s), ${Date.now() - started} ms`,
  );
  return tree;
}

/**
 * The first RetrievePropertiesEx. Where a vCenter faults the whole call with
 * InvalidProperty (vcsim reports a bad path per object instead), it retries without that path
 * if the drift rules can do without it.
 */
async function retrieveFirstPage(
  session: VimSession,
  view: MoRef,
  treeTypes: string[],
  pageSize: number,
  onObject: (object: ObjectContent) => void,
  debug: ((msg: string) => void) | undefined,
): Promise<RetrievePage> {
  let vmPaths = VM_PROPERTIES;
  for (;;) {
    const propSet: PropertySpec[] = [
      { type: 'VirtualMachine', pathSet: vmPaths },
      ...treeTypes.map((type) => ({ type, pathSet: TREE_PROPERTIES })),
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

function positiveInteger(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** A walk past its bounds: no vCenter holds that much under one root folder. */
function endless(address: string, what: string): VimError {
  return new VimError('protocol', `${address} answered the inventory walk with ${what}; no vCenter holds that many, the walk was stopped`);
}
