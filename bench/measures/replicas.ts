/**
 * `serve` with replicas, against a loopback Kubernetes API server: replica A leads and writes its
 * verdict on the Backup; replica B, which never analysed, answers AdmissionReviews from that
 * verdict (one GET of the Backup, and the pointer's list for a denial), compared with a bare HTTPS
 * round trip to the same listener. Then the leader's hand-over: SIGTERM of A (it releases the
 * Lease) until B holds it, and a kill of B (no release) until a third replica holds it, compared
 * with the lease duration that bounds a hand-over without release.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULTS } from '../../src/config/defaults.js';
import { startKubeApi, type KubeApi } from '../../test/helpers/kube-api.js';
import type { ScaleBackup } from '../fixtures.js';
import { probePath } from '../processes.js';
import { measure, type Measure } from '../results.js';
import { median } from '../stats.js';
import { admissionPercentiles } from './readiness.js';
import { timeEach, webhookClient } from '../webhook-client.js';

export interface ReplicaRun {
  /** Admissions answered by the replica that did not analyse, and bare HTTPS round trips to it. */
  admissionMs: number[];
  httpsRoundTripMs: number[];
  /** SIGTERM of the leader until the other replica holds the Lease. */
  handOverTermMs: number;
  /** SIGKILL of the leader until the other replica holds the Lease. */
  handOverKillMs: number;
}

const BACKUP_NAME = 'bench-backup';
const LEASE = DEFAULTS.watch.leaderElection.leaseName;
const WAIT_MS = 10 * 60_000;

export async function measureReplicas(backup: ScaleBackup, runs: number, admissions: number): Promise<ReplicaRun[]> {
  const results: ReplicaRun[] = [];
  for (let i = 0; i < runs; i++) {
    const api = await startKubeApi();
    const replicas: ChildProcess[] = [];
    try {
      results.push(await oneRun(api, backup, admissions, replicas));
    } finally {
      for (const child of replicas) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await api.stop();
    }
  }
  return results;
}

async function oneRun(api: KubeApi, backup: ScaleBackup, admissions: number, replicas: ChildProcess[]): Promise<ReplicaRun> {
  api.put({
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name: BACKUP_NAME, namespace: 'velero' },
    spec: { storageLocation: 'default' },
    status: { phase: 'Completed', completionTimestamp: new Date(Date.now() - 60_000).toISOString() },
  });
  const kubeconfig = await api.writeKubeconfig();
  const start = async (name: string) => {
    const started = await startReplica(name, backup.path, kubeconfig);
    replicas.push(started.child);
    return started;
  };
  const a = await start('replica-a');
  await until(
    () => api.get('velero.io/v1', 'Backup', 'velero', BACKUP_NAME)?.metadata.labels?.['driftdetector.dev/restore-verdict'] !== undefined,
  );
  const b = await start('replica-b');
  const client = webhookClient({ port: b.webhookPort, caCert: b.caCert, backup: BACKUP_NAME, timeoutMs: WAIT_MS });
  await timeEach(20, () => client.admit());
  const admissionMs = await timeEach(admissions, () => client.admit());
  const httpsRoundTripMs = await timeEach(admissions, () => client.roundTrip());
  client.close();

  const handOverTermMs = await handOver(api, a.child, 'SIGTERM', 'replica-b');
  // A candidate tries at once when it starts serving: it watches B's renewals before B dies.
  await start('replica-c');
  const handOverKillMs = await handOver(api, b.child, 'SIGKILL', 'replica-c');
  return { admissionMs, httpsRoundTripMs, handOverTermMs, handOverKillMs };
}

/** Signals the leader, then waits (polling the API server's store, in this process) until `next` holds the Lease. */
async function handOver(api: KubeApi, leader: ChildProcess, signal: NodeJS.Signals, next: string): Promise<number> {
  const started = process.hrtime.bigint();
  leader.kill(signal);
  const holder = () => {
    const spec = api.get('coordination.k8s.io/v1', 'Lease', 'drift-detector', LEASE)?.['spec'] as { holderIdentity?: string } | undefined;
    return spec?.holderIdentity;
  };
  await until(() => holder()?.startsWith(`${next}_`) ?? false, 2);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function until(done: () => boolean, pollMs = 50): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`replicas: not within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function startReplica(name: string, file: string, kubeconfig: string): Promise<{ child: ChildProcess; webhookPort: number; caCert: string }> {
  const child = spawn(process.execPath, [probePath('replica'), BACKUP_NAME, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAME: name },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve({ child, ...(JSON.parse(line) as { webhookPort: number; caCert: string }) });
    });
    child.once('exit', (code) => reject(new Error(`replica ${name} exited with ${code}: ${stderr}`)));
  });
}

/** The rows: the warm answer of the replica that never analysed, and the two hand-overs. */
export function replicaMeasures(runs: ReplicaRun[]): Measure[] {
  const leaseMs = DEFAULTS.watch.leaderElection.leaseDurationMs;
  const handOver = (id: 'term' | 'kill'): Measure =>
    measure({
      id: `replicas.handover.${id}`,
      label: `leader hand-over after ${id === 'term' ? 'SIGTERM' : 'a kill'}`,
      unit: 'ms',
      ours: median(runs.map((r) => (id === 'term' ? r.handOverTermMs : r.handOverKillMs))),
      baseline: leaseMs,
      baselineLabel: 'lease duration',
      samples: { ours: runs.map((r) => (id === 'term' ? r.handOverTermMs : r.handOverKillMs)), baseline: [leaseMs] },
      note:
        id === 'term'
          ? 'the leader releases the Lease; the other takes it at its next try (retry period 2 s, jittered)'
          : 'no release: the Lease is taken once unchanged for the lease duration on the taker’s clock, at its next try',
    });
  const admissions = admissionPercentiles(runs, {
    id: 'replicas.admission',
    label: 'from the Backup verdict on the other replica',
    note: (n) => `${n} AdmissionReviews to the replica that never analysed: a GET of the Backup, the signature checked, the pointer listed`,
  });
  return [...admissions, handOver('term'), handOver('kill')];
}
