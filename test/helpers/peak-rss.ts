/**
 * A child process run with its peak RSS watched from outside: VmHWM (the high-water mark of its
 * resident set) in /proc/<pid>/status, read until the child exits. VmHWM only grows, so the last
 * read is the peak up to a few tens of milliseconds before exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** VmHWM of `pid` (or of this process) in bytes, or undefined once the process is gone. */
export function vmHwmBytes(pid: number | 'self' = 'self'): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** VmHWM of `pid` in MiB, or undefined once the process is gone. */
export function vmHwmMiB(pid: number): number | undefined {
  const bytes = vmHwmBytes(pid);
  return bytes === undefined ? undefined : Math.round(bytes / (1024 * 1024));
}

/**
 * This process's own peak RSS. Not `process.resourceUsage().maxRSS`: Linux carries a forked
 * child's RSS (its parent's, at the fork) into that figure across exec, so a child of a large
 * parent would report the parent's size. VmHWM belongs to the memory map exec made.
 */
export function ownPeakRssBytes(): number {
  return vmHwmBytes('self') ?? process.resourceUsage().maxRSS * 1024;
}

/** Polls VmHWM of `child`; `peak()` is the highest read so far. */
export function watchPeakRss(child: ChildProcess, everyMs = 25): { peak(): number; stop(): void } {
  let peak = 0;
  const read = () => {
    const now = child.pid === undefined ? undefined : vmHwmMiB(child.pid);
    if (now !== undefined && now > peak) peak = now;
  };
  const timer = setInterval(read, everyMs);
  read();
  return { peak: () => (read(), peak), stop: () => clearInterval(timer) };
}

export interface WatchedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  peakRssMiB: number;
}

/** Runs `node args` to its exit (killed at `timeoutMs`), watching its peak RSS. */
export function runNodeWatched(args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<WatchedRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const rss = watchPeakRss(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.stdout.once('end', () => rss.peak());
    child.once('exit', () => rss.peak());
    child.once('close', (code) => {
      clearTimeout(timer);
      rss.stop();
      resolve({ code, stdout, stderr, ms: Date.now() - started, peakRssMiB: rss.peak() });
    });
  });
}
