import test from 'ava';
import { createHash } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { closedPort, startVcsim, type Vcsim } from '../helpers/vcsim.js';
import type { VcsimSeed } from '../helpers/seed.js';

const USERNAME = 'administrator@vsphere.local';
const PASSWORD = 'Harness-Pa55!';
const METADATA = Buffer.from('instance-id: mgmt-control-plane-x7k2p\nlocal-hostname: mgmt-control-plane-x7k2p\n').toString('base64');

const seed: VcsimSeed = {
  username: USERNAME,
  password: PASSWORD,
  datacenters: [
    {
      name: 'dc-tkg',
      cluster: 'compute',
      folders: ['tkg/mgmt', 'templates'],
      resourcePools: ['tkg/mgmt', 'tkg/workload'],
      vms: [
        {
          name: 'mgmt-control-plane-x7k2p',
          uuid: '4223a39e-1111-2222-3333-000000000001',
          instanceUuid: '5023a39e-1111-2222-3333-000000000001',
          folder: 'tkg/mgmt',
          resourcePool: 'tkg/mgmt',
          extraConfig: {
            'guestinfo.metadata': METADATA,
            'guestinfo.metadata.encoding': 'base64',
            'guestinfo.note': 'needs <escaping> & "quotes"',
          },
        },
        {
          name: 'mgmt-md-0-6d8f9-abcde',
          uuid: '4223a39e-1111-2222-3333-000000000002',
          instanceUuid: '5023a39e-1111-2222-3333-000000000002',
          folder: 'tkg/mgmt',
          resourcePool: 'tkg/mgmt',
          powerState: 'poweredOff',
        },
        {
          name: 'wl-control-plane-q9w8e',
          uuid: '4223a39e-1111-2222-3333-000000000003',
          instanceUuid: '5023a39e-1111-2222-3333-000000000003',
          folder: 'tkg/workload',
          resourcePool: 'tkg/workload',
        },
        {
          name: 'ubuntu-2004-kube-v1.24.10',
          uuid: '4223a39e-1111-2222-3333-000000000004',
          instanceUuid: '5023a39e-1111-2222-3333-000000000004',
          folder: 'templates',
          template: true,
        },
      ],
    },
    {
      name: 'dc-edge',
      vms: [
        {
          name: 'edge-vm',
          uuid: '4223a39e-1111-2222-3333-000000000005',
          instanceUuid: '5023a39e-1111-2222-3333-000000000005',
          powerState: 'suspended',
        },
      ],
    },
  ],
};

let vcsim: Vcsim;

test.before(async () => {
  vcsim = await startVcsim(seed);
});

test.after.always(async () => {
  await vcsim?.stop();
});

// --- raw SOAP over HTTPS (self-signed certificate: verification is off in this test only) ---

const insecureAgent = new https.Agent({ rejectUnauthorized: false, keepAlive: false });
const REQUEST_TIMEOUT_MS = 10_000;

interface SoapResponse {
  status: number;
  body: string;
  setCookie: string[];
}

function soap(url: string, body: string, cookie?: string): Promise<SoapResponse> {
  const envelope =
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: 'POST',
        agent: insecureAgent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'Content-Type': 'text/xml; charset="utf-8"',
          SOAPAction: 'urn:vim25/6.5',
          ...(cookie ? { Cookie: cookie } : {}),
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, setCookie: response.headers['set-cookie'] ?? [] }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`SOAP request to ${url} timed out`)));
    request.on('error', reject);
    request.end(envelope);
  });
}

const retrieveServiceContent =
  '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent>';

