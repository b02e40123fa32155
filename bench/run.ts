/**
 * The benchmark of issue 6: builds (or reuses) the fixtures of a preset and of its tenth, runs
 * every measure against its baseline in the same run, and writes bench/results.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVcsim, type Vcsim } from '../test/helpers/vcsim.js';
import { mib, prepareFixture, writeScaleBackup, type ScaleBackup, type ScaleFixture } from './fixtures.js';
import { measureDetect, measureStartup, type DetectRun, type ReportCheck } from './measures/detect.js';
import { govmomiBinary, measureInventory, type InventorySamples } from './measures/inventory.js';
import { measureScan, readOnce, type ScanRun, type ScanSamples } from './measures/scan.js';
import { hostileMeasures, measureHostile } from './measures/hostile.js';
import { measurePatterns, patternMeasures } from './measures/patterns.js';
import { measurePlugin, pluginMeasures, type PluginSamples } from './measures/plugin.js';
import { measureReadiness, readinessMeasures, type ReadinessRun } from './measures/readiness.js';
import { measureReplicas, replicaMeasures, type ReplicaRun } from './measures/replicas.js';

import { measureService, type ServiceSamples } from './measures/service.js';
import { measureUnpause, unpauseMeasures, type UnpauseSamples } from './measures/unpause.js';
import { presetNamed, tenthOf, type Preset } from './presets.js';
import { measure, MiB, renderTable, type Measure } from './results.js';
import { median, percentile, round } from './stats.js';

/** Plugin processes per mode: the targets are medians of at least 5. */
const PLUGIN_RUNS = 5;
/** One warm admission of the readiness measure for this many Executes of the service measure. */
const READINESS_ADMISSIONS_PER_EXECUTE = 5;

export interface BenchOptions {
  preset: string;
  /** Where fixtures are cached; default bench/.cache. */
  cacheDir?: string;
  /** Default bench/results.json for the default preset, bench/results-<preset>.json for the others (git-ignored). */
  resultsPath?: string;
  log?: (msg: string) => void;
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
}

export interface BenchResults {
  preset: string;
  startedAt: string;
  wallSeconds: number;
  machine: MachineInfo;
  fixtures: Record<string, { clusters: number; machines: number; vms: number; tarBytes: number; gzipBytes: number }>;
  measures: Measure[];
  /** Each detect report compared with what the fixture holds. */
  reportChecks: Record<string, ReportCheck>;
  table: string;
}

