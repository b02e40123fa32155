/** Runs a script in a child Node process and reads the one JSON line it prints (its outcome and peak RSS). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ChildOutcome {
  ok: boolean;
  error?: string;
  maxRssMiB: number;
  ms: number;
}

export async function runChild(script: URL, args: string[], timeoutMs = 120_000): Promise<ChildOutcome> {
  const { stdout } = await promisify(execFile)(process.execPath, [script.pathname, ...args], {
    timeout: timeoutMs,
    maxBuffer: 1024 * 1024,
  });
  const line = stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as ChildOutcome;
}