function login(user: string, password: string): string {
  return (
    '<Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this>' +
    `<userName>${escapeXml(user)}</userName><password>${escapeXml(password)}</password></Login>`
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function unescapeXml(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

function firstText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml);
  return match ? unescapeXml(match[1]!) : undefined;
}

async function loggedInSession(): Promise<string> {
  const response = await soap(vcsim.url, login(USERNAME, PASSWORD));
  if (response.status !== 200) throw new Error(`login failed with HTTP ${response.status}`);
  const cookie = response.setCookie.find((c) => c.startsWith('vmware_soap_session='));
  if (!cookie) throw new Error('login set no vmware_soap_session cookie');
  return cookie.split(';')[0]!;
}

/** One object of a RetrievePropertiesEx answer: raw `<val>` inner XML and attributes per path. */
interface RetrievedObject {
  type: string;
  id: string;
  props: Map<string, { attrs: string; inner: string }>;
}

async function retrieveOverContainerView(cookie: string, types: string[], propType: string, paths: string[]) {
  const view = await soap(
    vcsim.url,
    '<CreateContainerView xmlns="urn:vim25"><_this type="ViewManager">ViewManager</_this>' +
      '<container type="Folder">group-d1</container>' +
      types.map((t) => `<type>${t}</type>`).join('') +
      '<recursive>true</recursive></CreateContainerView>',
    cookie,
  );
  const viewId = firstText(view.body, 'returnval');
  if (view.status !== 200 || !viewId) throw new Error(`CreateContainerView failed: HTTP ${view.status}`);
  const result = await soap(
    vcsim.url,
    '<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector</_this><specSet>' +
      `<propSet><type>${propType}</type><all>false</all>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>` +
      `<objectSet><obj type="ContainerView">${escapeXml(viewId)}</obj><skip>true</skip>` +
      '<selectSet xsi:type="TraversalSpec"><name>traverseEntities</name><type>ContainerView</type>' +
      '<path>view</path><skip>false</skip></selectSet></objectSet></specSet><options/></RetrievePropertiesEx>',
    cookie,
  );
  if (result.status !== 200) throw new Error(`RetrievePropertiesEx failed: HTTP ${result.status}`);
  const objects: RetrievedObject[] = [];
  for (const [, objectXml] of result.body.matchAll(/<objects>([\s\S]*?)<\/objects>/g)) {
    const obj = /<obj type="([^"]+)">([^<]+)<\/obj>/.exec(objectXml!)!;
    const props = new Map<string, { attrs: string; inner: string }>();
    for (const m of objectXml!.matchAll(/<propSet><name>([^<]+)<\/name><val([^>]*?)(?:\/>|>([\s\S]*?)<\/val>)<\/propSet>/g)) {
      props.set(m[1]!, { attrs: m[2]!, inner: m[3] ?? '' });
    }
    objects.push({ type: obj[1]!, id: obj[2]!, props });
  }
  return objects;
}

const text = (o: RetrievedObject, path: string): string | undefined => {
  const prop = o.props.get(path);
  return prop === undefined ? undefined : unescapeXml(prop.inner);
};

// --- tests ---

test('prints a ready line with an https /sdk URL on loopback and a SHA-1 thumbprint', (t) => {
  t.regex(vcsim.server, /^127\.0\.0\.1:\d+$/);
  t.is(vcsim.url, `https://${vcsim.server}/sdk`);
  t.regex(vcsim.thumbprint, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
});

test('the thumbprint is the SHA-1 of the certificate actually served', async (t) => {
  const [host, port] = vcsim.server.split(':') as [string, string];
  const der = await new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), rejectUnauthorized: false, timeout: REQUEST_TIMEOUT_MS }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(raw);
    });
    socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
  const sha1 = createHash('sha1').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
  t.is(vcsim.thumbprint, sha1);
});

test('looks like a vCenter', async (t) => {
  const response = await soap(vcsim.url, retrieveServiceContent);
  t.is(response.status, 200);
  t.is(firstText(response.body, 'apiType'), 'VirtualCenter');
  t.is(firstText(response.body, 'sessionManager'), 'SessionManager');
  t.is(firstText(response.body, 'propertyCollector'), 'propertyCollector');
});

test('logs in with the seeded credentials and sets the session cookie', async (t) => {
  const response = await soap(vcsim.url, login(USERNAME, PASSWORD));
  t.is(response.status, 200);
  t.is(firstText(response.body, 'userName'), USERNAME);
  t.true(response.setCookie.some((c) => /^vmware_soap_session=[^;]+/.test(c)));
});

test('refuses a wrong password or user with InvalidLogin', async (t) => {
  for (const [user, password] of [
    [USERNAME, 'wrong'],
    ['someone-else', PASSWORD],
  ] as const) {
    const response = await soap(vcsim.url, login(user, password));
    t.is(response.status, 500);
    t.regex(response.body, /<faultstring>Login failure<\/faultstring>/);
    t.regex(response.body, /type="InvalidLogin"/);
    t.deepEqual(response.setCookie, []);
  }
});

