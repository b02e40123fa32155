import type { Command } from 'commander';
import { readReportFile } from '../report/read.js';
import { renderBaseline } from '../report/baseline.js';
import { printable } from '../util/shell.js';
import { EXIT_OK, UsageError } from './errors.js';
import { checkOutput, STDOUT, writeOutput } from './output.js';

interface BaselineFlags {
  report?: string;
  output?: string;
}

export function addBaselineCommand(program: Command): void {
  program
    .command('baseline')
    .description("Write an ignore file of a report's infrastructure machines, so that `detect --ignore-file` flags only new ones")
    .option('--report <file>', 'the JSON report written by `drift-detector detect`')
    .option('-o, --output <file>', 'write the ignore file here (- or none: stdout)')
    .action(async (flags: BaselineFlags) => {
      if (!flags.report) throw new UsageError('baseline', 'required option --report <file> not given');
      const output = flags.output ?? STDOUT;
      await checkOutput(output);
      const report = await readReportFile(flags.report);
      const text = renderBaseline(report);
      const ignored = report.summary.ignoredVMs ?? 0;
      if (ignored > 0) {
        process.stderr.write(
          `note: the report already ignored ${ignored} VM(s)${report.metadata?.ignoreFile ? ` by ${printable(report.metadata.ignoreFile)}` : ''}; ` +
            'this baseline does not list them: keep that file, or append (>>) to it\n',
        );
      }
      await writeOutput(output, text, 0o644);
      if (output !== STDOUT) process.stdout.write(`Ignore file written to ${printable(output)}\n`);
      process.exitCode = EXIT_OK;
    });
}
