/**
 * The plugin's footprint in Velero's pod: the single executable (dist/drift-detector) started as
 * Velero's go-plugin host starts it, one fresh process per run. Start to handshake line and RSS
 * right after it; then Execute on a Cluster item in remote mode (the serve probe analyses) and in
 * local mode (the plugin reads the backup from s3rver and walks the simulator): peak RSS during
 * the Executes (VmHWM), and RSS after a warm Execute. Baseline: a bare `node -e ''`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadProto, PROTO_FILES } from '../../src/rpc/protos.js';
import { clusterItem, executeRequest } from '../../test/grpc/helpers.js';
import { tempDir } from '../../test/helpers/scenario.js';
import { startS3 } from '../../test/helpers/s3.js';
import { veleroRestore } from '../../test/helpers/velero.js';
import { storageLocationYaml } from '../../test/plugin/velero-run.js';
import type { ScaleBackup } from '../fixtures.js';
import { runNodeWithPeakRss } from '../processes.js';
import { measure, MiB, type Measure } from '../results.js';
import { median } from '../stats.js';
import { BACKUP_NAME, startServer } from './service.js';

export interface PluginStart {
  /** Spawn to the handshake line on stdout. */
  ms: number;
  /** VmRSS right after the handshake line, and after a second idle. */
  rssBytes: number;
  idleRssBytes: number;
}

export interface PluginExecute {
  /** VmHWM over the process's life: the start, the first (cold) Execute and the warm ones. */
  peakRssBytes: number;
  /** VmRSS after the warm Executes. */
  warmRssBytes: number;
  /** The first Execute (the analysis, or the remote call that waits on it). */
  coldMs: number;
}

export interface PluginSamples {
  start: PluginStart[];
  node: { ms: number; maxRssBytes: number }[];
  remote: PluginExecute[];
  local: PluginExecute[];
}

const START_TIMEOUT_MS = 30_000;
const EXECUTE_DEADLINE_MS = 10 * 60_000;
const WARM_EXECUTES = 5;
const BUCKET = 'velero';
const PREFIX = 'bench';

export async function measurePlugin(sea: string, backup: ScaleBackup, runs: number): Promise<PluginSamples> {
  const samples: PluginSamples = { start: [], node: [], remote: [], local: [] };
  for (let i = 0; i < runs; i++) {
    const bare = await runNodeWithPeakRss(['-e', ''], { timeoutMs: 60_000, discardStdout: true });
    samples.node.push({ ms: bare.ms, maxRssBytes: bare.maxRssBytes });
    const plugin = await startPlugin(sea, {});
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    samples.start.push({ ms: plugin.ms, rssBytes: plugin.rssBytes, idleRssBytes: memory(plugin.child).rss });
    await plugin.stop();
  }
  const items = backup.clusters.filter((c) => !c.management).map((c) => clusterItem(c.namespace, c.name));
  const settings = await tempDir('drift-bench-plugin-');

  const server = await startServer(backup.path);
  try {
    const config = join(settings, 'remote.yaml');
    await writeFile(config, configMap([`remoteEndpoint: "${server.address}"`, 'remoteTimeout: 10m']));
    for (let i = 0; i < runs; i++) samples.remote.push(await executeRun(sea, { DRIFT_DETECTOR_PLUGIN_CONFIG: config }, items));
  } finally {
    await server.stop();
  }

  const s3 = await startS3();
  try {
    await s3.putBackup(BUCKET, PREFIX, BACKUP_NAME, backup.path);
    const config = join(settings, 'local.yaml');
    const bsl = join(settings, 'bsl.yaml');
    await writeFile(config, configMap(['analysisTimeout: 10m']));
    await writeFile(bsl, storageLocationYaml(s3.endpoint, BUCKET, PREFIX));
    const env = {
      DRIFT_DETECTOR_PLUGIN_CONFIG: config,
      DRIFT_DETECTOR_STORAGE_LOCATION: bsl,
      AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile,
      AWS_PROFILE: s3.profile,
    };
    for (let i = 0; i < runs; i++) samples.local.push(await executeRun(sea, env, items));
  } finally {
    await s3.stop();
  }
  return samples;
}

interface ActionClient extends grpc.Client {
  Execute(request: Record<string, unknown>, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null) => void): void;
}
type ActionPackage = { generated: { RestoreItemAction: new (address: string, credentials: grpc.ChannelCredentials) => ActionClient } };

