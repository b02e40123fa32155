import { DomainError } from '../app/errors.js';

/**
 * A command's whole-run deadline (`--timeout`) as a signal that aborts with a timeout naming the
 * command and what to raise; `done` clears the timer so that it never holds the process.
 */
export function runDeadline(command: string, timeoutSeconds: number, slow: string): { signal: AbortSignal; done: () => void } {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DomainError('timeout', `${command} did not finish within ${timeoutSeconds} s; raise --timeout if ${slow}`)),
    Math.min(timeoutSeconds * 1000, 2 ** 31 - 1),
  );
  return { signal: deadline.signal, done: () => clearTimeout(timer) };
}
