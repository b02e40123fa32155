/**
 * Child process of the readiness measure: `serve`'s server with the watch on, one storage
 * location whose newest backup is BACKUP_NAME, read from FILE (the download is not what is
 * measured), with the real detection against the bench's vCenters. It runs one readiness cycle,
 * then answers CALLS AdmissionReviews of a Restore of that backup from the watch's result (the
 * warm gate: analysis.cacheTTL is 0, so nothing else could answer), prints
 * {"cpuMs","ms","restorable","admissionMs","httpsRoundTripMs"} and exits; the parent reads its peak RSS.
 *
 *   node build/bench/probes/readiness.js BACKUP_NAME FILE CALLS
 */
import * as grpc from '@grpc/grpc-js';
import type { LocationReadiness } from '../../src/app/readiness.js';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { startService } from '../../src/serve/start.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { RestoreAdmission } from '../../src/app/admission.js';
import type { DriftService } from '../../src/app/drift-service.js';
import { startWebhook } from '../../src/webhook/server.js';
import { testConfig } from '../../test/grpc/helpers.js';
import { makePki } from '../../test/grpc/pki.js';
import { timeEach, webhookClient } from '../webhook-client.js';

const WARMUP_CALLS = 10;

const [backupName, file, callsText] = process.argv.slice(2);
const calls = Number(callsText);
if (!backupName || !file || !(calls > 0)) {
  process.stderr.write('usage: readiness.js BACKUP_NAME FILE CALLS\n');
  process.exit(2);
}

const base = testConfig();
const cpu = process.cpuUsage();
const started = performance.now();
const running = await startService({
  config: testConfig({
    logLevel: 'info',
    // No analysis cache: an admission is answered from the watch's result (maxAge) or not at all.
    analysis: {
      ...base.analysis,
      cacheTtlMs: 0,
      maxAgeMs: 60 * 60_000,
      timeoutMs: 10 * 60_000,
      vcenterTimeoutMs: 120_000,
      skipAccessApiServer: true,
    },
    // One cycle: the interval is longer than the run.
    watch: { enabled: true, intervalMs: 60 * 60_000, events: false, source: 'bucket' },
  }),
  secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
  deps: {
    resolveBackup: () => fileBackupSource(file),
    catalogOf: () => ({ recentCompleted: () => Promise.resolve({ backups: [{ name: backupName }], future: [] }) }),
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
if (state.error) {
  process.stderr.write(`readiness cycle failed: ${state.error}\n`);
  process.exit(1);
}
const warm = await warmAdmissions(running.service);
await running.shutdown(2_000);
process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, ms, restorable: state.readiness?.restorable, ...warm })}\n`);

/** The webhook on loopback HTTPS, answering from the watch's result; a few calls first to open the connection. */
async function warmAdmissions(service: DriftService): Promise<{ admissionMs: number[]; httpsRoundTripMs: number[] }> {
  const pki = await makePki();
  const logger = jsonLogger({ level: 'warn' });
  const deadlineMs = 60_000;
  const webhook = await startWebhook({
    config: { listen: '127.0.0.1:0', certFile: pki.serverCert, keyFile: pki.serverKey, deadlineMs },
    admission: new RestoreAdmission(service, { deadlineMs, logger }),
    logger,
  });
  const client = webhookClient({ port: webhook.port, caCert: pki.caCert, backup: backupName!, timeoutMs: deadlineMs });
  try {
    await timeEach(WARMUP_CALLS, () => client.admit());
    return { admissionMs: await timeEach(calls, () => client.admit()), httpsRoundTripMs: await timeEach(calls, () => client.roundTrip()) };
  } finally {
    client.close();
    await webhook.close();
    await pki.remove();
  }
}