/** The repository root: the nearest ancestor holding package.json (works from bench/ and build/bench/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: no package.json above the benchmark');
    dir = parent;
  }
  return dir;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const log = options.log ?? ((msg: string) => process.stderr.write(`bench: ${msg}\n`));
  const root = repoRoot();
  const cacheDir = resolve(options.cacheDir ?? join(root, 'bench', '.cache'));
  const resultsName = options.preset === 'default' ? 'results.json' : `results-${options.preset}.json`;
  const resultsPath = resolve(options.resultsPath ?? join(root, 'bench', resultsName));
  const cli = join(root, 'build', 'src', 'cli', 'main.js');
  const goBinary = govmomiBinary(root);
  const full = presetNamed(options.preset);
  const tenth = tenthOf(full);

  const fixtures = { tenth: await prepareFixture(tenth, cacheDir, log), full: await prepareFixture(full, cacheDir, log) };
  const runDir = join(cacheDir, 'run');
  await mkdir(runDir, { recursive: true });

  try {
    // A tenth of the scale: the small tarball's RSS and the growth's starting point.
    const small = await withSimulator(fixtures.tenth, runDir, log, async (backup) => {
      log(`${tenth.name}: reader peak RSS (${full.runs.scan} runs)`);
      const reader: ScanRun[] = [];
      for (let i = 0; i < full.runs.scan; i++) reader.push(await readOnce(backup.path));
      log(`${tenth.name}: detect end to end (${full.runs.detect} runs)`);
      const detect = await measureDetect(cli, backup, full.runs.detect);
      return { backup, reader, detect };
    });

    const large = await withSimulator(fixtures.full, runDir, log, async (backup, vcsim) => {
      log(`${full.name}: tarball scan, readBackup vs gzip -dc (${full.runs.scan} runs)`);
      const scan = await measureScan(backup.path, full.runs.scan);
      log(`${full.name}: inventory walk, listVCenter vs govmomi (${full.runs.inventory} runs)`);
      const inventory = await measureInventory(vcsim, goBinary, full.runs.inventory);
      log(`${full.name}: detect end to end (${full.runs.detect} runs)`);
      const detect = await measureDetect(cli, backup, full.runs.detect);
      log(`${full.name}: unpause forecast of the same management cluster restored in a loopback API (${full.runs.detect} runs)`);
      const unpause = await measureUnpause(cli, full, vcsim, full.runs.detect);
      const startup = await measureStartup(cli, full.runs.detect);
      log(`${full.name}: service, Detect cold/warm and Execute (${full.executeCalls} calls)`);
      const service = await measureService(backup, full.runs.serviceCold, full.executeCalls);
      log(`${full.name}: plugin (the single executable), start, RSS, remote and local Execute (${PLUGIN_RUNS} runs)`);
      const plugin = await measurePlugin(join(root, 'dist', 'drift-detector'), backup, PLUGIN_RUNS);
      const admissions = Math.ceil(full.executeCalls / READINESS_ADMISSIONS_PER_EXECUTE);
      log(`${full.name}: one readiness cycle of serve --watch, then ${admissions} admissions from its result (${full.runs.serviceCold} runs)`);
      const readiness = await measureReadiness(backup, full.runs.serviceCold, admissions);
      log(
        `${full.name}: two replicas: ${admissions} admissions from the Backup verdict, hand-over after SIGTERM and a kill (${full.runs.serviceCold} runs)`,
      );
      const replicas = await measureReplicas(backup, full.runs.serviceCold, admissions);
      return { backup, scan, inventory, detect, unpause, startup, service, plugin, readiness, replicas };
    });

    log(`${full.name}: peak RSS under a Secret bomb and an endless-paging vCenter (${full.runs.serviceCold} runs each)`);
    const hostile = await measureHostile(full, full.runs.serviceCold);
    log(`hostile patterns: restore scope and ignore file (${full.runs.detect} runs)`);
    const patterns = patternMeasures(await measurePatterns(full.runs.detect));
    const measures = [
      ...buildMeasures(full, { small, large }),
      ...unpauseMeasures(full, large.unpause, large.detect.runs),
      ...hostileMeasures(hostile, full),
      ...patterns,
    ];
    const table = renderTable(measures, { fullScale: full.name === 'default' });
    const results: BenchResults = {
      preset: full.name,
      startedAt: new Date(started).toISOString(),
      wallSeconds: round((Date.now() - started) / 1000, 1),
      machine: await machineInfo(),
      fixtures: {
        [tenth.name]: fixtureSummary(fixtures.tenth, small.backup),
        [full.name]: fixtureSummary(fixtures.full, large.backup),
      },
      measures,
      reportChecks: { [tenth.name]: small.detect.check, [full.name]: large.detect.check },
      table,
    };
    await mkdir(dirname(resultsPath), { recursive: true });
    await writeFile(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
    return results;
  } finally {
    // The assembled tarballs name this run's simulator: useless to the next run.
    await rm(runDir, { recursive: true, force: true });
  }
}

/** Starts the preset's simulator, writes the backup naming it, runs `work`, stops the simulator. */
async function withSimulator<T>(
  fixture: ScaleFixture,
  runDir: string,
  log: (msg: string) => void,
  work: (backup: ScaleBackup, vcsim: Vcsim) => Promise<T>,
): Promise<T> {
  log(`${fixture.preset.name}: starting vcsim with ${fixture.manifest.vms} VMs`);
  const vcsim = await startVcsim(fixture.seed, { readyTimeoutMs: 180_000 });
  try {
    const backup = await writeScaleBackup(fixture, vcsim, join(runDir, `${fixture.preset.name}.tar.gz`));
    log(`${fixture.preset.name}: backup ${mib(backup.tarBytes)} (${mib(backup.gzipBytes)} gzip)`);
    return await work(backup, vcsim);
  } finally {
    await vcsim.stop();
  }
}

interface Collected {
  small: { backup: ScaleBackup; reader: ScanRun[]; detect: { runs: DetectRun[] } };
  large: {
    backup: ScaleBackup;
    scan: ScanSamples;
    inventory: InventorySamples;
    detect: { runs: DetectRun[] };
    unpause: UnpauseSamples;
    startup: { cli: DetectRun[]; node: DetectRun[] };
    service: ServiceSamples;
    plugin: PluginSamples;
    readiness: ReadinessRun[];
    replicas: ReplicaRun[];
  };
}