test('serves exactly the seeded VMs with the properties the detector reads', async (t) => {
  const cookie = await loggedInSession();
  const entities = await retrieveOverContainerView(
    cookie,
    ['Folder', 'Datacenter', 'ResourcePool', 'ClusterComputeResource'],
    'ManagedEntity',
    ['name', 'parent'],
  );
  const byId = new Map(entities.map((e) => [`${e.type}:${e.id}`, e]));
  /** Inventory path of an entity, from the parent chain (the root folder is not in the view). */
  const inventoryPath = (type: string, id: string): string => {
    const parts: string[] = [];
    for (let e = byId.get(`${type}:${id}`); e;) {
      parts.unshift(text(e, 'name')!);
      const parent = e.props.get('parent');
      if (!parent) break;
      const parentType = /\stype="([^"]+)"/.exec(parent.attrs)?.[1];
      e = byId.get(`${parentType}:${parent.inner}`);
    }
    return '/' + parts.join('/');
  };

  const vms = await retrieveOverContainerView(cookie, ['VirtualMachine'], 'VirtualMachine', [
    'name',
    'config.uuid',
    'config.instanceUuid',
    'config.template',
    'runtime.powerState',
    'parent',
    'resourcePool',
    'config.extraConfig',
  ]);
  const seeded = seed.datacenters.flatMap((dc) => dc.vms.map((vm) => ({ dc, vm })));
  t.deepEqual(vms.map((o) => text(o, 'name')).sort(), seeded.map(({ vm }) => vm.name).sort());

  for (const { dc, vm } of seeded) {
    const o = vms.find((v) => text(v, 'name') === vm.name)!;
    t.is(o.type, 'VirtualMachine');
    t.is(text(o, 'config.uuid'), vm.uuid, vm.name);
    t.is(text(o, 'config.instanceUuid'), vm.instanceUuid, vm.name);
    t.is(text(o, 'config.template'), vm.template ? 'true' : 'false', vm.name);
    t.is(text(o, 'runtime.powerState'), vm.powerState ?? (vm.template ? 'poweredOff' : 'poweredOn'), vm.name);

    const parent = o.props.get('parent')!;
    t.regex(parent.attrs, /\stype="Folder"/);
    t.is(inventoryPath('Folder', parent.inner), `/${dc.name}/vm${vm.folder ? `/${vm.folder}` : ''}`, vm.name);

    const pool = o.props.get('resourcePool');
    if (vm.template) {
      t.is(pool, undefined, `${vm.name}: a template has no resource pool`);
    } else {
      t.regex(pool!.attrs, /\stype="ResourcePool"/);
      const cluster = dc.cluster ?? `${dc.name}_C0`;
      t.is(
        inventoryPath('ResourcePool', pool!.inner),
        `/${dc.name}/host/${cluster}/Resources${vm.resourcePool ? `/${vm.resourcePool}` : ''}`,
        vm.name,
      );
    }

    const extraConfig = new Map(
      [...o.props.get('config.extraConfig')!.inner.matchAll(/<key>([^<]*)<\/key><value[^>]*>([^<]*)<\/value>/g)].map((m) => [
        unescapeXml(m[1]!),
        unescapeXml(m[2]!),
      ]),
    );
    for (const [key, value] of Object.entries(vm.extraConfig ?? {})) {
      t.is(extraConfig.get(key), value, `${vm.name} extraConfig ${key}`);
    }
  }

  // Seeded folders exist even when no VM lives in them directly.
  const folderPaths = entities.filter((e) => e.type === 'Folder').map((e) => inventoryPath('Folder', e.id));
  t.true(folderPaths.includes('/dc-tkg/vm/tkg'));
  const poolPaths = entities.filter((e) => e.type === 'ResourcePool').map((e) => inventoryPath('ResourcePool', e.id));
  t.true(poolPaths.includes('/dc-tkg/host/compute/Resources/tkg/workload'));
});

test('a second simulator serves another certificate, and stop() closes its port', async (t) => {
  const other = await startVcsim({ datacenters: [] });
  try {
    t.not(other.thumbprint, vcsim.thumbprint);
    const anyLogin = await soap(other.url, login('any', 'thing'));
    t.is(anyLogin.status, 200, 'without seeded credentials any non-empty pair logs in');
  } finally {
    await other.stop();
  }
  await other.stop(); // idempotent
  t.false(await accepts(other.server));
});

test('rejects a bad seed with the failing field named', async (t) => {
  const bad = { datacenters: [{ name: 'dc', vms: [{ name: 'no-uuid', instanceUuid: 'x' }] }] } as unknown as VcsimSeed;
  const error = await t.throwsAsync(startVcsim(bad));
  t.regex(error.message, /exited with code 1 before it was ready/);
  t.regex(error.message, /datacenters\[0\]\.vms\[0\]\.uuid: required/);
});

test('a missing harness binary says how to build it', async (t) => {
  const error = await t.throwsAsync(startVcsim(seed, { binary: '/nonexistent/vcsim' }));
  t.regex(error.message, /\/nonexistent\/vcsim is missing; run npm run build:harness/);
});

test('closedPort() names a loopback port that refuses connections', async (t) => {
  const server = await closedPort();
  t.regex(server, /^127\.0\.0\.1:\d+$/);
  t.false(await accepts(server));
});

function accepts(server: string): Promise<boolean> {
  const [host, port] = server.split(':') as [string, string];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port), timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
