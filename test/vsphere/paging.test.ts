import test from 'ava';
import { createHash } from 'node:crypto';
import { listVCenter } from '../../src/vsphere/inventory.js';
import { startFakeVim, type FakeVM } from './fake-vim.js';

const PASSWORD = 'S3cret-Pa55!';
const SECRET_USERDATA = 'I2Nsb3VkLWNvbmZpZwpzZWNyZXQ6IGh1bnRlcjI=';

function extraConfigOf(i: number): Record<string, string> {
  if (i % 2 === 0)
    return { 'guestinfo.userdata': SECRET_USERDATA, 'guestinfo.metadata': 'aW5zdGFuY2UtaWQ=', 'guestinfo.metadata.encoding': 'base64' };
  return { 'disk.EnableUUID': 'TRUE' };
}

function fakeVMs(count: number): FakeVM[] {
  return Array.from({ length: count }, (_, i) => ({
    moref: `vm-${100 + i}`,
    name: `wl-md-0-${String(i).padStart(2, '0')}`,
    uuid: `4223A39E-0000-4000-8000-${String(i).padStart(12, '0')}`,
    instanceUuid: `5C0B4F0E-0000-4000-8000-${String(i).padStart(12, '0')}`,
    parent: 'group-v10',
    pool: 'resgroup-20',
    extraConfig: extraConfigOf(i),
  }));
}

test('reads every page until no token, then destroys the view and logs out', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(10), pageSize: 4 });
  t.teardown(() => fake.stop());
  const debug: string[] = [];
  const listing = await listVCenter(
    { server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint },
    { pageSize: 4, debug: (m) => debug.push(m) },
  );
  if (!listing.ok) return t.fail(listing.reason);
  t.is(listing.vcenter, fake.server);
  t.is(listing.vms.length, 10);
  t.deepEqual(listing.vms[0], {
    moref: 'vm-100',
    name: 'wl-md-0-00',
    biosUuid: '4223a39e-0000-4000-8000-000000000000',
    instanceUuid: '5c0b4f0e-0000-4000-8000-000000000000',
    template: false,
    powerState: 'poweredOn',
    datacenter: 'DC1',
    folder: '/DC1/vm/tkg',
    resourcePool: '/DC1/host/C1/Resources/tkg',
    capvMetadata: true,
  });
  t.false(listing.vms[1]!.capvMetadata);

  // 7 tree objects + 10 VMs in pages of 4: the first page and four continuations.
  t.deepEqual(
    fake.calls.map((c) => c.method),
    [
      'RetrieveServiceContent',
      'Login',
      'CreateContainerView',
      'RetrievePropertiesEx',
      ...Array(4).fill('ContinueRetrievePropertiesEx'),
      'DestroyView',
      'Logout',
    ],
  );
  const retrieve = fake.calls.find((c) => c.method === 'RetrievePropertiesEx')!;
  t.regex(retrieve.body, /<(\w+:)?maxObjects>4<\/(\w+:)?maxObjects>/);
  t.regex(retrieve.body, /xsi:type="(\w+:)?TraversalSpec"/);
  // The cookie goes back exactly as the server wrote it, quotes included, on every call after Login.
  for (const call of fake.calls.slice(2)) t.is(call.cookie, 'vmware_soap_session="52c1a3f0-fake-session"');
  t.true(fake.calls.every((c) => c.soapAction === '"urn:vim25/6.5"'));
  t.is(fake.liveViews.size, 0);

  // extraConfig values (cloud-init secrets) are neither kept nor logged; nor is the password.
  t.false(JSON.stringify(listing).includes(SECRET_USERDATA));
  t.false(debug.some((m) => m.includes(PASSWORD) || m.includes(SECRET_USERDATA) || m.includes('52c1a3f0-fake-session')));
  t.true(
    debug.some((m) => /10 VMs .* in 5 page\(s\)/.test(m)),
    debug.join('\n'),
  );
});

