import { Command } from 'commander';
import { takeInventorySnapshot } from '../app/inventory.js';
import type { CertificateProblem } from '../model/inventory.js';
import { EXIT_ERROR, EXIT_OK, UsageError } from './errors.js';
import { debugLogger } from './log.js';
import { backupMemoryBytes, backupOptions, backupSourceFrom, type BackupFlags } from './backup-flags.js';
import { CLI_WORDS } from './words.js';
import { collect, credentialOptions } from './options.js';
import { checkOutput, STDOUT, wordsStream, writeOutput } from './output.js';

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
    .option('-o, --output <file>', 'where to write the snapshot (- for standard output)');
  backupOptions(command);
  credentialOptions(command);
  command.action(async (flags: InventoryFlags, cmd: Command) => {
    const debug = debugLogger(cmd.optsWithGlobals<{ debug?: boolean }>().debug === true);
    if (!flags.output) throw new UsageError('inventory', 'required option -o, --output <file> not given');
    const output = flags.output;
    await checkOutput(output);
    const fromBackup = flags.backup !== undefined || flags.backupName !== undefined;
    if (flags.server.length === 0 && !fromBackup)
      throw new UsageError('inventory', 'give --server <server>, or a backup to take the vCenters from');
    const result = await takeInventorySnapshot({
      ...(fromBackup ? { backup: await backupSourceFrom('inventory', flags) } : {}),
      servers: flags.server,
      ...(flags.thumbprint ? { thumbprint: flags.thumbprint } : {}),
      credentials: flags,
      output: (text) =>
        writeOutput(output, text, 0o644).catch((err: unknown) => {
          throw new Error(`${output}: cannot write the inventory snapshot: ${(err as Error).message}`, { cause: err });
        }),
      insecureSkipVerify: flags.insecureSkipVerify === true,
      timeoutMs: flags.vsphereTimeout,
      maxRetainedBytes: backupMemoryBytes(flags),
      words: CLI_WORDS,
      certificateHints: INVENTORY_CERTIFICATE_HINTS,
      debug,
    });
    if ('missing' in result) throw new UsageError('inventory', result.missing.map((m) => `vCenter ${m.vcenter}: ${m.reason}`).join('\n'));
    if (!result.written) {
      for (const l of result.failed) process.stderr.write(`Error: vCenter ${l.vcenter}: ${l.reason}\n`);
      process.stderr.write(`No snapshot written: ${result.failed.length} vCenter(s) could not be read.\n`);
      process.exitCode = EXIT_ERROR;
      return;
    }
    // With -o -, the snapshot took stdout: these words go to stderr.
    const words = wordsStream([output]);
    for (const inv of result.inventories) words.write(`${inv.vcenter}: ${inv.vms.length} VMs\n`);
    words.write(`Inventory snapshot written to ${output === STDOUT ? 'standard output' : output}\n`);
    process.exitCode = EXIT_OK;
  });
}
