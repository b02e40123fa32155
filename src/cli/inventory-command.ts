import { Command } from 'commander';
import { readBackup } from '../backup/reader.js';
import { withCertificateHint, withCredentials } from '../app/detect.js';
import { vcenterTargetsOf, type VCenterTarget } from '../backup/vcenter-targets.js';
import { credentialOverrides } from '../config/vcenter-credentials.js';
import type { CertificateProblem, VCenterInventory } from '../model/inventory.js';
import { vcenterKey } from '../model/vcenter.js';
import { assertWritable } from '../util/atomic-write.js';
import { writeInventorySnapshot } from '../vsphere/snapshot.js';
import { EXIT_ERROR, EXIT_OK, UsageError } from './errors.js';
import { debugLogger } from './log.js';
import { backupMemoryBytes, backupOptions, backupSourceFrom, type BackupFlags } from './backup-flags.js';
import { CLI_WORDS } from './detect-command.js';
import { collect, credentialOptions } from './options.js';

interface InventoryFlags extends BackupFlags {
  server: string[];
  thumbprint?: string;
  output?: string;
  insecureSkipVerify?: boolean;
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
  vsphereCaFile?: string;
  vsphereThumbprint: string[];
  vsphereTrustedHost: string[];
  vsphereTimeout: number;
}

/** Here the user names the vCenters: a thumbprint is pinned with --thumbprint. */
const INVENTORY_CERTIFICATE_HINTS: Record<CertificateProblem, string> = {
  untrusted: 'to trust it, pin this thumbprint with --server <vCenter> --thumbprint <SHA-1>, or add its CA (NODE_EXTRA_CA_CERTS=ca.pem)',
  'thumbprint-mismatch': 'check the certificate before you give its new thumbprint with --thumbprint',
};

export function addInventoryCommand(program: Command): void {
  const command = program
    .command('inventory')
    .description('Read the VMs of vCenters into an inventory snapshot, for `detect --inventory` (air-gapped analysis)')
    .option('--server <server>', 'a vCenter (host, host:port or URL); repeat for several', collect, [])
    .option('--thumbprint <sha1>', 'pinned certificate thumbprint of the --server vCenter(s); trusts them with the given credentials')
    .option('--insecure-skip-verify', 'skip TLS verification of the vCenters')
    .option('-o, --output <file>', 'where to write the snapshot');
  backupOptions(command);
  credentialOptions(command);
  command.action(async (flags: InventoryFlags, cmd: Command) => {
    const debug = debugLogger(cmd.optsWithGlobals<{ debug?: boolean }>().debug === true);
    if (!flags.output) throw new UsageError('inventory', 'required option -o, --output <file> not given');
    await assertWritable(flags.output);
    const fromBackup = flags.backup !== undefined || flags.backupName !== undefined;
    if (flags.server.length === 0 && !fromBackup)
      throw new UsageError('inventory', 'give --server <server>, or a backup to take the vCenters from');

    const targets = new Map<string, VCenterTarget>();
    if (fromBackup) {
      const objects = await readBackup(await backupSourceFrom('inventory', flags), { debug, maxRetainedBytes: backupMemoryBytes(flags) });
      for (const t of vcenterTargetsOf(objects)) targets.set(t.vcenter, t);
    }
    for (const server of flags.server) {
      const vcenter = vcenterKey(server);
      targets.set(vcenter, { vcenter, server, ...(flags.thumbprint ? { thumbprint: flags.thumbprint } : {}) });
    }
    // A vCenter named with --server is one the operator chose, and a thumbprint given with it is the
    // operator's own: both are trusted with the operator's credentials (the certificate is still checked).
    const pinned = flags.thumbprint ? flags.server.map((server) => `${server}=${flags.thumbprint}`) : [];
    const overrides = await credentialOverrides({
      ...flags,
      vsphereThumbprint: [...pinned, ...flags.vsphereThumbprint],
      vsphereTrustedHost: [...flags.server, ...flags.vsphereTrustedHost],
    });
    const { ready, missing } = withCredentials([...targets.values()], overrides, CLI_WORDS);
    if (missing.length > 0) {
      throw new UsageError('inventory', missing.map((m) => (m.ok ? '' : `vCenter ${m.vcenter}: ${m.reason}`)).join('\n'));
    }
    const { listVCenters } = await import('../vsphere/inventory.js');
    const listings = await listVCenters(ready, {
      insecureSkipVerify: flags.insecureSkipVerify === true,
      timeoutMs: flags.vsphereTimeout,
      debug,
    });
    const failed = listings.map((l) => withCertificateHint(l, INVENTORY_CERTIFICATE_HINTS)).filter((l) => !l.ok);
    for (const l of failed) if (!l.ok) process.stderr.write(`Error: vCenter ${l.vcenter}: ${l.reason}\n`);
    const inventories: VCenterInventory[] = listings.flatMap((l) => (l.ok ? [{ vcenter: l.vcenter, vms: l.vms }] : []));
    if (failed.length > 0) {
      // A partial snapshot would later make the missing vCenter's machines look Unknown for the wrong reason.
      process.stderr.write(`No snapshot written: ${failed.length} vCenter(s) could not be read.\n`);
      process.exitCode = EXIT_ERROR;
      return;
    }
    await writeInventorySnapshot(flags.output, inventories, new Date());
    for (const inv of inventories) process.stdout.write(`${inv.vcenter}: ${inv.vms.length} VMs\n`);
    process.stdout.write(`Inventory snapshot written to ${flags.output}\n`);
    process.exitCode = EXIT_OK;
  });
}
