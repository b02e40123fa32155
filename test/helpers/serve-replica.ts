/**
 * `drift-detector serve` as a replica of a Deployment: its own process, a kubeconfig for the
 * loopback API server, a pod name, its JSON log lines kept. For the tests and the bench that
 * run two replicas side by side, one holding the Lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, tempDir } from './scenario.js';

export interface ServeReplica {
  name: string;
  child: ChildProcess;
  /** Every log line so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
  /** The webhook's port, once it serves. */
  webhookPort: number;
  /** Resolves with the first log line whose message is `message`, within `timeoutMs`. */
  logged(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServeReplicaOptions {
  /** The cluster it runs in; none: outside any cluster (no KUBECONFIG, not in a pod). */
  kubeconfig?: string;
  /** Where the configuration is written and HOME points; default a new temporary directory. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startServeReplica(name: string, configYaml: string, options: ServeReplicaOptions = {}): Promise<ServeReplica> {
  const dir = options.dir ?? (await tempDir(`drift-${name}-`));
  await writeFile(join(dir, 'config.yaml'), configYaml);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KUBECONFIG' && k !== 'KUBERNETES_SERVICE_HOST'));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', join(dir, 'config.yaml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...env, HOME: dir, POD_NAME: name, ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}), ...options.env },
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const text = partial + d.toString();
    const parts = text.split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ '@message': part });
      }
    }
    for (const w of waiters) w();
  });
  const logged = (message: string, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const line = lines.find((l) => l['@message'] === message);
        if (!line) return false;
        cleanup();
        resolve(line);
        return true;
      };
      const exited = () => {
        cleanup();
        reject(new Error(`${name} exited before logging "${message}": ${JSON.stringify(lines.slice(-5))}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name} did not log "${message}" within ${timeoutMs} ms: ${JSON.stringify(lines.slice(-5))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', exited);
      };
      if (check()) return;
      waiters.add(check);
      child.once('exit', exited);
    });
  const replica: ServeReplica = {
    name,
    child,
    lines,
    stderr: () => stderr,
    webhookPort: 0,
    logged,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exit;
    },
  };
  const serving = await logged('webhook serving', 60_000);
  replica.webhookPort = Number(String(serving['address']).split(':').pop());
  return replica;
}
