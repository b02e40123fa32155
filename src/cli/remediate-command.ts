import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { applyRemediation, type ApplyResult } from '../app/remediate.js';
import { DEFAULTS } from '../config/defaults.js';
import { credentialOverrides } from '../config/vcenter-credentials.js';
import type { DriftReport } from '../model/report.js';
import { readReportFile } from '../report/read.js';
import { remediationPlan, type MachinePlan } from '../remediate/plan.js';
import { renderPlanJson, renderPlanSh, renderPlanText } from '../remediate/render.js';
import { printable } from '../util/shell.js';
import { backupOptions, backupSourceFrom, type BackupFlags } from './backup-flags.js';
import { CLI_WORDS } from './words.js';
import { EXIT_ACTION_NEEDED, EXIT_ERROR, EXIT_OK, UsageError } from './errors.js';
import { debugLogger } from './log.js';
import { credentialOptions, durationOption } from './options.js';
import { checkOutput, STDOUT, writeOutput } from './output.js';

interface RemediateFlags extends BackupFlags {
  report?: string;
  format: 'text' | 'json' | 'sh';
  output?: string;
  apply?: boolean;
  yes?: boolean;
  etcdMemberRemoved: string[];
  /** Durations in ms. */
  maxReportAge: number;
  insecureSkipVerify?: boolean;
  skipAccessApiserver?: boolean;
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
  vsphereTimeout: number;
}

const RENDER = { text: renderPlanText, json: renderPlanJson, sh: renderPlanSh } as const;
const names = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean),
];

export function addRemediateCommand(program: Command): void {
  const command = program
    .command('remediate')
    .description("Turn a drift report into an ordered remediation plan per Ghost; with --apply, remove the Ghosts' Nodes and VMs")
    .option('--report <file>', 'the JSON report written by `drift-detector detect`')
    .addOption(
      new Option('--format <format>', 'text to read, json to drive, sh to review and run').choices(['text', 'json', 'sh']).default('text'),
    )
    .option('-o, --output <file>', 'write the plan to this file (- or none: stdout)')
    .option('--apply', "do it: delete the Ghosts' Nodes, power off and destroy their VMs (dry run without it)")
    .option('--yes', 'with --apply: do not ask per VM (needed when stdin is not a terminal)')
    .option(
      '--etcd-member-removed <names>',
      'control-plane Ghosts whose etcd member is already removed (comma-separated; repeatable)',
      names,
      [],
    )
    .addOption(
      durationOption('remediate', '--max-report-age <duration>', 'with --apply: refuse an older report', DEFAULTS.remediate.maxReportAgeMs),
    )
    .option('--insecure-skip-verify', 'skip TLS verification of vCenters and workload API servers')
    .option('--skip-access-apiserver', "do not contact the workload clusters' API servers (their Nodes stay)");
  backupOptions(command);
  credentialOptions(command);
  command.action(async (flags: RemediateFlags, cmd: Command) => {
    if (!flags.report) throw new UsageError('remediate', 'required option --report <file> not given');
    if (!flags.apply) refuseApplyOnly(flags, cmd);
    const output = flags.output ?? STDOUT;
    if (!flags.apply) await checkOutput(output);
    const report: DriftReport = await readReportFile(flags.report);
    if (!flags.apply) {
      await writeOutput(output, RENDER[flags.format](remediationPlan(report)), flags.format === 'sh' ? 0o755 : 0o644);
      if (output !== STDOUT) process.stdout.write(`Remediation plan (${flags.format}) written to ${printable(output)}\n`);
      process.exitCode = EXIT_OK;
      return;
    }
    const debug = debugLogger(cmd.optsWithGlobals<{ debug?: boolean }>().debug === true);
    process.exitCode = exitCodeOf(await apply(report, flags, debug));
  });
}

async function apply(report: DriftReport, flags: RemediateFlags, debug: (m: string) => void): Promise<ApplyResult> {
  if (!flags.yes && !process.stdin.isTTY)
    throw new UsageError('remediate', '--apply asks before each VM: give --yes when stdin is not a terminal');
  if (!flags.backup && !flags.backupName) {
    if (!report.metadata?.backup) throw new UsageError('remediate', '--apply needs --backup (the report names none)');
    flags.backup = report.metadata.backup;
  }
  const source = await backupSourceFrom('remediate', flags);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${printable(line)}\n`);
  const result = await applyRemediation(report, source, {
    insecureSkipVerify: flags.insecureSkipVerify === true,
    skipAccessApiServer: flags.skipAccessApiserver === true,
    credentials: await credentialOverrides(flags),
    words: CLI_WORDS,
    vcenterTimeoutMs: flags.vsphereTimeout,
    maxReportAgeMs: flags.maxReportAge,
    etcdMemberRemoved: new Set(flags.etcdMemberRemoved),
    confirm: flags.yes ? () => Promise.resolve(true) : askOnTerminal,
    log,
    debug,
  });
  for (const e of result.entries) process.stdout.write(`${[e.outcome, e.cluster ?? '', e.machine, e.reason].map(printable).join('\t')}\n`);
  if (result.entries.length === 0) process.stdout.write('no Ghost in the report: nothing to do\n');
  return result;
}

/** Options that only --apply reads: given without it, the operator expected an action that a dry run does not take. */
function refuseApplyOnly(flags: RemediateFlags, cmd: Command): void {
  const given = [
    flags.yes ? '--yes' : undefined,
    flags.etcdMemberRemoved.length > 0 ? '--etcd-member-removed' : undefined,
    cmd.getOptionValueSource('maxReportAge') === 'cli' ? '--max-report-age' : undefined,
  ].filter((f) => f !== undefined);
  if (given.length > 0) {
    throw new UsageError(
      'remediate',
      `${given.join(' and ')} only ${given.length === 1 ? 'means' : 'mean'} something with --apply: add --apply to act, or leave ${given.length === 1 ? 'it' : 'them'} out for the plan`,
    );
  }
}

async function askOnTerminal(entry: MachinePlan): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      printable(`Delete Node and destroy VM ${entry.machine} of ${entry.cluster ?? '?'} (BIOS UUID ${entry.biosUUID ?? '-'})? [y/N] `),
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** 0 every Ghost done (or none to do), 1 some done, 2 none done. */
export function exitCodeOf(result: ApplyResult): number {
  const done = result.entries.filter((e) => e.outcome === 'done').length;
  if (done === result.entries.length) return EXIT_OK;
  return done > 0 ? EXIT_ACTION_NEEDED : EXIT_ERROR;
}
