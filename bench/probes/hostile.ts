/**
 * Child process of the hostile-input measures: one attack, then one JSON line {ms, maxRssBytes,
 * outcome}. `secrets COUNT MIB`: readBackup of a tarball of COUNT Secret entries of MIB each
 * (with a key the analysis never reads), produced on demand. `paging SERVER THUMBPRINT PAGES`:
 * listVCenter of a vCenter that pages forever, stopped at PAGES pages.
 *
 *   node build/bench/probes/hostile.js secrets 80 15 | paging 127.0.0.1:PORT THUMBPRINT 1000
 */
import { readBackup } from '../../src/backup/reader.js';
import { listVCenter } from '../../src/vsphere/inventory.js';
import { ownPeakRssBytes } from '../../test/helpers/peak-rss.js';
import { streamedSource, type StreamedEntry } from '../../test/backup/helpers.js';

const [attack, ...args] = process.argv.slice(2);
const started = process.hrtime.bigint();
let outcome: string;
if (attack === 'secrets') {
  const [count, sizeMiB] = args.map(Number);
  // One body for every entry (the path names the Secret), so the producer holds one copy.
  const body = `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"},"data":{"token":"${'A'.repeat(sizeMiB! * 1024 * 1024)}"}}`;
  const entries: StreamedEntry[] = Array.from({ length: count! }, (_, i) => ({
    name: `resources/secrets/namespaces/default/s${i}.json`,
    body,
  }));
  entries.push({
    name: 'resources/clusters.cluster.x-k8s.io/namespaces/default/wc1.json',
    body: '{"apiVersion":"cluster.x-k8s.io/v1beta1","kind":"Cluster","metadata":{"name":"wc1","namespace":"default"}}',
  });
  const objects = await readBackup(streamedSource('bomb.tar', entries));
  outcome = `${objects.secrets.length} Secrets kept`;
} else if (attack === 'paging') {
  const [server, thumbprint, pages] = args;
  const listing = await listVCenter(
    { server: server!, thumbprint: thumbprint!, username: 'admin', password: 'bench' },
    { maxPages: Number(pages) },
  );
  outcome = listing.ok ? `${listing.vms.length} VMs: the walk ended` : listing.reason;
} else {
  process.stderr.write('usage: hostile.js secrets COUNT MIB | paging SERVER THUMBPRINT PAGES\n');
  process.exit(2);
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(`${JSON.stringify({ ms, maxRssBytes: ownPeakRssBytes(), outcome })}\n`);
