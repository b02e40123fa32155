/**
 * The service (`drift-detector serve`'s server in its own process, on loopback): Detect cold (a
 * fresh analysis) and warm (from the cache), and Velero's RestoreItemAction Execute on Cluster
 * items with the analysis warm: latency percentiles of calls one at a time, and calls per second
 * with calls in flight; the admission webhook's answer to a Restore of the backup over HTTPS, cold
 * (the first call of the process: the whole analysis) and warm. Baselines: the same server's
 * grpc.health.v1 Check (a bare round trip), the webhook listener's 404 (a bare HTTPS round trip),
 * and for a cold Detect the CLI's detect on the same backup.
 */
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { call, clusterItem, executeRequest, makeClients } from '../../test/grpc/helpers.js';
import { veleroRestore } from '../../test/helpers/velero.js';
import type { ScaleBackup } from '../fixtures.js';
import { probePath } from '../processes.js';
import { timeEach, webhookClient } from '../webhook-client.js';

export interface ServiceSamples {
  detectCold: number[];
  detectWarm: number[];
  execute: number[];
  health: number[];
  executeRate: number;
  healthRate: number;
  /**
   * The same Executes as the server logged them ("call done"/"call failed" lines, `ms` field): the
   * time inside the service, without the gRPC transport and the client. Whole milliseconds.
   */
  executeServerMs: number[];
  /** Outcomes of the timed one-at-a-time Executes: allowed, or refused by the gate (FAILED_PRECONDITION). */
  allowed: number;
  blocked: number;
  /** The first admission of the process (the analysis runs in it), then warm ones and the bare HTTPS baseline. */
  admissionCold: number;
  admissionWarm: number[];
  httpsRoundTrip: number[];
  admissionDenied: boolean;
}

export const BACKUP_NAME = 'bench-backup';
const START_TIMEOUT_MS = 60_000;
const DETECT_DEADLINE_MS = 10 * 60_000;
const CALL_DEADLINE_MS = 30_000;
const WARM_DETECTS = 5;
const WARMUP_CALLS = 100;
/** Calls in flight for the calls-per-second figures (Velero restores items one at a time; this is the service's headroom). */
const IN_FLIGHT = 16;

export async function measureService(backup: ScaleBackup, coldRuns: number, calls: number): Promise<ServiceSamples> {
  const server = await startServer(backup.path);
  const clients = makeClients(server.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  try {
    const detect = (refresh: boolean) =>
      call(clients.detector, 'Detect', { backup_name: BACKUP_NAME, skip_access_apiserver: true, refresh }, { deadlineMs: DETECT_DEADLINE_MS });
    const admission = webhookClient({ port: server.webhookPort, caCert: server.caCert, backup: BACKUP_NAME, timeoutMs: DETECT_DEADLINE_MS });
    const [admissionCold] = await timeEach(1, () => admission.admit());
    const detectCold = await timeEach(coldRuns, () => detect(true));
    const detectWarm = await timeEach(WARM_DETECTS, () => detect(false));

    const items = backup.clusters.filter((c) => !c.management).map((c) => clusterItem(c.namespace, c.name));
    const restore = veleroRestore(BACKUP_NAME);
    const outcome = { allowed: 0, blocked: 0 };
    let next = 0;
    const execute = async () => {
      const item = items[next++ % items.length]!;
      try {
        await call(clients.riaV2, 'Execute', executeRequest(item, restore), { deadlineMs: CALL_DEADLINE_MS });
        outcome.allowed++;
      } catch (err) {
        if ((err as grpc.ServiceError).code !== status.FAILED_PRECONDITION) throw err;
        outcome.blocked++;
      }
    };
    const health = () => call(clients.health, 'Check', { service: '' }, { deadlineMs: CALL_DEADLINE_MS });

    await timeEach(WARMUP_CALLS, execute);
    await timeEach(WARMUP_CALLS, health);
    outcome.allowed = outcome.blocked = 0;
    server.executeMs.length = 0;
    const latencies = {
      execute: await timeEach(calls, execute),
      executeServerMs: [...server.executeMs],
      health: await timeEach(calls, health),
    };
    const outcomes = { ...outcome };
    const rates = { executeRate: await rate(calls, execute), healthRate: await rate(calls, health) };
    await timeEach(WARMUP_CALLS, () => admission.admit());
    const admissionWarm = await timeEach(calls, () => admission.admit());
    const httpsRoundTrip = await timeEach(calls, () => admission.roundTrip());
    const admissionDenied = !(await admission.admit()).allowed;
    admission.close();
    return {
      detectCold,
      detectWarm,
      ...latencies,
      ...rates,
      ...outcomes,
      admissionCold: admissionCold!,
      admissionWarm,
      httpsRoundTrip,
      admissionDenied,
    };
  } finally {
    clients.close();
    await server.stop();
  }
}

/** Calls per second over `n` calls with IN_FLIGHT of them running at a time. */
async function rate(n: number, fn: () => Promise<unknown>): Promise<number> {
  let started = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      await fn();
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

interface Server {
  address: string;
  webhookPort: number;
  caCert: string;
  /** `ms` of every Execute the server logged. */
  executeMs: number[];
  stop(): Promise<void>;
}

/** The `ms` of a log line about an Execute call, if it is one. */
function executeMsOf(line: string): number | undefined {
  if (!line.includes('RestoreItemAction/Execute')) return undefined;
  try {
    const { method, ms } = JSON.parse(line) as { method?: unknown; ms?: unknown };
    return typeof method === 'string' && method.endsWith('RestoreItemAction/Execute') && typeof ms === 'number' ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** The serve probe; stdin is its lifeline, so it never outlives the benchmark. */
export function startServer(file: string): Promise<Server> {
  const child = spawn(process.execPath, [probePath('serve'), BACKUP_NAME, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Its log lines are read, as a container runtime would: the Execute times are kept, the tail explains a failed start.
  let stderr = '';
  let pending = '';
  const executeMs: number[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4_000);
    const lines = (pending + d).split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const ms = executeMsOf(line);
      if (ms !== undefined) executeMs.push(ms);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the service did not start within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`));
    }, START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        const ready = JSON.parse(stdout.slice(0, newline)) as { address: string; webhookPort: number; caCert: string };
        resolve({ ...ready, executeMs, stop });
      } catch {
        void stop();
        reject(new Error(`the service printed no address: ${stdout.slice(0, 200)}`));
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code} before serving: ${stderr.trim()}`));
    });
  });
}
