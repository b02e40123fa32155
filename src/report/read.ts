import { readFile } from 'node:fs/promises';
import type { DriftReport } from '../model/report.js';
import { errorMessage, isMap } from '../util/values.js';
import { checkReportFields, ReportFieldError } from './validate.js';

/**
 * Reads a JSON report written earlier. Every field a reader uses is type-checked (validate.ts); the
 * values are still untrusted by every reader (names are quoted, and `remediate --apply` acts only on
 * what it re-derives from the backup, vCenter and the workload cluster).
 */
export async function readReportFile(path: string): Promise<DriftReport> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    // The parser's message may quote the file; say only what went wrong where.
    throw new Error(`cannot read the report ${path}: ${err instanceof SyntaxError ? 'not JSON' : errorMessage(err)}`, { cause: err });
  }
  // Something else altogether (an inventory snapshot, a plan) is named as such; a report with a
  // field of the wrong type is named by that field.
  if (!isMap(value) || !('summary' in value) || !('clusters' in value)) {
    throw new Error(`${path} is not a drift report (written by drift-detector detect)`);
  }
  try {
    return checkReportFields(value);
  } catch (err) {
    if (err instanceof ReportFieldError) throw new Error(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
