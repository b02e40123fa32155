/**
 * Which objects of a backup claim a VM: a VSphereVM by its `spec.biosUUID` and its uid (CAPV makes
 * it the VM's instance UUID), a Machine or VSphereMachine by the UUID in its `spec.providerID`. A VM
 * that any of them claims is no Ghost, whether or not a Machine ties the claim to a cluster.
 */
import type { BackupObjects } from '../model/backup.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import { text } from './object-fields.js';

/** Each claimed UUID (lower-case) with the first object that claims it, as `Kind namespace/name`. */
export function vmClaims(objects: BackupObjects): Map<string, string> {
  const claims = new Map<string, string>();
  const claim = (uuid: string | undefined, kind: string, o: { metadata: { namespace?: string; name: string } }) => {
    const key = uuid?.trim().toLowerCase();
    if (key && !claims.has(key)) claims.set(key, `${kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  };
  for (const vm of objects.vsphereVMs) {
    claim(text(vm.spec, 'biosUUID'), 'VSphereVM', vm);
    claim(vm.metadata.uid, 'VSphereVM', vm);
  }
  for (const m of objects.machines) claim(uuidOfProviderID(text(m.spec, 'providerID')), 'Machine', m);
  for (const m of objects.vsphereMachines) claim(uuidOfProviderID(text(m.spec, 'providerID')), 'VSphereMachine', m);
  return claims;
}
