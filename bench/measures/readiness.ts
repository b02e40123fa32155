/**
 * One readiness cycle of `serve --watch` (the newest backup listed, analysed against the vCenters,
 * its verdict computed), in a process of its own: CPU time, wall time and peak RSS. The interval
 * sets how often an operator pays this (every 10 minutes by default). Then the webhook's answer
 * from that result, which is what the warm gate buys in the hour of a restore.
 */
import type { ScaleBackup } from '../fixtures.js';
import { expectExit, lastJsonLine, probePath, runNodeWithPeakRss } from '../processes.js';
import { measure, MiB, type Measure } from '../results.js';
import { median, percentile } from '../stats.js';

export interface ReadinessRun {
  cpuMs: number;
  ms: number;
  maxRssBytes: number;
  /** The webhook's answers from the watch's result (the warm gate), and bare HTTPS round trips to it. */
  admissionMs: number[];
  httpsRoundTripMs: number[];
}

const BACKUP_NAME = 'bench-backup';
const CYCLE_TIMEOUT_MS = 10 * 60_000;

export async function measureReadiness(backup: ScaleBackup, runs: number, admissions: number): Promise<ReadinessRun[]> {
  const results: ReadinessRun[] = [];
  for (let i = 0; i < runs; i++) {
    const run = expectExit(
      await runNodeWithPeakRss([probePath('readiness'), BACKUP_NAME, backup.path, String(admissions)], { timeoutMs: CYCLE_TIMEOUT_MS }),
      'readiness cycle',
    );
    const { cpuMs, ms, admissionMs, httpsRoundTripMs } = lastJsonLine<Omit<ReadinessRun, 'maxRssBytes'>>(run, 'readiness cycle');
    results.push({ cpuMs, ms, maxRssBytes: run.maxRssBytes, admissionMs, httpsRoundTripMs });
  }
  return results;
}

const rss = (runs: { maxRssBytes: number }[]) => runs.map((r) => r.maxRssBytes / MiB);

/** The rows of one readiness cycle (CPU, peak RSS; CLI detect's RSS as the baseline) and of the warm gate. */
export function readinessMeasures(runs: ReadinessRun[], detectRuns: { maxRssBytes: number }[], scale: string): Measure[] {
  return [
    measure({
      id: 'readiness.cycle.cpu',
      label: `readiness cycle CPU time, ${scale}`,
      unit: 'ms',
      ours: median(runs.map((r) => r.cpuMs)),
      baseline: median(runs.map((r) => r.ms)),
      baselineLabel: 'its wall time',
      note: 'serve --watch: the newest backup analysed against the vCenters once (user + system CPU); paid every watch.interval',
      samples: { ours: runs.map((r) => r.cpuMs), baseline: runs.map((r) => r.ms) },
    }),
    measure({
      id: 'readiness.cycle.rss',
      label: `readiness cycle peak RSS, ${scale}`,
      unit: 'MiB',
      ours: median(rss(runs)),
      baseline: median(rss(detectRuns)),
      baselineLabel: 'CLI detect',
      samples: { ours: rss(runs), baseline: rss(detectRuns) },
      note: 'the same process answers the warm admissions below after the cycle; the analysis is its peak',
    }),
    ...readinessAdmissionMeasures(runs),
  ];
}

/** The webhook's answer from a watch result (analysis.maxAge, no analysis cache): the warm gate in the hour of a restore. */
function readinessAdmissionMeasures(runs: ReadinessRun[]): Measure[] {
  return admissionPercentiles(runs, {
    id: 'readiness.admission',
    label: 'from the watch result',
    note: (n) => `${n} AdmissionReviews one at a time, analysis.cacheTTL 0: only the watch's result answers`,
  });
}

/** p50 and p99 rows of warm admissions beside the bare HTTPS round trip to the same listener. */
export function admissionPercentiles(
  runs: Array<{ admissionMs: number[]; httpsRoundTripMs: number[] }>,
  row: { id: string; label: string; note: (samples: number) => string },
): Measure[] {
  const admissions = runs.flatMap((r) => r.admissionMs);
  const roundTrips = runs.flatMap((r) => r.httpsRoundTripMs);
  return ([50, 99] as const).map((p) =>
    measure({
      id: `${row.id}.p${p}`,
      label: `admission p${p}, ${row.label}`,
      unit: 'ms',
      ours: percentile(admissions, p),
      baseline: percentile(roundTrips, p),
      baselineLabel: 'HTTPS round trip',
      samples: { ours: [], baseline: [] },
      ...(p === 50 ? { note: row.note(admissions.length) } : {}),
    }),
  );
}
