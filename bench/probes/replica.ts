/**
 * Child process of the replica measures: one replica of `serve` as the Deployment runs it, with
 * the readiness watch under leader election (default Lease timings) against the cluster of
 * KUBECONFIG, the real detection reading backup BACKUP_NAME from FILE (the download is not what is
 * measured), and its admission webhook answering from the verdicts on the Backups. Prints
 * {"webhookPort", "caCert"} when serving; SIGTERM stops it as `serve` stops (the Lease released).
 *
 *   KUBECONFIG=... POD_NAME=replica-a node build/bench/probes/replica.js BACKUP_NAME FILE
 */
import * as grpc from '@grpc/grpc-js';
import { fileBackupSource } from '../../src/backup/file-source.js';
import type { BackupSource } from '../../src/backup/source.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { startService } from '../../src/serve/start.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { testConfig } from '../../test/grpc/helpers.js';
import { makePki } from '../../test/grpc/pki.js';

const [backupName, file] = process.argv.slice(2);
if (!backupName || !file || !process.env['KUBECONFIG']) {
  process.stderr.write('usage: KUBECONFIG=... replica.js BACKUP_NAME FILE\n');
  process.exit(2);
}

const base = testConfig();
const pki = await makePki();
const running = await startService({
  config: testConfig({
    logLevel: 'warn',
    analysis: { ...base.analysis, cacheTtlMs: 0, timeoutMs: 10 * 60_000, vcenterTimeoutMs: 120_000, skipAccessApiServer: true },
    watch: {
      enabled: true,
      intervalMs: 60 * 60_000,
      events: false,
      source: 'cluster',
      depth: 1,
      leaderElection: DEFAULTS.watch.leaderElection,
    },
    webhook: { listen: '127.0.0.1:0', certFile: pki.serverCert, keyFile: pki.serverKey, deadlineMs: 10 * 60_000 },
  }),
  secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
  deps: {
    resolveBackup: (name: string): BackupSource =>
      name === backupName
        ? fileBackupSource(file)
        : { description: `bench:${name}`, open: () => Promise.reject(new Error(`backup ${name} not found`)) },
  },
  logger: jsonLogger({ level: 'warn' }),
  metrics: createMetrics({ defaultMetrics: false }),
  env: process.env,
});
process.stdout.write(`${JSON.stringify({ webhookPort: running.webhook!.port, caCert: pki.caCert })}\n`);

process.once('SIGTERM', () => {
  void running
    .shutdown(2_000)
    .then(() => pki.remove())
    .then(() => process.exit(0));
});
