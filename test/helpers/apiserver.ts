/**
 * A Kubernetes API server stand-in for one workload cluster: HTTPS on 127.0.0.1, its own server CA
 * and client CA, client-certificate authentication, `GET /api/v1/nodes` with limit/continue
 * paging, `DELETE /api/v1/nodes/<name>`, what kubectl asks (apiserver-kubectl.ts) and `GET /api/v1/namespaces/<ns>/pods` with an equality
 * labelSelector. The certificates come from the openssl CLI because Node cannot issue X.509 certificates
 * and `openssl ca` can sign with a validity window in the past (an expired certificate).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { podObject, serveKubectl } from './apiserver-kubectl.js';

const run = promisify(execFile);

/** A Node the test server lists. */
export interface NodeSpec {
  name: string;
  /** `spec.providerID`, e.g. `vsphere://4223a39e-...`. */
  providerID?: string;
  /** Adds `node-role.kubernetes.io/control-plane`. */
  controlPlane?: boolean;
  /** Adds the legacy `node-role.kubernetes.io/master` label instead. */
  legacyMaster?: boolean;
  labels?: Record<string, string>;
  /** Set by the cordon patch of `kubectl drain`. */
  unschedulable?: boolean;
  /** Adds the `Ready` condition with this status; none when absent. */
  ready?: boolean;
}

/** A Pod the test server lists (kubeadm's etcd Pods, say). */
export interface PodSpec {
  name: string;
  namespace: string;
  /** `spec.nodeName`: where it runs. */
  nodeName: string;
  labels?: Record<string, string>;
}

/**
 * ok: serves Nodes; hang: accepts the request and never answers; refuse: no listener on the port;
 * expired-server-cert: presents an expired server certificate; reject-client: answers 401 to every
 * request, as an API server does for a client certificate it no longer accepts.
 */
export type ApiServerMode = 'ok' | 'hang' | 'refuse' | 'expired-server-cert' | 'reject-client';

export interface ApiServerOptions {
  nodes: NodeSpec[];
  pods?: PodSpec[];
  mode?: ApiServerMode;
  /** The most Nodes one page holds, whatever `limit` the client asks for. */
  pageLimitMax?: number;
  /** Delay before each answer, so that tests can see requests overlap. */
  responseDelayMs?: number;
  /** Called when a request arrives and when its answer is sent (or its socket closes). */
  onRequest?: (phase: 'start' | 'end') => void;
}

export interface KubeconfigOptions {
  /** Embed a client certificate that expired on {@link EXPIRED_CLIENT_CERT_NOT_AFTER}. */
  expiredClientCert?: boolean;
  /** Embed a client certificate signed by a CA the server does not know. */
  foreignClientCert?: boolean;
  /** The workload cluster's name in the kubeconfig; default `workload`. */
  clusterName?: string;
  /** Embed this CA instead of the one that signed the server certificate (an untrusted server). */
  certificateAuthorityPem?: string;
}

export interface ApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** PEM of the CA that signed the server certificate. */
  caPem: string;
  /** A kubeconfig as Cluster API writes it into `<cluster>-kubeconfig`. */
  kubeconfig(opts?: KubeconfigOptions): string;
  /** The client key PEMs the kubeconfigs embed, so tests can prove they never leak. */
  clientKeyPems: string[];
  /** API requests received. */
  readonly requests: number;
  /** TLS connections accepted (handshake completed). */
  readonly connections: number;
  setMode(mode: ApiServerMode): Promise<void>;
  stop(): Promise<void>;
}

