/**
 * The inventory snapshot, whatever the door: the vCenters of a backup and those the operator
 * names, read with the operator's credentials, written to one file for `detect --inventory`.
 * All or nothing: a snapshot missing a vCenter would later make that vCenter's machines look
 * Unknown for the wrong reason.
 */
import { readBackup } from '../backup/reader.js';
import type { BackupSource } from '../backup/source.js';
import { vcenterTargetsOf, type VCenterTarget } from '../backup/vcenter-targets.js';
import { credentialOverrides, type CredentialSources } from '../config/vcenter-credentials.js';
import type { CertificateProblem, VCenterInventory } from '../model/inventory.js';
import { vcenterKey } from '../model/vcenter.js';
import { inventorySnapshotText } from '../vsphere/snapshot.js';
import { withCertificateHint, withCredentials, type DoorWords } from './detect.js';

export interface InventoryRequest {
  /** The backup whose vCenters are read, if any. */
  backup?: BackupSource;
  /** vCenters the operator names (host, host:port or URL). */
  servers: string[];
  /** The certificate thumbprint the operator pins on `servers`. */
  thumbprint?: string;
  /** The operator's credentials and trust, as files and values. */
  credentials: CredentialSources;
  /** Writes the snapshot's text (a file, or standard output: the door decides). */
  output: (text: string) => Promise<void>;
  insecureSkipVerify: boolean;
  timeoutMs: number;
  maxRetainedBytes?: number;
  /** The door's words for what the listing cannot know, and its hints for a certificate it cannot trust. */
  words: DoorWords;
  certificateHints: Record<CertificateProblem, string>;
  debug?: (message: string) => void;
  now?: () => Date;
}

export type InventoryResult =
  /** vCenters without credentials: nothing was read. */
  | { written: false; missing: Array<{ vcenter: string; reason: string }> }
  /** vCenters that could not be read: nothing was written. */
  | { written: false; failed: Array<{ vcenter: string; reason: string }> }
  | { written: true; inventories: VCenterInventory[] };

export async function takeInventorySnapshot(request: InventoryRequest): Promise<InventoryResult> {
  const targets = new Map<string, VCenterTarget>();
  if (request.backup) {
    const options = { ...(request.debug ? { debug: request.debug } : {}), maxRetainedBytes: request.maxRetainedBytes };
    for (const t of vcenterTargetsOf(await readBackup(request.backup, options))) targets.set(t.vcenter, t);
  }
  for (const server of request.servers) {
    const vcenter = vcenterKey(server);
    targets.set(vcenter, { vcenter, server, ...(request.thumbprint ? { thumbprint: request.thumbprint } : {}) });
  }
  const { ready, missing } = withCredentials([...targets.values()], await operatorCredentials(request), request.words);
  if (missing.length > 0) return { written: false, missing: missing.flatMap((m) => (m.ok ? [] : [{ vcenter: m.vcenter, reason: m.reason }])) };
  const { listVCenters } = await import('../vsphere/inventory.js');
  const listings = await listVCenters(ready, {
    insecureSkipVerify: request.insecureSkipVerify,
    timeoutMs: request.timeoutMs,
    ...(request.debug ? { debug: request.debug } : {}),
  });
  const failed = listings.flatMap((l) => {
    const hinted = withCertificateHint(l, request.certificateHints);
    return hinted.ok ? [] : [{ vcenter: hinted.vcenter, reason: hinted.reason }];
  });
  if (failed.length > 0) return { written: false, failed };
  const inventories = listings.flatMap((l) => (l.ok ? [{ vcenter: l.vcenter, vms: l.vms }] : []));
  await request.output(inventorySnapshotText(inventories, (request.now ?? (() => new Date()))()));
  return { written: true, inventories };
}

/**
 * A vCenter the operator names is one the operator chose, and a thumbprint given with it is the
 * operator's own: both are trusted with the operator's credentials (the certificate is still checked).
 */
function operatorCredentials(request: InventoryRequest) {
  const { servers, thumbprint, credentials } = request;
  const pinned = thumbprint ? servers.map((server) => `${server}=${thumbprint}`) : [];
  return credentialOverrides({
    ...credentials,
    vsphereThumbprint: [...pinned, ...(credentials.vsphereThumbprint ?? [])],
    vsphereTrustedHost: [...servers, ...(credentials.vsphereTrustedHost ?? [])],
  });
}
