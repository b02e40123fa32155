import { Command, Option } from 'commander';
import { detectDrift, type DoorWords } from '../app/detect.js';
import { DEFAULTS } from '../config/defaults.js';
import { credentialOverrides } from '../config/vcenter-credentials.js';
import type { DriftReport } from '../model/report.js';
import { renderConsole } from '../report/console.js';
import { withoutHealthy } from '../report/filter.js';
import { writeJsonReport } from '../report/json.js';
import { assertWritable } from '../util/atomic-write.js';
import { readInventorySnapshot } from '../vsphere/snapshot.js';
import { backupOptions, backupSourceFrom, type BackupFlags } from './backup-flags.js';
import { credentialOptions, inSeconds, positiveInt, seconds } from './options.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, UsageError } from './errors.js';
import { debugLogger, wantsColor } from './log.js';

/** How the command line words what the detection cannot know: where overrides come from, what to give. */
export const CLI_WORDS: DoorWords = {
  overridesFrom: 'the command line or environment',
  credentialsHint: 'give --vsphere-username and VSPHERE_PASSWORD, or --vsphere-credentials',
};

interface DetectFlags extends BackupFlags {
  format: string;
  output?: string;
  ignoreHealthyResources?: boolean;
  insecureSkipVerify?: boolean;
  skipAccessApiserver?: boolean;
  inventory?: string;
  exitCode?: boolean;
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
  vsphereTimeout: number;
  apiserverTimeout: number;
  apiserverConcurrency: number;
}

export function addDetectCommand(program: Command): void {
  const command = program.command('detect').description('Detect the drifts between the backup and the infrastructure, and write a report');
  backupOptions(command)
    .addOption(new Option('--format <format>', 'format of the report file').choices(['json']).default('json'))
    .option('--ignore-healthy-resources', 'leave Healthy clusters and machines out of the lists')
    .option('--insecure-skip-verify', 'skip TLS verification of vCenters and workload API servers')
    .option('-o, --output <file>', 'where to write the report')
    .option('--skip-access-apiserver', "do not contact the workload clusters' API servers")
    .option('--inventory <file>', 'use an inventory snapshot (from `drift-detector inventory`) instead of live vCenters')
    .option('--exit-code', 'exit 0 when nothing is to be done, 1 when remediation or confirmation is needed, 2 on error')
    .option(
      '--apiserver-timeout <seconds>',
      "timeout for reading one workload cluster's Nodes",
      seconds,
      inSeconds(DEFAULTS.apiserver.timeoutMs),
    )
    .option('--apiserver-concurrency <n>', 'workload clusters read at once', positiveInt, DEFAULTS.apiserver.concurrency);
  credentialOptions(command);
  command.action(async (flags: DetectFlags, cmd: Command) => {
    const { debug: debugEnabled } = cmd.optsWithGlobals<{ debug?: boolean }>();
    const debug = debugLogger(debugEnabled === true);
    if (!flags.output) throw new UsageError('detect', 'required option -o, --output <file> not given');
    await assertWritable(flags.output);

    const inventory = flags.inventory ? { path: flags.inventory, snapshot: await readInventorySnapshot(flags.inventory) } : undefined;
    const source = await backupSourceFrom('detect', flags);
    const report = await detectDrift(source, {
      insecureSkipVerify: flags.insecureSkipVerify === true,
      skipAccessApiServer: flags.skipAccessApiserver === true,
      inventory,
      credentials: await credentialOverrides(flags),
      words: CLI_WORDS,
      vcenterTimeoutMs: flags.vsphereTimeout * 1000,
      apiserverTimeoutMs: flags.apiserverTimeout * 1000,
      apiserverConcurrency: flags.apiserverConcurrency,
      debug,
    });
    const shown = flags.ignoreHealthyResources ? withoutHealthy(report) : report;
    await writeJsonReport(flags.output, shown);
    debug(`report: written to ${flags.output}`);
    process.stdout.write(renderConsole(shown, { color: wantsColor(process.stdout), reportPath: flags.output }));
    process.exitCode = flags.exitCode ? exitCodeFor(report) : EXIT_OK;
  });
}

/** `--exit-code`: 0 nothing to do (Healthy, or only Stale that Cluster API heals), 1 otherwise. */
export function exitCodeFor(report: DriftReport): number {
  const status = report.summary.status;
  return status === 'Healthy' || status === 'ManualRemediationNotRequired' ? EXIT_OK : EXIT_ACTION_NEEDED;
}
