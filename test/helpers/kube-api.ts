/**
 * A Kubernetes API server on loopback for tests: HTTPS with its own CA, a bearer token or a client
 * certificate, and the verbs the code uses answered as the API server answers them — discovery,
 * list (label and field selectors, limit/continue, resourceVersion), watch streams, get, create
 * (409 AlreadyExists), update (409 Conflict on a stale resourceVersion: Leases depend on it),
 * merge / strategic-merge / JSON patch, delete, and `kind: Status` errors. Objects live in
 * kube-api-store.ts; every request is recorded, and a path prefix can be made to fail or hang.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { makePki, type Pki } from '../grpc/pki.js';
import {
  apiVersionOf,
  DEFAULT_RESOURCES,
  KubeApiError,
  ObjectStore,
  parseFieldSelector,
  parseLabelSelector,
  type Change,
  type KubeObject,
  type ResourceDef,
} from './kube-api-store.js';

export type { KubeObject, ResourceDef, Change } from './kube-api-store.js';

export interface KubeApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  authorization?: string;
  body?: any;
}

export interface KubeApi {
  server: string;
  token: string;
  /** Bearer token, the server's CA trusted. */
  kubeConfig: KubeConfig;
  /** PEM files: caCert, clientCert/clientKey (accepted as a user), serverCert. */
  pki: Pki;
  requests: KubeApiRequest[];
  /** A kubeconfig file (bearer token) in `dir` or a new temporary directory; returns its path. */
  writeKubeconfig(dir?: string): Promise<string>;
  put(object: KubeObject): KubeObject;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  /** Answer this status to every request whose path starts with the prefix, or never answer. */
  fail(pathPrefix: string, how: number | 'hang'): void;
  heal(pathPrefix: string): void;
  on(event: 'change', listener: (change: Change) => void): void;
  stop(): Promise<void>;
}

export interface KubeApiOptions {
  /** More resources beside DEFAULT_RESOURCES. */
  resources?: ResourceDef[];
  /** The most items a list page holds, whatever `limit` the client asks. */
  pageLimitMax?: number;
}

interface Route {
  resource: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const pki = await makePki();
  const [cert, key, ca] = await Promise.all([readFile(pki.serverCert), readFile(pki.serverKey), readFile(pki.caCert, 'utf8')]);
  const token = `kube-api-test-token-${randomBytes(12).toString('hex')}`;
  const store = new ObjectStore([...DEFAULT_RESOURCES, ...(options.resources ?? [])]);
  const history: Change[] = [];
  store.on('change', (change: Change) => {
    history.push(change);
    if (history.length > 10_000) history.shift();
  });
  const requests: KubeApiRequest[] = [];
  const failures = new Map<string, number | 'hang'>();
  const sockets = new Set<Socket>();

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://kube');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request: KubeApiRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    };
    if (text) {
      try {
        request.body = JSON.parse(text);
      } catch {
        throw new KubeApiError(400, 'BadRequest', 'the request body is not JSON');
      }
    }
    requests.push(request);
    const certified = (req.socket as TLSSocket).authorized;
    if (req.headers.authorization !== `Bearer ${token}` && !certified) throw new KubeApiError(401, 'Unauthorized', 'Unauthorized');
    for (const [prefix, how] of failures) {
      if (!url.pathname.startsWith(prefix)) continue;
      if (how === 'hang') return;
      throw new KubeApiError(how, 'InternalError', `injected ${how} for ${prefix}`);
    }
    if (discovery(store, url.pathname, res)) return;
    const route = routeOf(store, url.pathname);
    if (!route) throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    await serveRoute(route, request, res);
  };

  const serveRoute = async (route: Route, request: KubeApiRequest, res: ServerResponse): Promise<void> => {
    const { resource, namespace, name } = route;
    const query = request.query;
    if (request.method === 'GET' && !name && (query.get('watch') === 'true' || query.get('watch') === '1')) return watch(route, query, res);
    if (request.method === 'GET' && !name) return send(res, 200, listPage(route, query));
    if (request.method === 'GET') {
      const object = store.get(resource, namespace, name!);
      if (!object) throw new KubeApiError(404, 'NotFound', `${resource.plural} "${name}" not found`, { name, kind: resource.plural });
      return send(res, 200, object);
    }
    if (request.method === 'POST' && !name) return send(res, 201, store.create(resource, request.body ?? {}, namespace));
    if (request.method === 'PUT' && name) return send(res, 200, store.update(resource, namespace, name, request.body ?? {}));
    if (request.method === 'PATCH' && name)
      return send(res, 200, store.patch(resource, namespace, name, request.contentType ?? '', request.body));
    if (request.method === 'DELETE' && name) {
      store.delete(resource, namespace, name);
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name, kind: resource.plural } });
    }
    throw new KubeApiError(405, 'MethodNotAllowed', `${request.method} is not supported on ${request.path}`);
  };

  const listPage = (route: Route, query: URLSearchParams): unknown => {
    const selected = select(store.list(route.resource, route.namespace), query);
    let from = 0;
    const token = query.get('continue');
    if (token) {
      try {
        from = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: number }).offset;
      } catch {
        throw new KubeApiError(400, 'BadRequest', 'continue key is not valid');
      }
    }
    const asked = Number(query.get('limit') ?? '0') || Infinity;
    const limit = Math.min(asked, options.pageLimitMax ?? Infinity);
    const items = selected.slice(from, from + limit);
    const next =
      from + items.length < selected.length ? Buffer.from(JSON.stringify({ offset: from + items.length })).toString('base64url') : undefined;
    return {
      kind: `${route.resource.kind}List`,
      apiVersion: apiVersionOf(route.resource),
      metadata: {
        resourceVersion: String(store.revision),
        ...(next ? { continue: next, remainingItemCount: selected.length - from - items.length } : {}),
      },
      items,
    };
  };

  const watch = (route: Route, query: URLSearchParams, res: ServerResponse): void => {
    const matches = selector(query);
    const wanted = (c: Change) =>
      c.resource === route.resource && (route.namespace === undefined || c.object.metadata.namespace === route.namespace) && matches(c.object);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (type: string, object: KubeObject) => res.write(`${JSON.stringify({ type, object })}\n`);
    const from = query.get('resourceVersion');
    if (!from || from === '0') for (const object of select(store.list(route.resource, route.namespace), query)) write('ADDED', object);
    else {
      const since = Number(from);
      if (history.length > 0 && history[0]!.revision > since + 1 && since < store.revision - history.length) {
        write('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          code: 410,
          reason: 'Expired',
          message: `too old resource version: ${since}`,
        } as any);
        res.end();
        return;
      }
      for (const change of history) if (change.revision > since && wanted(change)) write(change.type, change.object);
    }
    const listener = (change: Change) => {
      if (wanted(change)) write(change.type, change.object);
    };
    store.on('change', listener);
    const timeout = Number(query.get('timeoutSeconds') ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      store.off('change', listener);
      if (timer) clearTimeout(timer);
    });
  };

  const server = https.createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (err instanceof KubeApiError) return send(res, err.code, statusOf(err));
      send(res, 500, statusOf(new KubeApiError(500, 'InternalError', String(err))));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigText = kubeconfigOf(address, ca, token);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfigText);

  return {
    server: address,
    token,
    kubeConfig,
    pki,
    requests,
    async writeKubeconfig(dir) {
      const path = join(dir ?? (await mkdtemp(join(tmpdir(), 'kube-api-'))), 'kubeconfig');
      await writeFile(path, kubeconfigText, { mode: 0o600 });
      return path;
    },
    put(object) {
      const def = store.resourceByKind(object.apiVersion ?? '', object.kind ?? '');
      const existing = store.get(def, object.metadata.namespace, object.metadata.name);
      if (!existing) return store.create(def, object, object.metadata.namespace);
      const { resourceVersion: _ignored, ...metadata } = object.metadata;
      return store.update(def, object.metadata.namespace, object.metadata.name, { ...object, metadata: metadata });
    },
    get: (apiVersion, kind, namespace, name) => store.get(store.resourceByKind(apiVersion, kind), namespace, name),
    list: (apiVersion, kind, namespace) => store.list(store.resourceByKind(apiVersion, kind), namespace),
    remove(apiVersion, kind, namespace, name) {
      store.delete(store.resourceByKind(apiVersion, kind), namespace, name);
    },
    fail: (prefix, how) => void failures.set(prefix, how),
    heal: (prefix) => void failures.delete(prefix),
    on: (_event, listener) => void store.on('change', listener),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pki.remove();
    },
  };
}