function buildMeasures(full: Preset, { small, large }: Collected): Measure[] {
  const ms = (runs: { ms: number }[]) => runs.map((r) => r.ms);
  const rss = (runs: { maxRssBytes: number }[]) => runs.map((r) => r.maxRssBytes / MiB);
  const size = (b: ScaleBackup) => mib(b.tarBytes);
  const vms = large.inventory.govmomi[0]?.vms ?? 0;
  const floorMs = median(large.scan.gzip) + median(ms(large.inventory.govmomi));
  const growth = median(ms(large.detect.runs)) / median(ms(small.detect.runs));
  const scale = large.backup.tarBytes / small.backup.tarBytes;
  const { service, startup } = large;
  const floor = large.scan.floorRssBytes.map((b) => b / MiB);

  return [
    measure({
      id: 'scan.time',
      label: `tarball scan, ${size(large.backup)} (readBackup)`,
      unit: 'ms',
      ours: median(ms(large.scan.reader)),
      baseline: median(large.scan.gzip),
      baselineLabel: 'gzip -dc > /dev/null',
      target: { on: 'ratio', max: 1.3, text: '<= 1.3x' },
      samples: { ours: ms(large.scan.reader), baseline: large.scan.gzip },
    }),
    measure({
      id: 'scan.rss.small',
      label: `reader peak RSS, ${size(small.backup)} tarball`,
      unit: 'MiB',
      ours: median(rss(small.reader)),
      baseline: median(floor),
      baselineLabel: 'node with the reader loaded',
      samples: { ours: rss(small.reader), baseline: floor },
    }),
    measure({
      id: 'scan.rss.full',
      label: `reader peak RSS, ${size(large.backup)} tarball`,
      unit: 'MiB',
      ours: median(rss(large.scan.reader)),
      baseline: median(rss(small.reader)),
      baselineLabel: `at ${size(small.backup)}`,
      target: { on: 'ours', max: 200, text: '<= 200 MiB' },
      samples: { ours: rss(large.scan.reader), baseline: rss(small.reader) },
    }),
    measure({
      id: 'inventory.walk',
      label: `inventory walk, ${vms} VMs, fresh process`,
      unit: 'ms',
      ours: median(ms(large.inventory.ours)),
      baseline: median(ms(large.inventory.govmomi)),
      baselineLabel: 'govmomi',
      target: { on: 'ratio', max: 1.5, text: '<= 1.5x' },
      samples: { ours: ms(large.inventory.ours), baseline: ms(large.inventory.govmomi) },
    }),
    measure({
      id: 'inventory.walk.warm',
      label: `inventory walk, ${vms} VMs, warm process`,
      unit: 'ms',
      ours: median(ms(large.inventory.oursWarm)),
      baseline: median(ms(large.inventory.govmomiWarm)),
      baselineLabel: 'govmomi',
      target: { on: 'ratio', max: 1.5, text: '<= 1.5x' },
      samples: { ours: ms(large.inventory.oursWarm), baseline: ms(large.inventory.govmomiWarm) },
    }),
    measure({
      id: 'detect.time',
      label: `detect end to end, ${full.name} (CLI)`,
      unit: 'ms',
      ours: median(ms(large.detect.runs)),
      baseline: floorMs,
      baselineLabel: 'gzip -dc + govmomi walk',
      samples: { ours: ms(large.detect.runs), baseline: [floorMs] },
    }),
    measure({
      id: 'detect.rss',
      label: `detect peak RSS, ${full.name} (CLI)`,
      unit: 'MiB',
      ours: median(rss(large.detect.runs)),
      baseline: median(rss(large.scan.reader)),
      baselineLabel: 'readBackup alone',
      samples: { ours: rss(large.detect.runs), baseline: rss(large.scan.reader) },
    }),
    measure({
      id: 'detect.startup',
      label: 'CLI start (drift-detector --version)',
      unit: 'ms',
      ours: median(ms(startup.cli)),
      baseline: median(ms(startup.node)),
      baselineLabel: "node -e ''",
      samples: { ours: ms(startup.cli), baseline: ms(startup.node) },
      note: `peak RSS ${median(rss(startup.cli)).toFixed(0)} MiB (node -e '': ${median(rss(startup.node)).toFixed(0)} MiB)`,
    }),
    measure({
      id: 'detect.growth',
      label: `detect growth, ${size(small.backup)} -> ${size(large.backup)}`,
      unit: 'x',
      ours: growth,
      baseline: scale,
      baselineLabel: 'scale factor',
      target: { on: 'ratio', max: 1.2, text: '<= 1.2x (near linear)' },
      samples: { ours: ms(large.detect.runs).map((t) => t / median(ms(small.detect.runs))), baseline: [scale] },
      note: `detect at ${size(small.backup)}: ${ms(small.detect.runs)
        .map((t) => Math.round(t))
        .join(', ')} ms`,
    }),
    measure({
      id: 'service.execute.p50',
      label: 'Execute p50, warm analysis',
      unit: 'ms',
      ours: percentile(service.execute, 50),
      baseline: percentile(service.health, 50),
      baselineLabel: 'health Check',
      samples: { ours: [], baseline: [] },
      note: `${service.execute.length} calls one at a time; ${service.allowed} allowed, ${service.blocked} blocked`,
    }),
    measure({
      id: 'service.execute.p99',
      label: 'Execute p99, warm analysis',
      unit: 'ms',
      ours: percentile(service.execute, 99),
      baseline: percentile(service.health, 99),
      baselineLabel: 'health Check',
      target: { on: 'ours', max: 5, text: '<= 5 ms' },
      samples: { ours: [], baseline: [] },
      note:
        `inside the service (its log's ms, whole ms): p50 ${percentile(service.executeServerMs, 50)} ms, ` +
        `p99 ${percentile(service.executeServerMs, 99)} ms, max ${Math.max(...service.executeServerMs)} ms over ${service.executeServerMs.length} calls`,
    }),
    measure({
      id: 'service.execute.rate',
      label: 'Execute calls/s, warm, 16 in flight',
      unit: 'calls/s',
      ours: service.executeRate,
      baseline: service.healthRate,
      baselineLabel: 'health Check',
      samples: { ours: [service.executeRate], baseline: [service.healthRate] },
    }),
    measure({
      id: 'service.admission.cold',
      label: 'admission cold (analysis in the call)',
      unit: 'ms',
      ours: service.admissionCold,
      baseline: median(service.detectCold),
      baselineLabel: 'Detect cold',
      samples: { ours: [service.admissionCold], baseline: service.detectCold },
      note: `the first AdmissionReview of the process, over HTTPS; the Restore was ${service.admissionDenied ? 'denied' : 'allowed'}`,
    }),
    measure({
      id: 'service.admission.p50',
      label: 'admission p50, warm analysis',
      unit: 'ms',
      ours: percentile(service.admissionWarm, 50),
      baseline: percentile(service.httpsRoundTrip, 50),
      baselineLabel: 'HTTPS round trip',
      samples: { ours: [], baseline: [] },
      note: `${service.admissionWarm.length} AdmissionReviews one at a time on a kept-alive connection`,
    }),
    measure({
      id: 'service.admission.p99',
      label: 'admission p99, warm analysis',
      unit: 'ms',
      ours: percentile(service.admissionWarm, 99),
      baseline: percentile(service.httpsRoundTrip, 99),
      baselineLabel: 'HTTPS round trip',
      samples: { ours: [], baseline: [] },
    }),
    measure({
      id: 'service.detect.cold',
      label: `Detect cold, ${full.name}`,
      unit: 'ms',
      ours: median(service.detectCold),
      baseline: median(ms(large.detect.runs)),
      baselineLabel: 'CLI detect',
      samples: { ours: service.detectCold, baseline: ms(large.detect.runs) },
    }),
    measure({
      id: 'service.detect.warm',
      label: `Detect warm, ${full.name}`,
      unit: 'ms',
      ours: median(service.detectWarm),
      baseline: median(service.detectCold),
      baselineLabel: 'Detect cold',
      samples: { ours: service.detectWarm, baseline: service.detectCold },
    }),
    ...pluginMeasures(large.plugin, full.name),
    ...readinessMeasures(large.readiness, large.detect.runs, full.name),
    ...replicaMeasures(large.replicas),
  ];
}

function fixtureSummary(fixture: ScaleFixture, backup: ScaleBackup) {
  return {
    clusters: backup.expected.clusters,
    machines: backup.expected.machines,
    vms: fixture.manifest.vms,
    tarBytes: backup.tarBytes,
    gzipBytes: backup.gzipBytes,
  };
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    cpu: model,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
