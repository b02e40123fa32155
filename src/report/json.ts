import type { DriftReport } from '../model/report.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export function renderJson(report: DriftReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Writes the JSON report atomically: a failed run never leaves a half-written report. */
export async function writeJsonReport(path: string, report: DriftReport): Promise<void> {
  await writeFileAtomic(path, renderJson(report), 0o644);
}
