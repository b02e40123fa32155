/**
 * Run in a child process, so that its peak RSS is the client's alone: lists the Backups of
 * namespace velero at the API server given as argument, and prints what happened.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { kubeClient } from '../../src/kube/client.js';
import { ownPeakRssBytes } from '../helpers/peak-rss.js';

const [server] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromClusterAndUser({ name: 'api', server: server!, skipTLSVerify: true }, { name: 'reader', token: 'test-token' });
const started = Date.now();
let outcome: { ok: boolean; error?: string };
try {
  const client = await kubeClient(kc, { timeoutMs: 100_000 });
  const backups = await client.listVeleroObjects('Backup', 'velero', '');
  outcome = { ok: true, error: `${backups.length} backups` };
} catch (err) {
  outcome = { ok: false, error: (err as Error).message };
}
const maxRssMiB = Math.round(ownPeakRssBytes() / (1024 * 1024));
process.stdout.write(JSON.stringify({ ...outcome, maxRssMiB, ms: Date.now() - started }) + '\n');
