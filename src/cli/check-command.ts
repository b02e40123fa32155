/**
 * `drift-detector check`: asks a running `drift-detector serve` for the restore gate's verdict on
 * every cluster of a backup. Exit codes: 0 every cluster ALLOWed, 1 any BLOCKed, 2 error.
 * The gRPC client is loaded only when the command runs.
 */
import { Command, Option } from 'commander';
import { DEFAULTS } from '../config/defaults.js';
import type { CheckFlags } from './check-flags.js';
import { UsageError } from './errors.js';
import { collect, durationOption } from './options.js';

export function addCheckCommand(program: Command): void {
  program
    .command('check')
    .description('Ask a drift-detector service whether the clusters of a backup may be restored (exit 0 allow, 1 block, 2 error)')
    .requiredOption('--server <host:port>', 'the service address')
    .option('--backup-name <name>', 'the Velero backup')
    .option(
      '--storage-location <name>',
      'the storage location of the backup, one the service is configured with (default: the one its Backup names, else each configured one); with --watch, only this location',
    )
    .option('--ca <file>', 'CA certificate (PEM) of the service; turns TLS on')
    .option('--cert <file>', 'client certificate (PEM), for mutual TLS')
    .option('--key <file>', 'client private key (PEM), for mutual TLS')
    .option('--tls', "use TLS with the system's trusted CAs")
    .option('--token-file <file>', 'file holding the bearer token')
    .option('--override <reason>', 'check as a Restore annotated driftdetector.dev/override: "<reason>" would be')
    .option('--override-clusters <ns/name,...>', 'narrow the override to these clusters')
    .addOption(new Option('--failure-policy <policy>', "instead of the service's failurePolicy").choices(['Fail', 'Ignore']))
    .option('--skip-access-apiserver', "analyse without reading the workload clusters' Nodes")
    .option('--refresh', 'run a fresh analysis rather than reuse a cached one')
    .option(
      '--watch',
      "follow the service's restore readiness (serve with watch.enabled): each storage location's newest backup, on every change, until --timeout",
    )
    .option(
      '--unpause',
      "ask for the unpause forecast of the service's management cluster instead (exit 0 all SafeToUnpause, 1 review or unsafe, 2 error)",
    )
    .option('--cluster <namespace/name>', 'with --unpause: a Cluster to forecast (repeatable; default: all)', collect, [])
    .addOption(durationOption('check', '--timeout <duration>', 'deadline of the call', DEFAULTS.check.timeoutMs))
    .action(async (flags: CheckFlags) => {
      try {
        await runChosen(flags);
      } finally {
        exitAfterGrace();
      }
    });
}

/** `--watch`, `--unpause`, or the Check of one backup. */
async function runChosen(flags: CheckFlags): Promise<void> {
  if (flags.watch) return (await import('./check-watch.js')).runWatch(flags);
  if (flags.unpause) return (await import('./check-unpause.js')).runUnpauseCheck(flags);
  if (flags.cluster.length > 0) throw new UsageError('check', '--cluster only with --unpause');
  return (await import('./check-run.js')).runCheck(flags);
}

/** How long a finished check waits for its connections to close before it exits anyway. */
const CLOSE_GRACE_MS = 2000;

/**
 * A check ends when its call has: grpc-js can keep a socket open after a reset stream, even once
 * the client is closed, which would hold the process forever. An unref'd timer does not keep a
 * process alive that ends on its own; it ends one that would not, with the exit code set by then.
 */
function exitAfterGrace(): void {
  setTimeout(() => process.exit(), CLOSE_GRACE_MS).unref();
}
