/**
 * Child process of the readiness measure: `serve`'s server with the watch on, one storage
 * location whose newest backup is BACKUP_NAME, read from FILE (the download is not what is
 * measured), with the real detection against the bench's vCenters. It runs one readiness cycle,
 * prints {"cpuMs","ms","restorable"} and exits; the parent reads its peak RSS.
 *
 *   node build/bench/probes/readiness.js BACKUP_NAME FILE
 */
import * as grpc from '@grpc/grpc-js';
import type { LocationReadiness } from '../../src/app/readiness.js';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { startService } from '../../src/grpc/server.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { testConfig } from '../../test/grpc/helpers.js';

const [backupName, file] = process.argv.slice(2);
if (!backupName || !file) {
  process.stderr.write('usage: readiness.js BACKUP_NAME FILE\n');
  process.exit(2);
}

const base = testConfig();
const cpu = process.cpuUsage();
const started = performance.now();
const running = await startService({
  config: testConfig({
    logLevel: 'info',
    analysis: { ...base.analysis, timeoutMs: 10 * 60_000, vcenterTimeoutMs: 120_000, skipAccessApiServer: true },
    // One cycle: the interval is longer than the run.
    watch: { enabled: true, intervalMs: 60 * 60_000, events: false, source: 'bucket' },
  }),
  secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
  deps: {
    resolveBackup: () => fileBackupSource(file),
    catalogOf: () => ({ newestCompleted: () => Promise.resolve({ name: backupName }) }),
  },
  logger: jsonLogger({ level: 'warn' }),
  metrics: createMetrics({ defaultMetrics: false }),
});
const state = await new Promise<LocationReadiness>((resolve) => {
  running.readiness!.subscribe((s) => {
    if (s.analyzedAt !== undefined || s.error) resolve(s);
  });
});
const used = process.cpuUsage(cpu);
const ms = performance.now() - started;
await running.shutdown(2_000);
if (state.error) {
  process.stderr.write(`readiness cycle failed: ${state.error}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, ms, restorable: state.readiness?.restorable })}\n`);
