import { Command, Option } from 'commander';
import { detectDrift } from '../app/detect.js';
import { readIgnoreFile } from '../app/ignore-file.js';
import { DEFAULTS } from '../config/defaults.js';
import { credentialOverrides } from '../config/vcenter-credentials.js';
import type { DriftReport } from '../model/report.js';
import { renderConsole } from '../report/console.js';
import { withoutHealthy } from '../report/filter.js';
import { renderHtml } from '../report/html.js';
import { renderJson } from '../report/json.js';
import { remediationPlan } from '../remediate/plan.js';
import { readInventorySnapshot } from '../vsphere/snapshot.js';
import { backupMemoryBytes, backupOptions, backupSourceFrom, type BackupFlags } from './backup-flags.js';
import { credentialOptions, durationOption, positiveInt } from './options.js';
import { runDeadline } from './deadline.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, UsageError } from './errors.js';
import { debugLogger, wantsColor } from './log.js';
import { checkOutput, STDOUT, wordsStream, writeOutput } from './output.js';
import { CLI_WORDS } from './words.js';

interface DetectFlags extends BackupFlags {
  format?: string;
  output: string[];
  ignoreHealthyResources?: boolean;
  insecureSkipVerify?: boolean;
  skipAccessApiserver?: boolean;
  inventory?: string;
  ignoreFile?: string;
  exitCode?: boolean;
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
  vsphereCaFile?: string;
  vsphereThumbprint: string[];
  vsphereTrustedHost: string[];
  /** Durations in ms. */
  vsphereTimeout: number;
  apiserverTimeout: number;
  apiserverConcurrency: number;
  timeout: number;
}

export function addDetectCommand(program: Command): void {
  const command = program.command('detect').description('Detect the drifts between the backup and the infrastructure, and write a report');
  backupOptions(command)
    .addOption(
      new Option(
        '--format <formats>',
        'json or html, or several comma-separated, one per -o in order (default: by extension, json unless .html)',
      ),
    )
    .option('--ignore-healthy-resources', 'leave Healthy clusters and machines out of the lists')
    .option('--insecure-skip-verify', 'skip TLS verification of vCenters and workload API servers')
    .option(
      '-o, --output <file>',
      'where to write the report (- for stdout, the summary then goes to stderr); repeat for several formats',
      (v: string, p: string[]) => [...p, v],
      [],
    )
    .option('--skip-access-apiserver', "do not contact the workload clusters' API servers")
    .option('--inventory <file>', 'use an inventory snapshot (from `drift-detector inventory`) instead of live vCenters')
    .option(
      '--ignore-file <file>',
      'VMs you know (glob patterns on names or inventory paths, e.g. from `drift-detector baseline`): not flagged',
    )
    .option('--exit-code', 'exit 0 when nothing is to be done, 1 when remediation or confirmation is needed, 2 on error')
    .addOption(
      durationOption(
        'detect',
        '--apiserver-timeout <duration>',
        "timeout for reading one workload cluster's Nodes",
        DEFAULTS.apiserver.timeoutMs,
      ),
    )
    .option('--apiserver-concurrency <n>', 'workload clusters read at once', positiveInt, DEFAULTS.apiserver.concurrency)
    .addOption(
      durationOption(
        'detect',
        '--timeout <duration>',
        'bound on the whole run; past it, detect stops with an error',
        DEFAULTS.detect.timeoutMs,
      ),
    );
  credentialOptions(command);
  command.action(runDetect);
}

async function runDetect(flags: DetectFlags, cmd: Command): Promise<void> {
  const { debug: debugEnabled } = cmd.optsWithGlobals<{ debug?: boolean }>();
  const debug = debugLogger(debugEnabled === true);
  const outputs = reportOutputs(flags);
  for (const out of outputs) await checkOutput(out.path);

  // Before anything is read, and before the deadline's timer starts: a bad credential or trust
  // flag is a usage problem, and a refused file must end the process, not leave the timer holding it.
  const credentials = await credentialOverrides(flags);
  const ignore = flags.ignoreFile ? await readIgnoreFile(flags.ignoreFile) : undefined;
  const inventory = flags.inventory ? { path: flags.inventory, snapshot: await readInventorySnapshot(flags.inventory) } : undefined;
  const source = await backupSourceFrom('detect', flags);
  const deadline = runDeadline('detect', flags.timeout, 'the backup and vCenters are this slow');
  const report = await detectDrift(source, {
    signal: deadline.signal,
    insecureSkipVerify: flags.insecureSkipVerify === true,
    skipAccessApiServer: flags.skipAccessApiserver === true,
    inventory,
    ignore,
    credentials,
    words: CLI_WORDS,
    vcenterTimeoutMs: flags.vsphereTimeout,
    backupMemoryBudgetBytes: backupMemoryBytes(flags),
    apiserverTimeoutMs: flags.apiserverTimeout,
    apiserverConcurrency: flags.apiserverConcurrency,
    debug,
  }).finally(deadline.done);
  const shown = flags.ignoreHealthyResources ? withoutHealthy(report) : report;
  for (const out of outputs) {
    await writeOutput(out.path, out.format === 'json' ? renderJson(shown) : renderHtml(shown, remediationPlan(shown)), 0o644);
    debug(`report: ${out.format} written to ${out.path}`);
  }
  const words = wordsStream(outputs.map((o) => o.path));
  words.write(renderConsole(shown, { color: wantsColor(words), written: outputs }));
  process.exitCode = flags.exitCode ? exitCodeFor(report) : EXIT_OK;
}

type ReportFormat = 'json' | 'html';

/**
 * Which file gets which format: `--format a,b` pairs with the -o files in order; without it each
 * file's extension decides (.html/.htm: html, anything else: json, the original tool's format).
 */
export function reportOutputs(flags: Pick<DetectFlags, 'format' | 'output'>): Array<{ path: string; format: ReportFormat }> {
  if (flags.output.length === 0) throw new UsageError('detect', 'required option -o, --output <file> not given');
  if (flags.output.filter((o) => o === STDOUT).length > 1) throw new UsageError('detect', '-o - (standard output) can be given once');
  const byExtension = (path: string): ReportFormat => (/\.html?$/i.test(path) ? 'html' : 'json');
  if (!flags.format) return flags.output.map((path) => ({ path, format: byExtension(path) }));
  const formats = flags.format.split(',').map((f) => f.trim());
  const unknown = formats.find((f) => f !== 'json' && f !== 'html');
  if (unknown !== undefined) throw new UsageError('detect', `--format ${unknown}: expected json or html`);
  if (formats.length !== flags.output.length) {
    throw new UsageError('detect', `--format names ${formats.length} format(s) for ${flags.output.length} -o file(s): give one -o per format`);
  }
  return flags.output.map((path, i) => ({ path, format: formats[i] as ReportFormat }));
}

/** `--exit-code`: 0 nothing to do (Healthy, or only Stale that Cluster API heals), 1 otherwise. */
export function exitCodeFor(report: DriftReport): number {
  const status = report.summary.status;
  return status === 'Healthy' || status === 'ManualRemediationNotRequired' ? EXIT_OK : EXIT_ACTION_NEEDED;
}
