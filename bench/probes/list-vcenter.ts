/**
 * Child process of the inventory measure: lists one vCenter with listVCenter, `runs` times in a
 * row, and prints one JSON line per walk, {ms, vms, capv, withFolder, withPool}, like the Go
 * reference (test/harness/govmomi-inventory). The password comes from BENCH_VSPHERE_PASSWORD.
 *
 *   node build/bench/probes/list-vcenter.js SERVER THUMBPRINT [RUNS]
 */
import { listVCenter } from '../../src/vsphere/inventory.js';

const [server, thumbprint, runsArg = '1'] = process.argv.slice(2);
if (!server || !thumbprint) {
  process.stderr.write('usage: list-vcenter.js SERVER THUMBPRINT [RUNS]\n');
  process.exit(2);
}
const password = process.env.BENCH_VSPHERE_PASSWORD || 'bench';
for (let i = 0; i < Number(runsArg); i++) {
  const started = process.hrtime.bigint();
  const listing = await listVCenter({ server, thumbprint, username: 'administrator@vsphere.local', password }, { timeoutMs: 120_000 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!listing.ok) {
    process.stderr.write(`list-vcenter: ${listing.vcenter}: ${listing.reason}\n`);
    process.exit(1);
  }
  const { vms } = listing;
  const count = (f: (vm: (typeof vms)[number]) => unknown) => vms.filter(f).length;
  process.stdout.write(
    `${JSON.stringify({ ms, vms: vms.length, capv: count((vm) => vm.capvMetadata), withFolder: count((vm) => vm.folder), withPool: count((vm) => vm.resourcePool) })}\n`,
  );
}
