import { errorMessage } from '../util/values.js';

/** Exit codes: 0 the report was written (with --exit-code: nothing to do), 1 action needed, 2 error. */
export const EXIT_OK = 0;
export const EXIT_ACTION_NEEDED = 1;
export const EXIT_ERROR = 2;

/** A mistake in how the command was called. */
export class UsageError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags among `options` that were given (a value other than absent or false), as written. */
export function givenFlags(options: ReadonlyArray<readonly [flag: string, value: unknown]>): string[] {
  return options.filter(([, value]) => value !== undefined && value !== false).map(([flag]) => flag);
}

/**
 * How a failed run ends, in one place: what goes to stderr (the error's own message, which names
 * the file, object or field) and the exit code. Every failure is 2,
 * whatever its kind (1 is for a run that worked and found something to act on); a usage mistake
 * also says where the help is.
 */
export function failureOutcome(err: unknown): { code: number; stderr: string } {
  const lines = [`Error: ${errorMessage(err)}`];
  if (err instanceof UsageError) lines.push(`Run 'drift-detector ${err.command} -h' for usage.`);
  return { code: EXIT_ERROR, stderr: `${lines.join('\n')}\n` };
}