test("values typed with vcsim's XMLSchema-instance: prefix read the same as with vCenter's xsi:", async (t) => {
  const listings = [];
  for (const xsiPrefix of [undefined, 'XMLSchema-instance']) {
    const fake = await startFakeVim({ vms: fakeVMs(4), pageSize: 0, xsiPrefix });
    t.teardown(() => fake.stop());
    const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint });
    if (!listing.ok) return t.fail(listing.reason);
    listings.push(listing.vms);
  }
  t.deepEqual(listings[0], listings[1]);
  // VM 1 has a single OptionValue: still read as a list of options; VM 0 has CAPV's key among three.
  t.deepEqual(
    listings[1]!.map((vm) => [vm.template, vm.capvMetadata, vm.folder]),
    [
      [false, true, '/DC1/vm/tkg'],
      [false, false, '/DC1/vm/tkg'],
      [false, true, '/DC1/vm/tkg'],
      [false, false, '/DC1/vm/tkg'],
    ],
  );
});

test('properties in missingSet leave the VM listed without them', async (t) => {
  const vms = fakeVMs(2);
  vms[0]!.missing = { 'config.extraConfig': 'NoPermission', 'config.instanceUuid': 'NoPermission' };
  const fake = await startFakeVim({ vms, pageSize: 0 });
  t.teardown(() => fake.stop());
  const debug: string[] = [];
  const listing = await listVCenter(
    { server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint },
    { debug: (m) => debug.push(m) },
  );
  if (!listing.ok) return t.fail(listing.reason);
  t.like(listing.vms[0], { moref: 'vm-100', capvMetadata: false, biosUuid: '4223a39e-0000-4000-8000-000000000000' });
  t.is(listing.vms[0]!.instanceUuid, undefined);
  t.like(listing.vms[1], { moref: 'vm-101', instanceUuid: '5c0b4f0e-0000-4000-8000-000000000001' });
  t.true(
    debug.some((m) => m.endsWith('1 object(s) without VirtualMachine.config.extraConfig (NoPermission)')),
    debug.join('\n'),
  );
});

test('a SHA-256 thumbprint pins the certificate too', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(1), pageSize: 0 });
  t.teardown(() => fake.stop());
  const sha1 = Buffer.from(fake.thumbprint.replace(/:/g, ''), 'hex');
  t.is(sha1.length, 20);
  const cert = await fetchPeerCertificate(fake.server);
  const sha256 = createHash('sha256').update(cert).digest('hex').match(/../g)!.join(':').toLowerCase();
  const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: sha256 });
  t.true(listing.ok, listing.ok ? '' : listing.reason);
});

test('a whole-call InvalidProperty on an optional path is retried without that path', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(3), pageSize: 0, rejectPath: 'config.extraConfig' });
  t.teardown(() => fake.stop());
  const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint });
  if (!listing.ok) return t.fail(listing.reason);
  t.is(listing.vms.length, 3);
  t.true(listing.vms.every((vm) => !vm.capvMetadata && vm.biosUuid !== undefined));
  const retrieves = fake.calls.filter((c) => c.method === 'RetrievePropertiesEx');
  t.is(retrieves.length, 2);
  t.false(retrieves[1]!.body.includes('config.extraConfig'));
  t.is(fake.liveViews.size, 0);
});

test('a whole-call InvalidProperty on a path the drift rules need fails the vCenter', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(3), pageSize: 0, rejectPath: 'config.uuid' });
  t.teardown(() => fake.stop());
  const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint });
  if (listing.ok) return t.fail('listed a vCenter that rejects config.uuid');
  t.regex(listing.reason, /config\.uuid.*InvalidProperty/);
  t.deepEqual(
    fake.calls.slice(-2).map((c) => c.method),
    ['DestroyView', 'Logout'],
  );
});

