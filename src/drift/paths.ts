import { trimSlashes } from '../util/values.js';

/**
 * CAPV specs name folders and resource pools either as absolute inventory paths
 * (`/DC0/vm/tkg`) or relative to the datacenter (`tkg`, `vm/tkg`, `DC0_C0/Resources/tkg`).
 * The inventory gives every VM its absolute paths.
 */
export function samePlace(inventoryPath: string | undefined, specPath: string | undefined): boolean {
  if (!inventoryPath || !specPath) return false;
  const actual = trimSlashes(inventoryPath);
  const wanted = trimSlashes(specPath);
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
