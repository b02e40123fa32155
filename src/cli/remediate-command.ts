import { Command, Option } from 'commander';
import type { DriftReport } from '../model/report.js';
import { readReportFile } from '../report/read.js';
import { remediationPlan } from '../remediate/plan.js';
import { renderPlanJson, renderPlanSh, renderPlanText } from '../remediate/render.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { EXIT_OK, UsageError } from './errors.js';

interface RemediateFlags {
  report?: string;
  format: 'text' | 'json' | 'sh';
  output?: string;
}

const RENDER = { text: renderPlanText, json: renderPlanJson, sh: renderPlanSh } as const;

export function addRemediateCommand(program: Command): void {
  const command = program
    .command('remediate')
    .description('Turn a drift report into an ordered remediation plan (etcd member, Node, VM) per Ghost')
    .option('--report <file>', 'the JSON report written by `drift-detector detect`')
    .addOption(
      new Option('--format <format>', 'text to read, json to drive, sh to review and run').choices(['text', 'json', 'sh']).default('text'),
    )
    .option('-o, --output <file>', 'write the plan to this file instead of stdout');
  command.action(async (flags: RemediateFlags) => {
    if (!flags.report) throw new UsageError('remediate', 'required option --report <file> not given');
    const report: DriftReport = await readReportFile(flags.report);
    const text = RENDER[flags.format](remediationPlan(report));
    if (flags.output) await writeFileAtomic(flags.output, text, flags.format === 'sh' ? 0o755 : 0o644);
    else process.stdout.write(text);
    process.exitCode = EXIT_OK;
  });
}
