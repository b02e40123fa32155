/**
 * Run in a child process, so that its peak RSS is the reader's alone: reads a plain tarball of
 * `count` Secret entries of `sizeMiB` each, produced on demand, and prints what happened.
 * Arguments: count sizeMiB dataKey [budgetMiB] [readerModule].
 */
import { streamedSource, type StreamedEntry } from '../backup/helpers.js';
import { ownPeakRssBytes } from '../helpers/peak-rss.js';

const [count, sizeMiB, dataKey, budgetMiB, readerModule] = process.argv.slice(2);
const { readBackup } = (await import(readerModule ?? '../../src/backup/reader.js')) as typeof import('../../src/backup/reader.js');

const value = 'A'.repeat(Number(sizeMiB) * 1024 * 1024);
// One body for every entry (the path names the Secret), so the producer holds one copy.
const body = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"${dataKey}":"${value}"}}`;
const entries: StreamedEntry[] = [];
for (let i = 0; i < Number(count); i++) {
  entries.push({ name: `resources/secrets/namespaces/default/s${i}.json`, body });
}
entries.push({
  name: 'resources/clusters.cluster.x-k8s.io/namespaces/default/wc1.json',
  body: '{"apiVersion":"cluster.x-k8s.io/v1beta1","kind":"Cluster","metadata":{"name":"wc1","namespace":"default"}}',
});
const started = Date.now();
let outcome: { ok: boolean; error?: string };
try {
  const options = budgetMiB ? { maxRetainedBytes: Number(budgetMiB) * 1024 * 1024 } : {};
  const objects = await readBackup(streamedSource('bomb.tar', entries), options);
  outcome = { ok: true, error: `${objects.secrets.length} secrets` };
} catch (err) {
  outcome = { ok: false, error: (err as Error).message };
}
const maxRssMiB = Math.round(ownPeakRssBytes() / (1024 * 1024));
process.stdout.write(JSON.stringify({ ...outcome, maxRssMiB, ms: Date.now() - started }) + '\n');
