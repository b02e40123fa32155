import { readFile } from 'node:fs/promises';
import type { DriftReport } from '../model/report.js';
import { errorMessage } from '../util/values.js';

/**
 * Reads a JSON report written earlier. Only its shape is checked: the values in it are treated as
 * untrusted by every reader (names are quoted, UUIDs re-checked against vCenter before any action).
 */
export async function readReportFile(path: string): Promise<DriftReport> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    // The parser's message may quote the file; say only what went wrong where.
    throw new Error(`cannot read the report ${path}: ${err instanceof SyntaxError ? 'not JSON' : errorMessage(err)}`, { cause: err });
  }
  const r = value as Partial<DriftReport> | null;
  const ok =
    typeof r === 'object' &&
    r !== null &&
    typeof r.summary === 'object' &&
    Array.isArray(r.clusters) &&
    Array.isArray(r.infraMachines) &&
    Array.isArray(r.errors) &&
    r.clusters.every((c) => Array.isArray(c?.controlPlane?.machines) && Array.isArray(c?.workers?.machines));
  if (!ok) throw new Error(`${path} is not a drift report (written by drift-detector detect)`);
  return r as DriftReport;
}
