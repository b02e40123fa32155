/**
 * Tarball scan: readBackup alone, in its own process, against `gzip -dc FILE > /dev/null` on the
 * same file (what no reader of a gzip tarball can beat), and the reader's peak RSS.
 */
import { expectExit, lastJsonLine, probePath, runProcess } from '../processes.js';

export interface ScanRun {
  ms: number;
  maxRssBytes: number;
  clusters?: number;
  machines?: number;
}

export interface ScanSamples {
  reader: ScanRun[];
  /** Wall times of gzip -dc. */
  gzip: number[];
  /** Peak RSS of a Node process that loaded the reader and read nothing. */
  floorRssBytes: number[];
}

const READ_TIMEOUT_MS = 5 * 60_000;

/**
 * `runs` rounds of gzip -dc, the reader's floor and the reader, one after the other, so each pair
 * meets the same conditions (after one unmeasured pass to warm the page cache).
 */
export async function measureScan(path: string, runs: number): Promise<ScanSamples> {
  await gunzipToNull(path);
  const samples: ScanSamples = { reader: [], gzip: [], floorRssBytes: [] };
  for (let i = 0; i < runs; i++) {
    samples.gzip.push(await gunzipToNull(path));
    samples.floorRssBytes.push(await nodeFloorRss());
    samples.reader.push(await readOnce(path));
  }
  return samples;
}

export async function readOnce(path: string): Promise<ScanRun> {
  const result = expectExit(
    await runProcess(process.execPath, [probePath('read-backup'), path], { timeoutMs: READ_TIMEOUT_MS }),
    `readBackup ${path}`,
  );
  return lastJsonLine<ScanRun>(result, 'read-backup probe');
}

async function nodeFloorRss(): Promise<number> {
  const result = expectExit(
    await runProcess(process.execPath, [probePath('read-backup'), '--noop'], { timeoutMs: 60_000 }),
    'read-backup --noop',
  );
  return lastJsonLine<ScanRun>(result, 'read-backup probe').maxRssBytes;
}

async function gunzipToNull(path: string): Promise<number> {
  const result = expectExit(await runProcess('gzip', ['-dc', path], { timeoutMs: READ_TIMEOUT_MS, discardStdout: true }), `gzip -dc ${path}`);
  return result.ms;
}
