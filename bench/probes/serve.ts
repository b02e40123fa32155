/**
 * Child process of the service measures: `drift-detector serve` (startService) on
 * loopback, with the real detection, reading backup BACKUP_NAME from FILE instead of a bucket
 * (the download is not what is measured), and its admission webhook on loopback HTTPS (a test CA).
 * Prints {"address", "webhookPort", "caCert"} when serving; stops when stdin closes.
 *
 *   node build/bench/probes/serve.js BACKUP_NAME FILE
 */
import * as grpc from '@grpc/grpc-js';
import { fileBackupSource } from '../../src/backup/file-source.js';
import type { BackupSource } from '../../src/backup/source.js';
import { startService } from '../../src/serve/start.js';
import { createMetrics } from '../../src/grpc/metrics.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { testConfig } from '../../test/grpc/helpers.js';
import { makePki } from '../../test/grpc/pki.js';

const [backupName, file] = process.argv.slice(2);
if (!backupName || !file) {
  process.stderr.write('usage: serve.js BACKUP_NAME FILE\n');
  process.exit(2);
}

const base = testConfig();
const pki = await makePki();
const running = await startService({
  config: testConfig({
    logLevel: 'info',
    // A deadline beyond any analysis: the cold admission is measured whole, not answered by failurePolicy.
    webhook: { listen: '127.0.0.1:0', certFile: pki.serverCert, keyFile: pki.serverKey, deadlineMs: 10 * 60_000 },
    analysis: { ...base.analysis, cacheTtlMs: 60 * 60_000, timeoutMs: 10 * 60_000, vcenterTimeoutMs: 120_000, skipAccessApiServer: true },
  }),
  secrets: { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} },
  deps: {
    resolveBackup: (name): BackupSource =>
      name === backupName
        ? fileBackupSource(file)
        : { description: `bench:${name}`, open: () => Promise.reject(new Error(`backup ${name} not found`)) },
  },
  // Info-level lines, as a deployment writes them (the parent sends them to /dev/null).
  logger: jsonLogger({ level: 'info' }),
  metrics: createMetrics({ defaultMetrics: false }),
});
const webhook = running.webhook!;
process.stdout.write(`${JSON.stringify({ address: running.address, webhookPort: webhook.port, caCert: pki.caCert })}\n`);

process.stdin.resume();
process.stdin.on('end', () => {
  void running
    .shutdown(2_000)
    .then(() => pki.remove())
    .then(() => process.exit(0));
});
