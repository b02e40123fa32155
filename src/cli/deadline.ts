import { DomainError } from '../app/errors.js';
import { durationText } from '../config/values.js';

/**
 * A command's whole-run deadline (`--timeout`, in ms) as a signal that aborts with a timeout
 * naming the command and what to raise; `done` clears the timer so that it never holds the process.
 */
export function runDeadline(command: string, timeoutMs: number, slow: string): { signal: AbortSignal; done: () => void } {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DomainError('timeout', `${command} did not finish within ${durationText(timeoutMs)}; raise --timeout if ${slow}`)),
    Math.min(timeoutMs, 2 ** 31 - 1),
  );
  return { signal: deadline.signal, done: () => clearTimeout(timer) };
}
