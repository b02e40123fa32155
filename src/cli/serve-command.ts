import { Command, Option } from 'commander';
import { DEFAULTS, WATCH_SOURCES } from '../config/defaults.js';
import { FAILURE_POLICIES, GATE_MODES } from '../config/gate-settings.js';
import type { ConfigOverrides } from '../config/service-sources.js';
import { durationText } from '../config/values.js';

interface ServeFlags extends ConfigOverrides {
  config?: string;
}

/**
 * The flags set no commander default, which would hide the file's value: their help names the
 * default the configuration takes when neither the file, the environment nor the flag sets it.
 */
const byDefault = (value: string | number) => `(default: ${value})`;

/** After the bounded shutdown, the longest the process lingers before it exits. */
const SHUTDOWN_GRACE_MS = 1000;

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the gRPC service: drift reports and restore verdicts for backups in the storage locations, and the ' +
        'Velero RestoreItemAction that gates the restore of Cluster API Clusters',
    )
    .option('--config <file>', 'the YAML configuration (see README: Configuration); flags and DRIFT_DETECTOR_* variables override it')
    .option('--listen <address>', `host:port or unix:/path to listen on; non-loopback needs TLS ${byDefault(DEFAULTS.service.listen)}`)
    .option('--metrics-listen <address>', 'host:port for Prometheus metrics (GET /metrics)')
    .option('--storage-location <file>', 'the default storage location: a BackupStorageLocation manifest or a flat location file')
    .addOption(
      new Option(
        '--mode <mode>',
        `block: fail the restore of a drifted Cluster; annotate: restore it annotated ${byDefault(DEFAULTS.gate.mode)}`,
      ).choices(GATE_MODES),
    )
    .addOption(
      new Option(
        '--failure-policy <policy>',
        `what unconfirmed clusters and failed analyses get ${byDefault(DEFAULTS.gate.failurePolicy)}`,
      ).choices(FAILURE_POLICIES),
    )
    .option('--pause-on-drift', 'annotate mode: restore drifted Clusters with spec.paused: true')
    .option('--cache-ttl <duration>', `how long a finished analysis is reused, e.g. 1h ${byDefault(durationText(DEFAULTS.service.cacheTtlMs))}`)
    .option('--analysis-timeout <duration>', `bound on one analysis, e.g. 30m ${byDefault(durationText(DEFAULTS.service.analysisTimeoutMs))}`)
    .option('--skip-access-apiserver', "do not read the workload clusters' Nodes")
    .option('--insecure-skip-verify', 'skip TLS verification of vCenters and workload API servers')
    .option('--watch', "re-analyse each storage location's newest Completed backup continuously (metrics, WatchReadiness)")
    .option(
      '--watch-interval <duration>',
      `how often the watch re-analyses the newest backup, e.g. 5m ${byDefault(durationText(DEFAULTS.watch.intervalMs))}`,
    )
    .addOption(
      new Option(
        '--watch-source <source>',
        `where the watch lists finished backups: the cluster's Backup objects or the bucket ${byDefault(DEFAULTS.watch.source)}`,
      ).choices(WATCH_SOURCES),
    )
    .option('--token-file <file>', 'require `authorization: Bearer <token>` with the token in this file')
    .option('--tls-cert <file>', 'server certificate (PEM)')
    .option('--tls-key <file>', 'server private key (PEM)')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mutual TLS)')
    .option(
      '--webhook-listen <address>',
      'host:port of the admission webhook on Restores (HTTPS; needs --webhook-tls-cert and --webhook-tls-key)',
    )
    .option('--webhook-tls-cert <file>', "the webhook's serving certificate (PEM; reloaded when the file changes)")
    .option('--webhook-tls-key <file>', "the webhook's private key (PEM; reloaded when the file changes)")
    .option('--webhook-deadline <duration>', `answer each admission within this ${byDefault(durationText(DEFAULTS.webhook.deadlineMs))}`)
    .addOption(
      new Option('--log-level <level>', `JSON log level on stderr ${byDefault(DEFAULTS.service.logLevel)}`).choices([
        'debug',
        'info',
        'warn',
        'error',
      ]),
    )
    .action(runServe);
}

/** Starts the service (its doors: gRPC, webhook, metrics), then waits for SIGTERM or SIGINT and stops within the bounds. */
async function runServe(flags: ServeFlags, cmd: Command): Promise<void> {
  const { debug } = cmd.optsWithGlobals<{ debug?: boolean }>();
  const { config: file, ...overrides } = flags;
  if (debug && !overrides.logLevel) overrides.logLevel = 'debug';
  // The service's modules load only when it runs, so that detect and inventory start fast.
  const { startServiceFrom } = await import('../serve/start.js');
  const running = await startServiceFrom({ ...(file ? { file } : {}), overrides });
  const logger = running.assembly.logger;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info('signal received', { signal });
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      const exit = () => {
        // Aborted analyses unwind in well under a second; whatever still holds the loop then does not hold the exit.
        setTimeout(() => process.exit(), SHUTDOWN_GRACE_MS).unref();
        resolve();
      };
      running.shutdown().then(exit, exit);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