function select(objects: KubeObject[], query: URLSearchParams): KubeObject[] {
  const matches = selector(query);
  return objects.filter(matches);
}

function selector(query: URLSearchParams): (object: KubeObject) => boolean {
  const labels = parseLabelSelector(query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
  return (o) => labels(o.metadata.labels ?? {}) && fields(o);
}

/** `/api/v1/namespaces/ns/plural/name/sub`, `/apis/g/v/plural`, ...; the Namespace objects themselves at `/api/v1/namespaces/name`. */
function routeOf(store: ObjectStore, path: string): Route | undefined {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) [group, version, rest] = ['', parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 4) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = store.resourceByPlural(group, version, rest[0]!);
  if (!resource || (namespace !== undefined && !resource.namespaced)) return undefined;
  return {
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(rest[1] ? { name: decodeURIComponent(rest[1]) } : {}),
    ...(rest[2] ? { subresource: rest[2] } : {}),
  };
}

/** Answers the discovery documents client libraries read; false when the path is not one. */
function discovery(store: ObjectStore, path: string, res: ServerResponse): boolean {
  const trimmed = path.replace(/\/+$/, '');
  const groups = [...new Set(store.resources.filter((d) => d.group).map((d) => d.group))];
  const resourcesOf = (group: string, version: string) =>
    store.resources
      .filter((d) => d.group === group && d.version === version)
      .map((d) => ({
        name: d.plural,
        singularName: d.kind.toLowerCase(),
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      }));
  if (trimmed === '/api') send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
  else if (trimmed === '/api/v1') send(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: resourcesOf('', 'v1') });
  else if (trimmed === '/apis') {
    const list = groups.map((g) => {
      const versions = [...new Set(store.resources.filter((d) => d.group === g).map((d) => d.version))].map((v) => ({
        groupVersion: `${g}/${v}`,
        version: v,
      }));
      return { name: g, versions, preferredVersion: versions[0] };
    });
    send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: list });
  } else {
    const m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(trimmed);
    if (!m || !groups.includes(m[1]!)) return false;
    send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`, resources: resourcesOf(m[1]!, m[2]!) });
  }
  return true;
}

function statusOf(err: KubeApiError): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    ...(err.details ? { details: err.details } : {}),
    code: err.code,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function kubeconfigOf(server: string, ca: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kube-api', cluster: { server, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'tester', user: { token } }],
    contexts: [{ name: 'kube-api', context: { cluster: 'kube-api', user: 'tester' } }],
    'current-context': 'kube-api',
  });
}
