/**
 * `drift-detector unpause`: what Cluster API, the control plane and CAPV will do when each paused
 * Cluster of a live management cluster is unpaused (the forecast, its dry run); with --apply, the
 * guarded unpause and, with --watch, its tripwire (docs/unpause-forecast.md).
 * Exit codes: 0 every cluster SafeToUnpause (with --apply: all unpaused, the tripwire quiet),
 * 1 Review or Unsafe (a cluster left paused, the tripwire fired), 2 error.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS } from '../config/defaults.js';
import { givenFlags, UsageError } from './errors.js';
import { collect, credentialOptions, durationOption, positiveInt } from './options.js';
import type { UnpauseFlags } from './unpause-flags.js';

/** `--cluster ns/name`. */
function clusterName(value: string, previous: string[]): string[] {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value.trim())) {
    throw new InvalidArgumentError('expected namespace/name of a Cluster');
  }
  return collect(value.trim(), previous);
}

export function addUnpauseCommand(program: Command): void {
  const command = program
    .command('unpause')
    .description(
      'Forecast what Cluster API will do when each paused Cluster is unpaused (exit 0 all safe, 1 review or unsafe, 2 error); with --apply, unpause what the forecast allows',
    )
    .option('--kubeconfig <file>', 'kubeconfig of the management cluster (default: KUBECONFIG, in-cluster, ~/.kube/config)')
    .option('--cluster <namespace/name>', 'a Cluster to forecast (repeatable; default: all)', clusterName, [])
    .addOption(new Option('--format <format>', 'console, json or html').choices(['console', 'json', 'html']).default('console'))
    .option('-o, --output <file>', 'write the forecast to this file instead of stdout')
    .option('--insecure-skip-verify', 'skip TLS verification of vCenters and workload API servers')
    .option('--skip-access-apiserver', "do not contact the workload clusters' API servers (what needs their Nodes is unknown)")
    .addOption(
      durationOption(
        'unpause',
        '--apiserver-timeout <duration>',
        "timeout for reading one workload cluster's Nodes and etcd Pods",
        DEFAULTS.apiserver.timeoutMs,
      ),
    )
    .option('--apiserver-concurrency <n>', 'workload clusters read at once', positiveInt, DEFAULTS.apiserver.concurrency)
    .addOption(
      durationOption(
        'unpause',
        '--timeout <duration>',
        'bound on the forecast; past it, unpause stops with an error',
        DEFAULTS.unpause.timeoutMs,
      ),
    )
    .option('--apply', 'unpause: SafeToUnpause clusters, ReviewBeforeUnpause ones with --accept, UnsafeToUnpause never')
    .option('--yes', 'with --apply: do not ask per cluster (needed when stdin is not a terminal)')
    .option(
      '--accept <digest>',
      "with --apply: the digest of the forecast you read; ReviewBeforeUnpause clusters are unpaused only while it is the new forecast's",
    )
    .option(
      '--skip-remediation',
      'with --apply: annotate the Machines a MachineHealthCheck would delete with cluster.x-k8s.io/skip-remediation first',
    )
    .addOption(
      durationOption(
        'unpause',
        '--watch <duration>',
        'with --apply: for this long (e.g. 10m), pause a cluster again on a Machine or etcd change the forecast did not list',
      ),
    );
  credentialOptions(command);
  command.action(async (flags: UnpauseFlags, cmd: Command) => {
    refuseApplyOptions(flags);
    const { runUnpause } = await import('./unpause-run.js');
    process.exitCode = await runUnpause(flags, cmd.optsWithGlobals<{ debug?: boolean }>().debug === true);
  });
}

/** Options that only mean something with --apply are refused without it. */
function refuseApplyOptions(flags: UnpauseFlags): void {
  if (flags.apply) return;
  const given = givenFlags([
    ['--yes', flags.yes],
    ['--accept', flags.accept],
    ['--skip-remediation', flags.skipRemediation],
    ['--watch', flags.watch],
  ]);
  if (given.length > 0) throw new UsageError('unpause', `${given.join(', ')} only with --apply (without it, unpause only forecasts)`);
}