/** notAfter of the expired client certificate, as `openssl ca -enddate` takes it. */
export const EXPIRED_CLIENT_CERT_NOT_AFTER = new Date('2024-03-01T00:00:00Z');
const EXPIRED_SERVER_CERT_NOT_AFTER = new Date('2024-01-15T00:00:00Z');

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const pki = await issuePki();
  let mode: ApiServerMode = options.mode ?? 'ok';
  let requests = 0;
  let connections = 0;
  const sockets = new Set<Socket>();

  const contextFor = (m: ApiServerMode) =>
    m === 'expired-server-cert'
      ? { key: pki.expiredServer.key, cert: pki.expiredServer.cert, ca: pki.clientCa.cert }
      : { key: pki.server.key, cert: pki.server.cert, ca: pki.clientCa.cert };

  const server = https.createServer(
    // The client certificate is requested but checked per request, as kube-apiserver does: a bad
    // certificate gets a 401 Status, not a failed handshake.
    { ...contextFor(mode), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      requests += 1;
      options.onRequest?.('start');
      let ended = false;
      const end = () => {
        if (!ended) {
          ended = true;
          options.onRequest?.('end');
        }
      };
      res.on('close', end);
      if (mode === 'hang') return;
      const answer = () => serve(req, res, mode, options);
      if (options.responseDelayMs) setTimeout(answer, options.responseDelayMs);
      else answer();
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', () => {
    connections += 1;
  });
  server.on('tlsClientError', () => {
    // A client that refuses our certificate closes the handshake; nothing to do.
  });

  await listen(server, 0);
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('test API server: no TCP address');
  const port = address.port;
  const url = `https://127.0.0.1:${port}`;
  let listening = true;

  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };

  const setMode = async (next: ApiServerMode) => {
    mode = next;
    if (next === 'refuse') {
      if (listening) {
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropConnections();
        await closed;
      }
      return;
    }
    server.setSecureContext(contextFor(next));
    // Keep-alive connections were made with the previous certificate; new ones get the new one.
    dropConnections();
    if (!listening) {
      await listen(server, port);
      listening = true;
    }
  };
  await setMode(mode);

  return {
    url,
    caPem: pki.serverCa.cert,
    clientKeyPems: [pki.client.key, pki.expiredClient.key, pki.foreignClient.key],
    kubeconfig(opts: KubeconfigOptions = {}) {
      const client = opts.expiredClientCert ? pki.expiredClient : opts.foreignClientCert ? pki.foreignClient : pki.client;
      return capiKubeconfig(opts.clusterName ?? 'workload', url, opts.certificateAuthorityPem ?? pki.serverCa.cert, client);
    },
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    setMode,
    async stop() {
      if (listening) {
        listening = false;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        dropConnections();
        await closed;
      }
      dropConnections();
    },
  };
}

function listen(server: https.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serve(req: IncomingMessage, res: ServerResponse, mode: ApiServerMode, options: ApiServerOptions): void {
  if (mode === 'reject-client' || !clientCertificateAccepted(req.socket as TLSSocket)) {
    status(res, 401, 'Unauthorized', 'Unauthorized');
    return;
  }
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const deleted = req.method === 'DELETE' ? /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname) : null;
  if (deleted) {
    // DELETE /api/v1/nodes/<name>: the Node leaves the list (remediate --apply).
    const at = options.nodes.findIndex((n) => n.name === decodeURIComponent(deleted[1]!));
    if (at < 0) {
      status(res, 404, 'NotFound', `nodes "${deleted[1]}" not found`);
      return;
    }
    options.nodes.splice(at, 1);
    json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
    return;
  }
  const pods = req.method === 'GET' ? /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname) : null;
  if (pods) {
    json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '4711' }, items: podsOf(options, pods[1]!, url) });
    return;
  }
  if (req.method !== 'GET' || url.pathname !== '/api/v1/nodes') {
    if (serveKubectl(req.method ?? 'GET', url, res, options, nodeObject, json)) return;
    status(res, 404, 'NotFound', 'the server could not find the requested resource');
    return;
  }
  const total = options.nodes.length;
  let offset = 0;
  const token = url.searchParams.get('continue');
  if (token) {
    const decoded = decodeContinue(token);
    if (decoded === undefined || decoded > total) {
      status(res, 400, 'BadRequest', 'continue key is not valid');
      return;
    }
    offset = decoded;
  }
  const asked = Number(url.searchParams.get('limit') ?? '0');
  let limit = Number.isInteger(asked) && asked > 0 ? asked : total;
  if (options.pageLimitMax !== undefined) limit = Math.min(limit, options.pageLimitMax);
  const page = options.nodes.slice(offset, offset + limit);
  const nextOffset = offset + page.length;
  const metadata: Record<string, unknown> = { resourceVersion: '4711' };
  if (nextOffset < total) {
    metadata.continue = encodeContinue(nextOffset);
    metadata.remainingItemCount = total - nextOffset;
  }
  json(res, 200, { kind: 'NodeList', apiVersion: 'v1', metadata, items: page.map(nodeObject) });
}

/** The Pods of `namespace` that match the request's labelSelector (`k=v` terms only). */
function podsOf(options: ApiServerOptions, namespace: string, url: URL): unknown[] {
  const terms = (url.searchParams.get('labelSelector') ?? '')
    .split(',')
    .filter(Boolean)
    .map((term) => term.split('=') as [string, string]);
  return (options.pods ?? []).filter((p) => p.namespace === namespace && terms.every(([k, v]) => p.labels?.[k] === v)).map(podObject);
}

