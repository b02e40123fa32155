/**
 * A tiny vim25 endpoint on 127.0.0.1 for what vcsim 0.24.2 cannot show: paging (it ignores
 * maxObjects), a whole-call InvalidProperty fault and a fault while paging. It answers the way a
 * real vCenter does: `xsi:` prefix, a quoted session cookie, HTTP 500 for faults. Its certificate
 * is a throwaway self-signed one made with the openssl CLI (Node cannot issue certificates).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '../helpers/tls.js';

export interface FakeVM {
  moref: string;
  name: string;
  uuid: string;
  instanceUuid: string;
  /** A folder moref from the fake tree. */
  parent: string;
  /** A pool moref from the fake tree. */
  pool: string;
  extraConfig?: { [key: string]: string };
  /** Properties reported in missingSet instead of propSet: path -> fault type (e.g. NoPermission). */
  missing?: { [path: string]: string };
}

export interface FakeVimOptions {
  vms: FakeVM[];
  /** Objects per page, whatever maxObjects the client asks (0: one page). */
  pageSize: number;
  /** Fault the whole RetrievePropertiesEx with InvalidProperty while its pathSet holds this path. */
  rejectPath?: string;
  /** Fault ContinueRetrievePropertiesEx on this page number (1-based, counting the first page). */
  failOnPage?: number;
  /** Answer this page (1-based) with malformed XML: its first `</objects>` closes as `</object>`. */
  garblePage?: number;
  /** Answer this method with an HTML 502 page, as a proxy in front of a vCenter might. */
  badGatewayOn?: string;
  /** Read this method's request and never answer it. */
  hangOn?: string;
  /** Answer every page with a token for one more page, of `pageSize` new VMs: a walk that never ends. */
  endless?: boolean;
  /** With `endless`: the last page is this one (1-based), without a token: a vCenter as large as an endless one gets at a cap. */
  endlessPages?: number;
  /** Answer this method with a 200 XML answer that streams padding until the client hangs up. */
  hugeBodyOn?: string;
  /** Answer this method with the start of an XML answer, then close the connection. */
  closeMidStreamOn?: string;
  /** Answer every request with an HTML 404 page, as a web server that is not a vCenter would. */
  notSdk?: boolean;
  /** Answer these methods with this status and body as written (see vimEnvelope, vimFault). */
  answers?: { [method: string]: { status: number; body: string } };
  /**
   * Write property values the way vcsim does: `<val xmlns:P="...XMLSchema-instance" P:type="...">`
   * with this prefix P, instead of the envelope's `xsi:`.
   */
  xsiPrefix?: string;
}

export interface RecordedCall {
  method: string;
  cookie?: string;
  soapAction?: string;
  body: string;
  /** When the request arrived (Date.now()). */
  at: number;
}

export interface FakeVim {
  server: string;
  /** SHA-1 thumbprint of its certificate, govmomi style. */
  thumbprint: string;
  /** SHA-256 thumbprint of its certificate, the same style. */
  thumbprint256: string;
  /** Its self-signed certificate (PEM), which serves as its own CA. */
  certPem: string;
  calls: RecordedCall[];
  /** Views created and not destroyed. */
  liveViews: Set<string>;
  stop(): Promise<void>;
}

const COOKIE = 'vmware_soap_session="52c1a3f0-fake-session"';
const VIEW = 'session[52c1a3f0]52b3e5d1-view';

/** The tree above the VMs: one datacenter, its VM folder with a `tkg` subfolder, a cluster with a `tkg` pool. */
const TREE = [
  { type: 'Datacenter', moref: 'datacenter-2', name: 'DC1', parent: ['Folder', 'group-d1'] },
  { type: 'Folder', moref: 'group-v3', name: 'vm', parent: ['Datacenter', 'datacenter-2'] },
  { type: 'Folder', moref: 'group-v10', name: 'tkg', parent: ['Folder', 'group-v3'] },
  { type: 'Folder', moref: 'group-h4', name: 'host', parent: ['Datacenter', 'datacenter-2'] },
  { type: 'ClusterComputeResource', moref: 'domain-c7', name: 'C1', parent: ['Folder', 'group-h4'] },
  { type: 'ResourcePool', moref: 'resgroup-8', name: 'Resources', parent: ['ClusterComputeResource', 'domain-c7'] },
  { type: 'ResourcePool', moref: 'resgroup-20', name: 'tkg', parent: ['ResourcePool', 'resgroup-8'] },
] as const;

