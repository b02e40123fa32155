/**
 * `drift-detector unpause` (the forecast, its dry run) of the bench's management cluster: the TKG
 * objects of the scale backup restored into the loopback Kubernetes API as Velero leaves them (no
 * status, no owner references, no uid), the same simulator as `detect`. Wall time and peak RSS of
 * the CLI in its own process, beside `detect` at the same scale. The forecast is checked to hold
 * every cluster, so a run that read nothing cannot pass for a result.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Forecast } from '../../src/forecast/model.js';
import { tkgBackupItems } from '../../test/fixtures/builder.js';
import { startKubeApi, type KubeApi } from '../../test/helpers/kube-api.js';
import { describeBackup, type VCenterAddress } from '../fixtures.js';
import type { Preset } from '../presets.js';
import { expectExit, runNodeWithPeakRss } from '../processes.js';
import { measure, MiB, type Measure } from '../results.js';
import { median } from '../stats.js';
import type { DetectRun } from './detect.js';

const UNPAUSE_TIMEOUT_MS = 10 * 60_000;

export interface UnpauseSamples {
  runs: DetectRun[];
  /** Clusters forecast (the workload clusters and the old management cluster). */
  clusters: number;
  objects: number;
}

export async function measureUnpause(cli: string, preset: Preset, vcenter: VCenterAddress, runs: number): Promise<UnpauseSamples> {
  const api = await startKubeApi();
  const dir = await mkdtemp(join(tmpdir(), 'bench-unpause-'));
  try {
    const objects = restore(api, preset, vcenter);
    const kubeconfig = await api.writeKubeconfig(dir);
    const output = join(dir, 'forecast.json');
    const out: DetectRun[] = [];
    for (let i = 0; i < runs; i++) {
      const result = await runNodeWithPeakRss(
        [cli, 'unpause', '--kubeconfig', kubeconfig, '--skip-access-apiserver', '--format', 'json', '-o', output],
        { timeoutMs: UNPAUSE_TIMEOUT_MS, discardStdout: true },
      );
      // 1: some cluster is to review or unsafe (the backup holds ghosts and stale machines).
      expectExit(result, 'drift-detector unpause', [0, 1]);
      out.push({ ms: result.ms, maxRssBytes: result.maxRssBytes });
    }
    const forecast = JSON.parse(await readFile(output, 'utf8')) as Forecast;
    if (forecast.clusters.length !== preset.clusters + 1) {
      throw new Error(`drift-detector unpause forecast ${forecast.clusters.length} clusters, expected ${preset.clusters + 1}`);
    }
    return { runs: out, clusters: forecast.clusters.length, objects };
  } finally {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The backup's TKG objects in the API as a restore leaves them (paused Clusters); returns how many. */
function restore(api: KubeApi, preset: Preset, vcenter: VCenterAddress): number {
  let stored = 0;
  for (const { object } of tkgBackupItems(describeBackup(preset, vcenter)).items) {
    const { status: _status, ...rest } = object as typeof object & { status?: unknown };
    const metadata = { ...rest.metadata };
    for (const key of ['uid', 'ownerReferences', 'resourceVersion', 'creationTimestamp'] as const) delete metadata[key];
    const spec = (rest['spec'] ?? {}) as Record<string, unknown>;
    const restored = rest.kind === 'Cluster' ? { ...rest, metadata, spec: { ...spec, paused: true } } : { ...rest, metadata };
    try {
      api.put(restored);
      stored += 1;
    } catch {
      // Kinds the forecast does not read (KubeadmConfigs...) are not served by the loopback API.
    }
  }
  return stored;
}

/** The forecast's rows, beside `detect` of the same scale. */
export function unpauseMeasures(preset: Preset, unpause: UnpauseSamples, detect: DetectRun[]): Measure[] {
  const ms = (runs: DetectRun[]) => runs.map((r) => r.ms);
  const rss = (runs: DetectRun[]) => runs.map((r) => r.maxRssBytes / MiB);
  const note = `${unpause.clusters} clusters, ${unpause.objects} objects in the loopback API; vCenter walked, workload clusters skipped`;
  return [
    measure({
      id: 'unpause.time',
      label: `unpause forecast, ${preset.name} (CLI)`,
      unit: 'ms',
      ours: median(ms(unpause.runs)),
      baseline: median(ms(detect)),
      baselineLabel: 'detect, same scale',
      samples: { ours: ms(unpause.runs), baseline: ms(detect) },
      note,
    }),
    measure({
      id: 'unpause.rss',
      label: `unpause forecast peak RSS, ${preset.name} (CLI)`,
      unit: 'MiB',
      ours: median(rss(unpause.runs)),
      baseline: median(rss(detect)),
      baselineLabel: 'detect, same scale',
      samples: { ours: rss(unpause.runs), baseline: rss(detect) },
    }),
  ];
}
