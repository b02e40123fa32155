/**
 * End-to-end `drift-detector detect`: the CLI in its own process, as an operator runs it, with
 * --skip-access-apiserver against the simulator; wall time and peak RSS. Each report is checked
 * against what the fixture holds, so a fast run that found nothing cannot pass for a result.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import type { ScaleBackup } from '../fixtures.js';
import { expectExit, runNodeWithPeakRss } from '../processes.js';

export interface DetectRun {
  ms: number;
  maxRssBytes: number;
}

export interface ReportCheck {
  ok: boolean;
  found: { clusters: number; machines: number; ghosts: number; stale: number };
  expected: ScaleBackup['expected'];
}

const DETECT_TIMEOUT_MS = 10 * 60_000;

export async function measureDetect(cli: string, backup: ScaleBackup, runs: number): Promise<{ runs: DetectRun[]; check: ReportCheck }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-detect-'));
  try {
    const output = join(dir, 'report.json');
    const out: DetectRun[] = [];
    for (let i = 0; i < runs; i++) {
      const result = await runNodeWithPeakRss([cli, 'detect', '--backup', backup.path, '-o', output, '--skip-access-apiserver'], {
        timeoutMs: DETECT_TIMEOUT_MS,
        discardStdout: true,
      });
      expectExit(result, 'drift-detector detect');
      out.push({ ms: result.ms, maxRssBytes: result.maxRssBytes });
    }
    const report = JSON.parse(await readFile(output, 'utf8')) as DriftReport;
    return { runs: out, check: checkReport(report, backup.expected) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * What every `detect` pays before reading anything: starting the CLI (`--version` loads the same
 * modules), against a bare `node -e ''`; wall time and peak RSS of each.
 */
export async function measureStartup(cli: string, runs: number): Promise<{ cli: DetectRun[]; node: DetectRun[] }> {
  const out = { cli: [] as DetectRun[], node: [] as DetectRun[] };
  for (let i = 0; i < runs; i++) {
    const bare = expectExit(await runNodeWithPeakRss(['-e', ''], { timeoutMs: 60_000, discardStdout: true }), "node -e ''");
    out.node.push({ ms: bare.ms, maxRssBytes: bare.maxRssBytes });
    const started = expectExit(
      await runNodeWithPeakRss([cli, '--version'], { timeoutMs: 60_000, discardStdout: true }),
      'drift-detector --version',
    );
    out.cli.push({ ms: started.ms, maxRssBytes: started.maxRssBytes });
  }
  return out;
}

export function checkReport(report: DriftReport, expected: ScaleBackup['expected']): ReportCheck {
  const machines: MachineReport[] = report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]);
  const found = {
    clusters: report.summary.clusters.total,
    machines: machines.filter((m) => m.source === 'backup').length,
    ghosts: machines.filter((m) => m.status === 'Ghost').length,
    stale: machines.filter((m) => m.status === 'Stale').length,
  };
  const ok =
    found.clusters === expected.clusters &&
    found.machines === expected.machines &&
    found.ghosts === expected.ghosts &&
    found.stale === expected.stale;
  return { ok, found, expected };
}
