import test from 'ava';
import net from 'node:net';
import type { InventoryVM } from '../../src/model/inventory.js';
import { listVCenter, listVCenters } from '../../src/vsphere/inventory.js';
import type { VcsimSeed } from '../helpers/seed.js';
import { closedPort, startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { capvVM, SEEDED_CONTROL_PLANE } from '../helpers/vms.js';

const USERNAME = 'administrator@vsphere.local';
const PASSWORD = 'Vc-Pa55word!';
const USERDATA = 'I2Nsb3VkLWNvbmZpZwpwYXNzd29yZDogaHVudGVyMg==';

const SEED: VcsimSeed = {
  username: USERNAME,
  password: PASSWORD,
  datacenters: [
    {
      name: 'DC0',
      folders: ['tkg', 'tkg/workload'],
      resourcePools: ['tkg'],
      vms: [
        {
          name: 'mgmt-control-plane-x7k2p',
          uuid: '4223A39E-1D5C-4F7B-9A51-0C2E7A1B3C01',
          instanceUuid: '5C0B4F0E-6D7B-4AD6-9A7E-00000000C001',
          folder: 'tkg',
          resourcePool: 'tkg',
          extraConfig: {
            'guestinfo.metadata': 'aW5zdGFuY2UtaWQ6ICJtZ210LWNvbnRyb2wtcGxhbmUteDdrMnAi',
            'guestinfo.metadata.encoding': 'base64',
            'guestinfo.userdata': USERDATA,
          },
        },
        {
          name: 'wl-md-0-5f8d9-abcde',
          uuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c02',
          instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c002',
          folder: 'tkg/workload',
          powerState: 'suspended',
        },
        {
          name: 'ubuntu-2204-kube-v1.28.7',
          uuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c03',
          instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c003',
          template: true,
        },
      ],
    },
    {
      name: 'DC1',
      cluster: 'Edge',
      resourcePools: ['apps'],
      vms: [
        {
          name: 'legacy-db',
          uuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c04',
          instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c004',
          resourcePool: 'apps',
          powerState: 'poweredOff',
        },
        {
          // Names are data: blanks around them are kept, quotes and ampersands decoded.
          name: ' "billing" & reports ',
          uuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c05',
          instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c005',
        },
      ],
    },
  ],
};

let vcsim: Vcsim;

test.before(async () => {
  vcsim = await startVcsim(SEED);
});

test.after.always(async () => {
  await vcsim?.stop();
});

function target(overrides: Partial<{ server: string; password: string; thumbprint: string | undefined }> = {}) {
  return { server: vcsim.server, username: USERNAME, password: PASSWORD, thumbprint: vcsim.thumbprint, ...overrides };
}

test('reads every VM of two datacenters with folder, pool, power state, template and CAPV metadata', async (t) => {
  const debug: string[] = [];
  const listing = await listVCenter(target(), { debug: (m) => debug.push(m) });
  if (!listing.ok) return t.fail(listing.reason);
  t.is(listing.vcenter, vcsim.server);
  const byName = new Map(listing.vms.map((vm) => [vm.name, vm]));
  const strip = ({ moref, ...rest }: InventoryVM) => {
    t.regex(moref, /^vm-\d+$/);
    return rest;
  };
  t.deepEqual(strip(byName.get(SEEDED_CONTROL_PLANE.name)!), capvVM(SEEDED_CONTROL_PLANE));
  t.deepEqual(
    strip(byName.get('wl-md-0-5f8d9-abcde')!),
    capvVM(
      { name: 'wl-md-0-5f8d9-abcde', biosUuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c02', instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c002' },
      { powerState: 'suspended', folder: '/DC0/vm/tkg/workload', resourcePool: '/DC0/host/DC0_C0/Resources', capvMetadata: false },
    ),
  );
  const templateVM = strip(byName.get('ubuntu-2204-kube-v1.28.7')!);
  t.like(templateVM, { template: true, datacenter: 'DC0', folder: '/DC0/vm', capvMetadata: false });
  t.is(templateVM.resourcePool, undefined);
  t.deepEqual(strip(byName.get('legacy-db')!), {
    name: 'legacy-db',
    biosUuid: '4223a39e-1d5c-4f7b-9a51-0c2e7a1b3c04',
    instanceUuid: '5c0b4f0e-6d7b-4ad6-9a7e-00000000c004',
    template: false,
    powerState: 'poweredOff',
    datacenter: 'DC1',
    folder: '/DC1/vm',
    resourcePool: '/DC1/host/Edge/Resources/apps',
    capvMetadata: false,
  });
  // Only the seeded VMs (the simulator's default model has none left over), sorted by name.
  t.deepEqual(
    listing.vms.map((vm) => vm.name),
    [' "billing" & reports ', 'legacy-db', 'mgmt-control-plane-x7k2p', 'ubuntu-2204-kube-v1.28.7', 'wl-md-0-5f8d9-abcde'],
  );
  // The self-signed certificate was accepted through the pinned thumbprint, in one walk.
  t.true(debug.includes(`${vcsim.server}: TLS accepted (thumbprint)`), debug.join('\n'));
  t.is(debug.filter((m) => / RetrievePropertiesEx: /.test(m)).length, 1);
  t.false(JSON.stringify(listing).includes(USERDATA));
  t.false(debug.some((m) => m.includes(PASSWORD) || m.includes(USERDATA)));
});

test('a server written as a URL with a lower-case thumbprint is the same vCenter', async (t) => {
  const listing = await listVCenter(target({ server: `https://${vcsim.server}/sdk`, thumbprint: vcsim.thumbprint.toLowerCase() }));
  t.true(listing.ok, listing.ok ? '' : listing.reason);
  t.is(listing.vcenter, vcsim.server);
});

test('a different pinned thumbprint is refused, naming expected and actual thumbprints', async (t) => {
  const wrong = '3F:A2:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:02';
  const listing = await listVCenter(target({ thumbprint: wrong }));
  if (listing.ok) return t.fail('accepted a certificate with another thumbprint');
  t.regex(listing.reason, /thumbprint mismatch/);
  t.true(listing.reason.includes(`expected ${wrong}`), listing.reason);
  t.true(listing.reason.includes(`actual ${vcsim.thumbprint}`), listing.reason);
});

test('without a thumbprint a self-signed vCenter is refused', async (t) => {
  const listing = await listVCenter(target({ thumbprint: undefined }));
  if (listing.ok) return t.fail('accepted a self-signed certificate without a pin');
  t.regex(listing.reason, /not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  t.true(listing.reason.endsWith(`its SHA-1 thumbprint is ${vcsim.thumbprint}`), listing.reason);
  t.is(listing.certificate, 'untrusted', 'the door adds how to trust or pin it');
});

test('insecureSkipVerify turns every certificate check off', async (t) => {
  for (const thumbprint of [undefined, '3F:A2:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:01:02']) {
    const listing = await listVCenter(target({ thumbprint }), { insecureSkipVerify: true });
    t.true(listing.ok, listing.ok ? '' : listing.reason);
  }
});

test('a wrong password gives a login-refused reason without the password', async (t) => {
  const wrongPassword = 'Not-the-Pa55word';
  const listing = await listVCenter(target({ password: wrongPassword }));
  if (listing.ok) return t.fail('logged in with a wrong password');
  t.regex(listing.reason, /login of user "administrator@vsphere\.local" refused \(InvalidLogin/);
  t.regex(listing.reason, /check the vSphere credentials/);
  t.false(listing.reason.includes(wrongPassword));
});

test('a closed port gives an unreachable reason', async (t) => {
  const server = await closedPort();
  const listing = await listVCenter(target({ server }));
  if (listing.ok) return t.fail('listed a closed port');
  t.is(listing.vcenter, server);
  t.regex(listing.reason, /connection refused by 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
});

test('an unknown host name gives a DNS reason', async (t) => {
  const listing = await listVCenter(target({ server: 'vcenter.example.invalid' }), { timeoutMs: 5_000 });
  if (listing.ok) return t.fail('listed an unknown host');
  t.is(listing.vcenter, 'vcenter.example.invalid');
  t.regex(listing.reason, /^cannot resolve host vcenter\.example\.invalid \((ENOTFOUND|EAI_AGAIN)\); check the server name and DNS$/);
});

test('a vCenter that accepts and never answers times out within the timeout', async (t) => {
  const silent = await silentServer();
  t.teardown(() => silent.close());
  const started = Date.now();
  const listing = await listVCenter(target({ server: silent.server }), { timeoutMs: 1_000 });
  const elapsed = Date.now() - started;
  if (listing.ok) return t.fail('listed a silent server');
  t.regex(listing.reason, /within 1 s \(timed out\)/);
  t.true(elapsed >= 950 && elapsed < 2_000, `took ${elapsed} ms`);
});

test('an AbortSignal cancels a listing in flight', async (t) => {
  const silent = await silentServer();
  t.teardown(() => silent.close());
  const started = Date.now();
  const listing = await listVCenter(target({ server: silent.server }), { timeoutMs: 30_000, signal: AbortSignal.timeout(300) });
  if (listing.ok) return t.fail('listed a silent server');
  t.regex(listing.reason, /cancelled/);
  t.true(Date.now() - started < 2_000);
});

test('listVCenters reads several vCenters at once and answers one listing per target, in order', async (t) => {
  const down = await closedPort();
  const listings = await listVCenters([target(), target({ server: down }), target({ server: `https://${vcsim.server}` })], {
    concurrency: 2,
  });
  t.deepEqual(
    listings.map((l) => [l.vcenter, l.ok]),
    [
      [vcsim.server, true],
      [down, false],
      [vcsim.server, true],
    ],
  );
});

/** A loopback TCP server that accepts connections and never answers (not even the TLS handshake). */
async function silentServer(): Promise<{ server: string; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    server: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

test('asked for clone resources, the same walk also names the datastores, networks, pools and folders', async (t) => {
  const { walkVCenter } = await import('../../src/vsphere/inventory.js');
  const walk = await walkVCenter(target(), { cloneResources: true });
  t.true(walk.listing.ok);
  const resources = walk.resources!;
  t.true(resources.datastores.includes('/DC0/datastore/LocalDS_0'), resources.datastores.join(', '));
  t.true(resources.networks.includes('/DC0/network/VM Network'), resources.networks.join(', '));
  t.true(resources.resourcePools.includes('/DC0/host/DC0_C0/Resources/tkg'));
  t.true(resources.resourcePools.includes('/DC1/host/Edge/Resources/apps'));
  t.true(resources.folders.includes('/DC0/vm/tkg/workload'));
  // The same VMs as a plain listing: the resources ride along, they do not replace anything.
  const plain = await listVCenter(target());
  t.deepEqual(walk.listing, plain);
  t.is((await walkVCenter(target())).resources, undefined);
});
