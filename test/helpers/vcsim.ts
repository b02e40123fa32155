/**
 * Starts the vSphere simulator harness (test/harness/vcsim, built by `npm run build:harness`)
 * with a seeded inventory: a vCenter-like SOAP endpoint over HTTPS on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireIntegrationLane } from './lane.js';
import type { SeedVM, VcsimSeed } from './seed.js';

export interface Vcsim {
  /** `https://127.0.0.1:<port>/sdk` */
  url: string;
  /** `127.0.0.1:<port>` */
  server: string;
  /** SHA-1 of the served certificate, uppercase hex pairs joined by `:` (VSphereCluster.spec.thumbprint). */
  thumbprint: string;
  /** Creates a VM while the simulator runs (vSphere changing after a backup), in the seeded datacenter of that name. */
  addVM(datacenter: string, vm: SeedVM): Promise<void>;
  /** Powers off and destroys the VM of that name. */
  removeVM(name: string): Promise<void>;
  /** Ends the simulator and waits for it to exit. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartVcsimOptions {
  /** How long to wait for the simulator to seed and listen; default 60 s. */
  readyTimeoutMs?: number;
  /** The simulator executable; default test/harness/bin/vcsim of this repository. */
  binary?: string;
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
/** Enough of the simulator's stderr to explain a failed start. */
const STDERR_TAIL_CHARS = 4_000;

/** The repository root: the nearest ancestor holding package.json (works from test/ and build/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`vcsim: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function vcsimBinaryPath(): string {
  return join(repoRoot(), 'test', 'harness', 'bin', 'vcsim');
}

interface ReadyLine {
  url: string;
  server: string;
  thumbprint: string;
}

function parseReadyLine(line: string): ReadyLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`vcsim: expected a JSON ready line on stdout, got: ${line.slice(0, 200)}`);
  }
  const r = parsed as Partial<ReadyLine>;
  if (typeof r.url !== 'string' || typeof r.server !== 'string' || typeof r.thumbprint !== 'string') {
    throw new Error(`vcsim: ready line lacks url, server or thumbprint: ${line.slice(0, 200)}`);
  }
  return { url: r.url, server: r.server, thumbprint: r.thumbprint };
}

export async function startVcsim(seed: VcsimSeed, opts: StartVcsimOptions = {}): Promise<Vcsim> {
  requireIntegrationLane('vcsim');
  const binary = opts.binary ?? vcsimBinaryPath();
  if (!existsSync(binary)) {
    throw new Error(`vcsim: harness binary ${binary} is missing; run npm run build:harness`);
  }

  // The seed may hold the simulator's password: private directory, owner-only file.
  const seedDir = await mkdtemp(join(tmpdir(), 'vcsim-seed-'));
  const seedPath = join(seedDir, 'seed.json');
  await writeFile(seedPath, JSON.stringify(seed), { mode: 0o600 });

  // stdin stays a pipe: the simulator exits when it closes, so it never outlives the test process.
  const child = spawn(binary, [seedPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  // A process that never started reports 'error' only; one that ran reports 'close'.
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => {
      if (child.pid === undefined) resolve();
    });
  });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  // A parent that goes away first makes writes to stdin fail with EPIPE; nothing to do about it.
  child.stdin.on('error', () => {});

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await endProcess(child, exited);
      await rm(seedDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const ready = await waitForReadyLine(child, opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, () => stderrTail);
    // The simulator has read its seed; remove it now so a test process that dies leaves no credentials behind.
    await rm(seedDir, { recursive: true, force: true });
    const control = controlChannel(child);
    return {
      ...ready,
      addVM: (datacenter, vm) => control({ add: { datacenter, vm } }),
      removeVM: (name) => control({ remove: name }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function waitForReadyLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<ReadyLine> {
  return new Promise<ReadyLine>((resolve, reject) => {
    let stdout = '';
    const describeStderr = (): string => (stderr().trim() ? `; stderr: ${stderr().trim()}` : '');
    const finish = (err: Error | undefined, ready?: ReadyLine): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('close', onClose);
      child.off('error', onError);
      // Keep draining stdout so the simulator never blocks on a full pipe.
      child.stdout!.resume();
      if (err) reject(err);
      else resolve(ready!);
    };
    const onData = (chunk: string): void => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      try {
        finish(undefined, parseReadyLine(stdout.slice(0, newline).trim()));
      } catch (err) {
        finish(err as Error);
      }
    };
    // 'close' (not 'exit') so stderr is complete when the message is built.
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      finish(new Error(`vcsim: exited with ${how} before it was ready${describeStderr()}`));
    };
    const onError = (err: Error): void => finish(new Error(`vcsim: cannot start ${child.spawnfile}: ${err.message}`));
    const timer = setTimeout(() => finish(new Error(`vcsim: not ready within ${timeoutMs} ms${describeStderr()}`)), timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', onData);
    child.once('close', onClose);
    child.once('error', onError);
  });
}

/** Bound on one control command; the simulator answers in milliseconds. */
const COMMAND_TIMEOUT_MS = 10_000;

/** The harness' control channel: one JSON command per stdin line, answered in order by one stdout line. */
function controlChannel(child: ChildProcess): (command: object) => Promise<void> {
  const waiting: Array<(line: string) => void> = [];
  let buffer = '';
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      waiting.shift()?.(line);
    }
  });
  return (command) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`vcsim: no answer to ${JSON.stringify(command)} within ${COMMAND_TIMEOUT_MS} ms`)),
        COMMAND_TIMEOUT_MS,
      );
      waiting.push((line) => {
        clearTimeout(timer);
        const answer = JSON.parse(line) as { ok?: boolean; error?: string };
        if (answer.ok) resolve();
        else reject(new Error(`vcsim: ${answer.error ?? line}`));
      });
      child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
}

/** Closes stdin (the simulator's stop signal), then SIGTERM, then SIGKILL if it lingers. */
async function endProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    await exited;
    return;
  }
  child.stdin!.end();
  if (await settlesWithin(exited, STOP_GRACE_MS)) return;
  child.kill('SIGTERM');
  if (await settlesWithin(exited, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await exited;
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A `127.0.0.1:PORT` nobody listens on (briefly bound, then released), for "vCenter down" tests. */
export function closedPort(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('closedPort: no TCP address'));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(`127.0.0.1:${address.port}`)));
    });
  });
}