test('a fault while paging fails the vCenter, cancels the retrieval and still cleans up', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(10), pageSize: 4, failOnPage: 3 });
  t.teardown(() => fake.stop());
  const listing = await listVCenter(
    { server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint },
    { pageSize: 4 },
  );
  if (listing.ok) return t.fail('listed a vCenter whose paging failed');
  t.regex(listing.reason, /^listing the VMs failed: ContinueRetrievePropertiesEx failed with RuntimeFault: The collector ran out of memory$/);
  t.deepEqual(
    fake.calls.slice(-3).map((c) => c.method),
    ['CancelRetrievePropertiesEx', 'DestroyView', 'Logout'],
  );
  t.is(fake.liveViews.size, 0);
});

test('a malformed page fails the vCenter as not vim25, and the retrieval is still cancelled and cleaned up', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(10), pageSize: 4, garblePage: 2 });
  t.teardown(() => fake.stop());
  const listing = await listVCenter(
    { server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint },
    { pageSize: 4 },
  );
  if (listing.ok) return t.fail('listed a vCenter whose page was malformed');
  t.regex(
    listing.reason,
    /^the answer to ContinueRetrievePropertiesEx is not a vim25 response \(malformed XML: .*\); is 127\.0\.0\.1:\d+ a vSphere SDK endpoint\?$/,
  );
  t.deepEqual(
    fake.calls.slice(-3).map((c) => c.method),
    ['CancelRetrievePropertiesEx', 'DestroyView', 'Logout'],
  );
  t.is(fake.liveViews.size, 0);
});

test('an HTML error page instead of a page is an HTTP failure, and the session is still closed', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(3), pageSize: 0, badGatewayOn: 'RetrievePropertiesEx' });
  t.teardown(() => fake.stop());
  const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint });
  if (listing.ok) return t.fail('listed a vCenter behind a failing proxy');
  t.regex(
    listing.reason,
    /^HTTP 502 answer to RetrievePropertiesEx from https:\/\/127\.0\.0\.1:\d+\/sdk; check that it is a vSphere SDK endpoint$/,
  );
  t.deepEqual(
    fake.calls.slice(-2).map((c) => c.method),
    ['DestroyView', 'Logout'],
  );
  t.is(fake.liveViews.size, 0);
});

test('a call that never gets an answer times out once, without waiting again for cleanup calls', async (t) => {
  const fake = await startFakeVim({ vms: fakeVMs(3), pageSize: 0, hangOn: 'RetrievePropertiesEx' });
  t.teardown(() => fake.stop());
  const listing = await listVCenter(
    { server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint },
    { timeoutMs: 2_000 },
  );
  const finished = Date.now();
  if (listing.ok) return t.fail('listed a vCenter that never answered');
  t.regex(listing.reason, /no answer from 127\.0\.0\.1:\d+ to RetrievePropertiesEx within 2 s \(timed out\)/);
  // Nothing was sent after the unanswered call (no DestroyView or Logout to wait on), and the
  // listing ended within one more timeout of it, counted from its arrival so that a slow login
  // on a loaded machine does not count.
  const hung = fake.calls.at(-1)!;
  t.is(hung.method, 'RetrievePropertiesEx');
  t.true(finished - hung.at < 2 * 2_000, `ended ${finished - hung.at} ms after the unanswered call arrived`);
});

test('a web server that is not a vSphere SDK endpoint is reported as such', async (t) => {
  const fake = await startFakeVim({ vms: [], pageSize: 0, notSdk: true });
  t.teardown(() => fake.stop());
  const listing = await listVCenter({ server: fake.server, username: 'admin', password: PASSWORD, thumbprint: fake.thumbprint });
  if (listing.ok) return t.fail('listed a plain web server');
  t.regex(
    listing.reason,
    /^HTTP 404 answer to RetrieveServiceContent from https:\/\/127\.0\.0\.1:\d+\/sdk; check that it is a vSphere SDK endpoint$/,
  );
});

async function fetchPeerCertificate(server: string): Promise<Buffer> {
  const tls = await import('node:tls');
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw);
    });
    socket.on('error', reject);
  });
}