/** One plugin process: a cold Execute, then warm ones on other Clusters of the same backup. */
async function executeRun(sea: string, env: NodeJS.ProcessEnv, items: Buffer[]): Promise<PluginExecute> {
  const plugin = await startPlugin(sea, env);
  const definition = grpc.loadPackageDefinition(loadProto(PROTO_FILES.veleroRestoreItemActionV1)) as unknown as ActionPackage;
  const client = new definition.generated.RestoreItemAction(`unix:${plugin.address}`, grpc.credentials.createInsecure());
  const restore = veleroRestore(BACKUP_NAME);
  const execute = (item: Buffer) =>
    new Promise<void>((resolve, reject) => {
      client.Execute(executeRequest(item, restore), { deadline: Date.now() + EXECUTE_DEADLINE_MS }, (err) =>
        // A blocked Cluster is an answer too: the gate refuses it with FAILED_PRECONDITION.
        err && err.code !== grpc.status.FAILED_PRECONDITION ? reject(err) : resolve(),
      );
    });
  try {
    const started = process.hrtime.bigint();
    await execute(items[0]!);
    const coldMs = Number(process.hrtime.bigint() - started) / 1e6;
    for (let i = 1; i <= WARM_EXECUTES; i++) await execute(items[i % items.length]!);
    const { rss, hwm } = memory(plugin.child);
    return { peakRssBytes: hwm, warmRssBytes: rss, coldMs };
  } finally {
    client.close();
    await plugin.stop();
  }
}

function configMap(data: string[]): string {
  return ['mode: block', 'failurePolicy: Fail', 'skipAccessAPIServer: "true"', ...data, ''].join('\n');
}

/** VmRSS and VmHWM of a running child, in bytes (Linux). */
function memory(child: ChildProcess): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

interface Started {
  child: ChildProcess;
  address: string;
  ms: number;
  rssBytes: number;
  stop(): Promise<void>;
}

/** Starts the plugin as go-plugin does (magic cookie, protocol versions) and waits for its handshake line. */
function startPlugin(sea: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const started = process.hrtime.bigint();
  const child = spawn(sea, [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'], VELERO_PLUGIN: 'hello', PLUGIN_PROTOCOL_VERSIONS: '2', VELERO_NAMESPACE: 'velero', ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the plugin printed no handshake within ${START_TIMEOUT_MS} ms: ${stderr.trim()}`));
    }, START_TIMEOUT_MS);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rssBytes = memory(child).rss;
      clearTimeout(timer);
      // 1|2|unix|/tmp/plugin123|grpc
      const address = stdout.slice(0, newline).split('|')[3] ?? '';
      resolve({ child, address, ms, rssBytes, stop });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the plugin exited with ${code} before its handshake: ${stderr.trim()}`));
    });
  });
}

/** The bench rows: start, RSS after the handshake, peak RSS of remote and local Executes, RSS after a warm one. */
export function pluginMeasures(samples: PluginSamples, preset: string): Measure[] {
  const mibs = (values: number[]) => values.map((v) => v / MiB);
  const node = { ms: samples.node.map((n) => n.ms), rss: mibs(samples.node.map((n) => n.maxRssBytes)) };
  const bare = { baseline: median(node.rss), baselineLabel: "node -e '' (peak)" };
  const row = (id: string, label: string, ours: number[], target?: Measure['target'], note?: string): Measure =>
    measure({
      id,
      label,
      unit: 'MiB',
      ours: median(ours),
      ...bare,
      ...(target ? { target } : {}),
      samples: { ours, baseline: node.rss },
      ...(note ? { note } : {}),
    });
  const cold = (runs: PluginExecute[]) => `first Execute ${Math.round(median(runs.map((r) => r.coldMs)))} ms (median)`;
  return [
    measure({
      id: 'plugin.start',
      label: 'plugin start to handshake line',
      unit: 'ms',
      ours: median(samples.start.map((s) => s.ms)),
      baseline: median(node.ms),
      baselineLabel: "node -e '' (to exit)",
      target: { on: 'ours', max: 250, text: '<= 250 ms', anyScale: true },
      samples: { ours: samples.start.map((s) => s.ms), baseline: node.ms },
    }),
    row(
      'plugin.rss.handshake',
      'plugin RSS after the handshake',
      mibs(samples.start.map((s) => s.rssBytes)),
      { on: 'ours', max: 80, text: '<= 80 MiB', anyScale: true },
      `idle 1 s later: ${median(mibs(samples.start.map((s) => s.idleRssBytes))).toFixed(0)} MiB`,
    ),
    row(
      'plugin.rss.remote',
      'plugin peak RSS, remote-mode Execute',
      mibs(samples.remote.map((r) => r.peakRssBytes)),
      { on: 'ours', max: 100, text: '<= 100 MiB', anyScale: true },
      `after a warm Execute ${median(mibs(samples.remote.map((r) => r.warmRssBytes))).toFixed(0)} MiB; ${cold(samples.remote)}`,
    ),
    row(
      'plugin.rss.local',
      `plugin peak RSS, local-mode Execute, ${preset}`,
      mibs(samples.local.map((r) => r.peakRssBytes)),
      undefined,
      cold(samples.local),
    ),
    row('plugin.rss.warm', `plugin RSS after a warm local Execute, ${preset}`, mibs(samples.local.map((r) => r.warmRssBytes))),
  ];
}
