/**
 * `drift-detector`: the command-line door. Flag names follow VMware's original tool
 * (`detect --backup --format --ignore-healthy-resources --insecure-skip-verify -o
 * --skip-access-apiserver`, global `-D/--debug`).
 */
import { Command, CommanderError } from 'commander';
import { DETECTOR_VERSION } from '../version.js';
import { addDetectCommand } from './detect-command.js';
import { addInventoryCommand } from './inventory-command.js';
import { addServeCommand } from './serve-command.js';
import { addCheckCommand } from './check-command.js';
import { addRemediateCommand } from './remediate-command.js';
import { addBaselineCommand } from './baseline-command.js';
import { addUnpauseCommand } from './unpause-command.js';
import { EXIT_ERROR, failureOutcome } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('drift-detector')
    .description('Detect the drift between a Velero backup of a TKG management cluster and its vSphere infrastructure')
    .version(DETECTOR_VERSION)
    .option('-D, --debug', 'log each step to stderr')
    // One line after a usage mistake, not the whole help: the error must stay on screen.
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  addDetectCommand(program);
  addInventoryCommand(program);
  addServeCommand(program);
  addCheckCommand(program);
  addRemediateCommand(program);
  addBaselineCommand(program);
  addUnpauseCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end with code 0; usage mistakes were already printed by commander.
      return err.exitCode === 0 ? 0 : EXIT_ERROR;
    }
    const { code, stderr } = failureOutcome(err);
    process.stderr.write(stderr);
    return code;
  }
}
