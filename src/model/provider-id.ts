/**
 * CAPV's provider ID, `vsphere://<BIOS UUID>`: on a Machine, its VSphereMachine and the workload
 * Node of the machine (docs/drift-rules.md §2).
 */
const PROVIDER_ID = /^vsphere:\/\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/** The BIOS UUID in a `vsphere://<uuid>` provider ID, lower-cased. */
export function uuidOfProviderID(providerID: string | undefined): string | undefined {
  const m = providerID ? PROVIDER_ID.exec(providerID.trim()) : null;
  return m ? m[1]!.toLowerCase() : undefined;
}