export async function startFakeVim(options: FakeVimOptions): Promise<FakeVim> {
  const { key, cert } = await selfSignedCertificate({ commonName: 'fake-vcenter' });
  const der = new X509Certificate(cert).raw;
  const fingerprint = (algorithm: string) => createHash(algorithm).update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
  const thumbprint = fingerprint('sha1');

  const calls: RecordedCall[] = [];
  const liveViews = new Set<string>();
  const objects = [...TREE.map(treeObject), ...options.vms.map(vmObject)];
  const pages: FakeObject[][] = [];
  /** The pathSet of the last RetrievePropertiesEx: continuations answer with the same properties. */
  let requested = new Set<string>();
  const size = options.pageSize > 0 ? options.pageSize : objects.length;
  for (let i = 0; i < objects.length; i += size) pages.push(objects.slice(i, i + size));

  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)/.exec(body)?.[1] ?? '?';
      calls.push({ method, cookie: req.headers.cookie, soapAction: req.headers.soapaction as string | undefined, body, at: Date.now() });
      if (options.hangOn === method) return;
      if (options.hugeBodyOn === method) return streamForever(res);
      if (options.closeMidStreamOn === method) {
        res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
        res.write(envelope(response(method, '<returnval>')).slice(0, 300), () => res.socket?.destroy());
        return;
      }
      if (options.badGatewayOn === method) {
        res.writeHead(502, { 'Content-Type': 'text/html' });
        res.end('<html><body>Bad Gateway</body></html>');
        return;
      }
      const canned = options.answers?.[method];
      if (canned) {
        res.writeHead(canned.status, { 'Content-Type': 'text/xml; charset=utf-8' });
        res.end(canned.body);
        return;
      }
      if (options.notSdk) {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<html><body>Not Found</body></html>');
        return;
      }
      const answer = (status: number, inner: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'text/xml; charset=utf-8', ...headers });
        const p = options.xsiPrefix;
        res.end(
          envelope(
            p && status === 200
              ? inner
                  .replaceAll('<val ', `<val xmlns:${p}="http://www.w3.org/2001/XMLSchema-instance" `)
                  .replaceAll(' xsi:type=', ` ${p}:type=`)
              : inner,
          ),
        );
      };
      if (method !== 'RetrieveServiceContent' && method !== 'Login' && req.headers.cookie !== COOKIE) {
        answer(500, fault('NotAuthenticated', 'The session is not authenticated.'));
        return;
      }
      switch (method) {
        case 'RetrieveServiceContent':
          answer(200, response(method, serviceContent()));
          return;
        case 'Login':
          answer(200, response(method, '<returnval><key>52c1a3f0</key><userName>admin</userName><fullName>Admin</fullName></returnval>'), {
            'Set-Cookie': `${COOKIE}; Path=/; HttpOnly; Secure;`,
          });
          return;
        case 'CreateContainerView':
          liveViews.add(VIEW);
          answer(200, response(method, `<returnval type="ContainerView">${VIEW}</returnval>`));
          return;
        case 'DestroyView':
          liveViews.delete(VIEW);
          answer(200, response(method, ''));
          return;
        case 'RetrievePropertiesEx':
          if (options.rejectPath && body.includes(`>${options.rejectPath}<`)) {
            answer(500, fault('InvalidProperty', '', `<name>${options.rejectPath}</name>`));
            return;
          }
          requested = new Set([...body.matchAll(/<(?:\w+:)?pathSet>([^<]+)</g)].map((m) => m[1]!));
          if (options.endless) return answer(200, response(method, endlessPage(0, size, requested, options.endlessPages === 1)));
          answer(200, garbled(options.garblePage === 1, response(method, page(pages, 0, requested))));
          return;
        case 'ContinueRetrievePropertiesEx': {
          const index = Number(/<(?:\w+:)?token>page-(\d+)</.exec(body)?.[1] ?? NaN);
          if (options.endless) return answer(200, response(method, endlessPage(index, size, requested, options.endlessPages === index + 1)));
          if (!Number.isInteger(index) || index >= pages.length) {
            answer(500, fault('InvalidArgument', 'A specified parameter was not correct: token', '<invalidProperty>token</invalidProperty>'));
            return;
          }
          if (options.failOnPage === index + 1) {
            answer(500, fault('RuntimeFault', 'The collector ran out of memory'));
            return;
          }
          answer(200, garbled(options.garblePage === index + 1, response(method, page(pages, index, requested))));
          return;
        }
        case 'CancelRetrievePropertiesEx':
        case 'Logout':
          answer(200, response(method, ''));
          return;
        default:
          answer(500, fault('MethodNotFound', `unknown method ${method}`));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server: `127.0.0.1:${port}`,
    thumbprint,
    thumbprint256: fingerprint('sha256'),
    certPem: cert,
    calls,
    liveViews,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An ObjectContent: its reference and its properties as `<propSet>` XML by name. */
interface FakeObject {
  obj: string;
  props: Array<[string, string]>;
  missing?: Array<[string, string]>;
}

function page(pages: FakeObject[][], index: number, requested: Set<string>): string {
  const token = index + 1 < pages.length ? `<token>page-${index + 1}</token>` : '';
  const objects = (pages[index] ?? []).map(
    (o) =>
      `<objects>${o.obj}` +
      o.props
        .filter(([name]) => requested.has(name) && !o.missing?.some(([path]) => path === name))
        .map(([, xml]) => xml)
        .join('') +
      (o.missing ?? [])
        .filter(([path]) => requested.has(path))
        .map(([path, type]) => `<missingSet><path>${path}</path><fault><fault xsi:type="${type}"></fault></fault></missingSet>`)
        .join('') +
      '</objects>',
  );
  return `<returnval>${token}${objects.join('')}</returnval>`;
}

/** Page `index` of a walk without end: `size` VMs never seen before, and a token for the next page unless it is the `last`. */
function endlessPage(index: number, size: number, requested: Set<string>, last = false): string {
  const vms = Array.from({ length: size }, (_, i) => {
    const n = String(index * size + i).padStart(12, '0');
    return vmObject({
      moref: `vm-e${index}-${i}`,
      name: `endless-${n}`,
      uuid: `4223A39E-0000-4000-8000-${n}`,
      instanceUuid: `5C0B4F0E-0000-4000-8000-${n}`,
      parent: 'group-v10',
      pool: 'resgroup-20',
    });
  });
  return page(last ? [[], vms] : [[], vms, []], 1, requested).replace('page-2', `page-${index + 1}`);
}

/** A 200 XML answer whose body never ends: padding inside the SOAP Body, as fast as the client reads it. */
function streamForever(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' });
  const head = envelope('<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>');
  res.write(head.slice(0, head.indexOf('</soapenv:Body>')));
  const padding = Buffer.from('<token>'.padEnd(64 * 1024, 'x') + '</token>');
  const more = () => {
    while (!res.destroyed && res.write(padding));
  };
  res.on('drain', more);
  res.on('close', () => res.off('drain', more));
  more();
}

function garbled(garble: boolean, xml: string): string {
  return garble ? xml.replace('</objects>', '</object>') : xml;
}

function treeObject(entity: (typeof TREE)[number]): FakeObject {
  return {
    obj: `<obj type="${entity.type}">${entity.moref}</obj>`,
    props: [
      prop('name', `<val xsi:type="xsd:string">${entity.name}</val>`),
      prop('parent', `<val type="${entity.parent[0]}" xsi:type="ManagedObjectReference">${entity.parent[1]}</val>`),
    ],
  };
}

function vmObject(vm: FakeVM): FakeObject {
  const options = Object.entries(vm.extraConfig ?? {})
    .map(([k, v]) => `<OptionValue xsi:type="OptionValue"><key>${k}</key><value xsi:type="xsd:string">${v}</value></OptionValue>`)
    .join('');
  const poolType = TREE.find((e) => e.moref === vm.pool)?.type ?? 'ResourcePool';
  return {
    obj: `<obj type="VirtualMachine">${vm.moref}</obj>`,
    props: [
      prop('config.extraConfig', `<val xsi:type="ArrayOfOptionValue">${options}</val>`),
      prop('config.instanceUuid', `<val xsi:type="xsd:string">${vm.instanceUuid}</val>`),
      prop('config.template', '<val xsi:type="xsd:boolean">false</val>'),
      prop('config.uuid', `<val xsi:type="xsd:string">${vm.uuid}</val>`),
      prop('name', `<val xsi:type="xsd:string">${vm.name}</val>`),
      prop('parent', `<val type="Folder" xsi:type="ManagedObjectReference">${vm.parent}</val>`),
      prop('resourcePool', `<val type="${poolType}" xsi:type="ManagedObjectReference">${vm.pool}</val>`),
      prop('runtime.powerState', '<val xsi:type="VirtualMachinePowerState">poweredOn</val>'),
    ],
    missing: Object.entries(vm.missing ?? {}),
  };
}

function prop(name: string, val: string): [string, string] {
  return [name, `<propSet><name>${name}</name>${val}</propSet>`];
}

function serviceContent(): string {
  return (
    '<returnval><rootFolder type="Folder">group-d1</rootFolder>' +
    '<propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>' +
    '<viewManager type="ViewManager">ViewManager</viewManager>' +
    '<about><name>VMware vCenter Server</name><fullName>VMware vCenter Server 8.0.2 build-1</fullName>' +
    '<vendor>VMware, Inc.</vendor><version>8.0.2</version><build>1</build><osType>linux-x64</osType>' +
    '<productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>8.0.2.0</apiVersion></about>' +
    '<sessionManager type="SessionManager">SessionManager</sessionManager></returnval>'
  );
}

function response(method: string, inner: string): string {
  return `<${method}Response xmlns="urn:vim25">${inner}</${method}Response>`;
}

/** A SOAP Fault of vim25 fault `type` whose faultstring is `message` as written (escape it yourself). */
export function vimFault(type: string, message: string, fields = ''): string {
  return envelope(fault(type, message, fields));
}

/** A whole answer around `inner`, the way the fake writes its own. */
export function vimEnvelope(inner: string): string {
  return envelope(inner);
}

function fault(type: string, message: string, fields = ''): string {
  return (
    '<soapenv:Fault><faultcode>ServerFaultCode</faultcode>' +
    `<faultstring>${message}</faultstring>` +
    `<detail><${type}Fault xmlns="urn:vim25" xsi:type="${type}">${fields}</${type}Fault></detail></soapenv:Fault>`
  );
}

function envelope(inner: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`
  );
}
