/**
 * One readiness cycle of `serve --watch` (the newest backup listed, analysed against the vCenters,
 * its verdict computed), in a process of its own: CPU time, wall time and peak RSS. The interval
 * sets how often an operator pays this (every 10 minutes by default).
 */
import type { ScaleBackup } from '../fixtures.js';
import { expectExit, lastJsonLine, probePath, runNodeWithPeakRss } from '../processes.js';

export interface ReadinessRun {
  cpuMs: number;
  ms: number;
  maxRssBytes: number;
}

const BACKUP_NAME = 'bench-backup';
const CYCLE_TIMEOUT_MS = 10 * 60_000;

export async function measureReadiness(backup: ScaleBackup, runs: number): Promise<ReadinessRun[]> {
  const results: ReadinessRun[] = [];
  for (let i = 0; i < runs; i++) {
    const run = expectExit(
      await runNodeWithPeakRss([probePath('readiness'), BACKUP_NAME, backup.path], { timeoutMs: CYCLE_TIMEOUT_MS }),
      'readiness cycle',
    );
    const { cpuMs, ms } = lastJsonLine<{ cpuMs: number; ms: number }>(run, 'readiness cycle');
    results.push({ cpuMs, ms, maxRssBytes: run.maxRssBytes });
  }
  return results;
}
