/**
 * Run in a child process, so that its peak RSS is the walk's alone: lists one fault vCenter and
 * prints the outcome. Arguments: fault (endless | huge | close | hang) and a JSON object of ListOptions.
 */
import { listVCenter } from '../../src/vsphere/inventory.js';
import { ownPeakRssBytes } from '../helpers/peak-rss.js';
import { startFakeVim, type FakeVimOptions } from '../vsphere/fake-vim.js';

const [fault, optionsJson] = process.argv.slice(2);
const faults: Record<string, Partial<FakeVimOptions>> = {
  endless: { endless: true, pageSize: 500 },
  huge: { hugeBodyOn: 'RetrievePropertiesEx' },
  close: { closeMidStreamOn: 'RetrievePropertiesEx' },
  hang: { hangOn: 'ContinueRetrievePropertiesEx', pageSize: 1 },
};
const fake = await startFakeVim({ vms: [], pageSize: 0, ...faults[fault!] });
const started = Date.now();
const listing = await listVCenter(
  { server: fake.server, username: 'admin', password: 'Fault-Pa55', thumbprint: fake.thumbprint },
  JSON.parse(optionsJson ?? '{}') as object,
);
const ms = Date.now() - started;
await fake.stop();
const maxRssMiB = Math.round(ownPeakRssBytes() / (1024 * 1024));
process.stdout.write(JSON.stringify({ ok: listing.ok, error: listing.ok ? undefined : listing.reason, maxRssMiB, ms }) + '\n');