function nodeObject(spec: NodeSpec): unknown {
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    ...spec.labels,
  };
  if (spec.controlPlane) labels['node-role.kubernetes.io/control-plane'] = '';
  if (spec.legacyMaster) labels['node-role.kubernetes.io/master'] = '';
  return {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: { name: spec.name, uid: `uid-${spec.name}`, resourceVersion: '4711', labels },
    spec: { ...(spec.providerID ? { providerID: spec.providerID } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      nodeInfo: spec.providerID ? { systemUUID: spec.providerID.replace(/^vsphere:\/\//, '').toUpperCase() } : {},
      addresses: [{ type: 'Hostname', address: spec.name }],
      ...(spec.ready !== undefined ? { conditions: [{ type: 'Ready', status: spec.ready ? 'True' : 'False' }] } : {}),
    },
  };
}

// The token is opaque to clients; it carries the offset of the next page plus a marker so that a
// made-up token is refused like a real API server refuses one.
function encodeContinue(offset: number): string {
  return Buffer.from(JSON.stringify({ rv: '4711', start: offset })).toString('base64url');
}

function decodeContinue(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    return parsed.rv === '4711' && Number.isInteger(parsed.start) ? (parsed.start as number) : undefined;
  } catch {
    return undefined;
  }
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function capiKubeconfig(cluster: string, server: string, caPem: string, client: KeyPair): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  const user = `${cluster}-admin`;
  const context = `${user}@${cluster}`;
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(caPem)}`,
    `    server: ${server}`,
    `  name: ${cluster}`,
    'contexts:',
    '- context:',
    `    cluster: ${cluster}`,
    `    user: ${user}`,
    `  name: ${context}`,
    `current-context: ${context}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(client.cert)}`,
    `    client-key-data: ${b64(client.key)}`,
    '',
  ].join('\n');
}

// ---- PKI ------------------------------------------------------------------------------------

interface KeyPair {
  key: string;
  cert: string;
}

interface Pki {
  serverCa: KeyPair;
  server: KeyPair;
  expiredServer: KeyPair;
  clientCa: KeyPair;
  client: KeyPair;
  expiredClient: KeyPair;
  foreignClient: KeyPair;
}

const CA_CONFIG = `[ ca ]
default_ca = ca_default
[ ca_default ]
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
organizationName = optional
commonName = supplied
[ server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default
[ client ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

async function issuePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'apiserver-pki-'));
  try {
    const serverCa = await selfSignedCa(dir, 'server-ca', 'kubernetes');
    const clientCa = await selfSignedCa(dir, 'client-ca', 'kubernetes-client-ca');
    const foreignCa = await selfSignedCa(dir, 'foreign-ca', 'someone-else');
    const now = Date.now();
    const current = { notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000) };
    const server = await issue(dir, serverCa, 'server', '/CN=kube-apiserver', 'server', current);
    const expiredServer = await issue(dir, serverCa, 'expired-server', '/CN=kube-apiserver', 'server', {
      notBefore: new Date('2023-01-15T00:00:00Z'),
      notAfter: EXPIRED_SERVER_CERT_NOT_AFTER,
    });
    const admin = '/O=system:masters/CN=kubernetes-admin';
    const client = await issue(dir, clientCa, 'client', admin, 'client', current);
    const expiredClient = await issue(dir, clientCa, 'expired-client', admin, 'client', {
      notBefore: new Date('2023-03-01T00:00:00Z'),
      notAfter: EXPIRED_CLIENT_CERT_NOT_AFTER,
    });
    const foreignClient = await issue(dir, foreignCa, 'foreign-client', admin, 'client', current);
    return {
      serverCa: serverCa.pair,
      server,
      expiredServer,
      clientCa: clientCa.pair,
      client,
      expiredClient,
      foreignClient,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * With `ca` set to the client CA, Node verifies the peer chain and validity during the handshake
 * and records the outcome in `socket.authorized`: missing, foreign and expired certificates all
 * leave it false.
 */
function clientCertificateAccepted(socket: TLSSocket): boolean {
  return socket.authorized === true && Object.keys(socket.getPeerCertificate()).length > 0;
}

interface CaDir {
  dir: string;
  pair: KeyPair;
}

async function selfSignedCa(root: string, name: string, cn: string): Promise<CaDir> {
  const dir = join(root, name);
  await mkdir(join(dir, 'issued'), { recursive: true });
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(join(dir, 'serial'), `${randomBytes(8).toString('hex')}\n`);
  await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    `/CN=${cn}`,
    '-days',
    '3650',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return { dir, pair: { key: await readFile(join(dir, 'ca.key'), 'utf8'), cert: await readFile(join(dir, 'ca.crt'), 'utf8') } };
}

async function issue(
  root: string,
  ca: CaDir,
  name: string,
  subject: string,
  extensions: 'server' | 'client',
  validity: { notBefore: Date; notAfter: Date },
): Promise<KeyPair> {
  const key = join(root, `${name}.key`);
  const csr = join(root, `${name}.csr`);
  const cert = join(root, `${name}.crt`);
  await openssl(root, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    subject,
  ]);
  // `openssl x509 -req` in OpenSSL 3.0 only takes -days from now; `openssl ca` takes explicit dates.
  await openssl(ca.dir, [
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.crt',
    '-keyfile',
    'ca.key',
    '-in',
    csr,
    '-out',
    cert,
    '-startdate',
    asn1Time(validity.notBefore),
    '-enddate',
    asn1Time(validity.notAfter),
    '-notext',
    '-preserveDN',
    '-extfile',
    'ca.cnf',
    '-extensions',
    extensions,
  ]);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}
