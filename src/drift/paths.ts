import { trimSlashes } from '../util/values.js';

/**
 * CAPV specs name folders and resource pools either as absolute inventory paths
 * (`/DC0/vm/tkg`) or relative to the datacenter (`tkg`, `vm/tkg`, `DC0_C0/Resources/tkg`).
 * The inventory gives every VM its absolute paths. Case is ignored: a spec written by hand
 * (`/dc0/vm/TKG`) or a folder renamed in case only still names the same place, and a false match
 * costs no more than a VM listed for confirmation.
 */
export function samePlace(inventoryPath: string | undefined, specPath: string | undefined): boolean {
  if (!inventoryPath || !specPath) return false;
  const actual = trimSlashes(inventoryPath).toLowerCase();
  const wanted = trimSlashes(specPath).toLowerCase();
  if (wanted === '') return false;
  if (specPath.trim().startsWith('/')) return actual === wanted;
  // Relative: it must match whole trailing segments of the absolute path.
  return actual === wanted || actual.endsWith(`/${wanted}`);
}

/**
 * A datacenter is named by TKG as a name (`DC0`) or an inventory path (`/DC0`, `/folder/DC0`);
 * the inventory gives its name.
 */
export function sameDatacenter(inventoryName: string | undefined, specDatacenter: string | undefined): boolean {
  if (!inventoryName || !specDatacenter) return true;
  const name = trimSlashes(specDatacenter).split('/').pop();
  return name === inventoryName;
}

/**
 * True for a datacenter's root VM folder, `[/<folders>]/<dc>/vm`, which every VM of the
 * datacenter may share. Takes the VM's inventory path and the name of its datacenter.
 */
export function isRootVMFolder(inventoryPath: string | undefined, datacenter: string | undefined): boolean {
  const path = segmentsOf(inventoryPath);
  const at = datacenterIndex(path, datacenter, 'vm');
  return at >= 0 && at + 2 === path.length;
}

/**
 * True for the root resource pool of a compute resource (a cluster or a standalone host):
 * `[/<folders>]/<dc>/host/[<folders>/]<compute resource>/Resources`, which every VM of that
 * compute resource shares. A pool below it is dedicated, even one named `Resources`. Where the
 * path alone is ambiguous (a host folder named `Resources` inside another host folder), the place
 * counts as dedicated: the safe side, a VM listed for confirmation.
 */
export function isRootResourcePool(inventoryPath: string | undefined, datacenter: string | undefined): boolean {
  const path = segmentsOf(inventoryPath);
  const at = datacenterIndex(path, datacenter, 'host');
  if (at < 0) return false;
  // Below the host folder: folders, the compute resource, then its root pool `Resources`.
  const below = path.slice(at + 2);
  const rootPool = below.findIndex((segment, i) => i > 0 && sameName(segment, 'Resources'));
  return rootPool >= 1 && rootPool === below.length - 1;
}

/** Where the datacenter sits in a path: the first segment naming it that `fixed` (`vm`, `host`) follows. */
function datacenterIndex(path: string[], datacenter: string | undefined, fixed: string): number {
  return path.findIndex((segment, i) => sameName(path[i + 1], fixed) && (datacenter === undefined || sameName(segment, datacenter)));
}

/**
 * vCenter spells the names it gives (`vm`, `host`, `Resources`) one way; they, and datacenter
 * names, are compared without regard to case all the same.
 */
function sameName(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** `/DC0//vm/` -> `['DC0', 'vm']`. */
function segmentsOf(path: string | undefined): string[] {
  return path
    ? trimSlashes(path)
        .split('/')
        .filter((segment) => segment !== '')
    : [];
}
