/**
 * Child processes of the benchmark: each run has a deadline, its wall time is measured from
 * spawn to exit, and a Node child can report its own peak RSS through the max-rss preload.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Throw away stdout (as `> /dev/null` does) instead of collecting it. */
  discardStdout?: boolean;
}

/** How much of a child's stderr is kept for an error message. */
const STDERR_TAIL = 4_000;

export function runProcess(command: string, args: string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      stdio: ['ignore', options.discardStdout ? 'ignore' : 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: cannot start: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** Fails with the child's stderr unless it exited with one of `codes`. */
export function expectExit<R extends ProcessResult>(result: R, what: string, codes: number[] = [0]): R {
  if (result.code === null || !codes.includes(result.code)) {
    throw new Error(`${what} exited with ${result.code}: ${result.stderr.trim() || '(no stderr)'}`);
  }
  return result;
}

/** The last JSON line a probe printed. */
export function lastJsonLine<T>(result: ProcessResult, what: string): T {
  const line = result.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what}: expected a JSON line on stdout, got: ${line.slice(0, 200)}`);
  }
}

export function probePath(name: string): string {
  return fileURLToPath(new URL(`./probes/${name}.js`, import.meta.url));
}

/** Runs a Node program with the max-rss preload; resolves with its wall time and peak RSS. */
export async function runNodeWithPeakRss(args: string[], options: RunOptions): Promise<ProcessResult & { maxRssBytes: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rss-'));
  const rssFile = join(dir, 'max-rss.json');
  try {
    const preload = new URL('./probes/max-rss.js', import.meta.url).href;
    const result = await runProcess(process.execPath, ['--import', preload, ...args], {
      ...options,
      env: { ...options.env, BENCH_MAX_RSS_FILE: rssFile },
    });
    const text = await readFile(rssFile, 'utf8').catch(() => undefined);
    if (text === undefined) throw new Error(`node ${args.join(' ')}: no peak RSS written (exit ${result.code}): ${result.stderr.trim()}`);
    return { ...result, maxRssBytes: (JSON.parse(text) as { maxRssBytes: number }).maxRssBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
