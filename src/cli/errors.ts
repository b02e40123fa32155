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

/** One line for the user: the error's own message, which names the file, object or field. */
export { errorMessage as describeError } from '../util/values.js';
