/**
 * A Kubernetes API server on loopback (HTTPS, a bearer token) holding just what the plugin reads
 * and writes in Velero's namespace: ConfigMaps (listed by label selector), Secrets, Backups,
 * BackupStorageLocations, Restores (merge-patched) and Events (created). Lists are paged
 * (limit/continue), at most `pageLimitMax` items a page whatever the client asks. It records every request
 * so tests can check what the in-cluster readers ask for; a path can be made to fail or hang.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { makePki } from '../grpc/pki.js';

export interface KubeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  authorization?: string;
  body?: any;
}

type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; uid?: string };
} & Record<string, any>;

export interface FakeKube {
  server: string;
  token: string;
  kubeConfig: KubeConfig;
  requests: KubeRequest[];
  /** Objects by API path, e.g. `/api/v1/namespaces/velero/secrets/x`. */
  objects: Map<string, KubeObject>;
  events: KubeObject[];
  put(path: string, object: KubeObject): void;
  /** Answer this status for requests to the path (any method), or hang them. */
  fail(path: string, how: number | 'hang'): void;
  heal(path: string): void;
  stop(): Promise<void>;
}

const TOKEN = 'fake-service-account-token-0123456789';

export async function startFakeKube(options: { pageLimitMax?: number } = {}): Promise<FakeKube> {
  const pki = await makePki();
  const [cert, key, ca] = await Promise.all([readFile(pki.serverCert), readFile(pki.serverKey), readFile(pki.caCert, 'utf8')]);
  const requests: KubeRequest[] = [];
  const objects = new Map<string, KubeObject>();
  const events: KubeObject[] = [];
  const failures = new Map<string, number | 'hang'>();
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const statusBody = (code: number, reason: string, message: string) => ({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code,
    reason,
    message,
  });

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kube');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request: KubeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      ...(req.headers['content-type'] ? { contentType: req.headers['content-type'] } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(text ? { body: JSON.parse(text) } : {}),
    };
    requests.push(request);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
    const failure = failures.get(url.pathname);
    if (failure === 'hang') return;
    if (failure) return send(res, failure, statusBody(failure, 'Failure', `injected ${failure} (this text must not reach users)`));

    const events_ = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(url.pathname);
    if (events_ && request.method === 'POST') {
      const event = {
        ...request.body,
        metadata: { ...request.body.metadata, name: `${request.body.metadata.generateName}${events.length + 1}` },
      };
      events.push(event);
      return send(res, 201, event);
    }
    // Lists of ConfigMaps and of Velero's Backups, by `k=v,...` label selector.
    const list = /^\/api\/v1\/namespaces\/[^/]+\/configmaps$|^\/apis\/velero\.io\/v1\/namespaces\/[^/]+\/backups$/.exec(url.pathname);
    if (list && request.method === 'GET') {
      const wanted = (url.searchParams.get('labelSelector') ?? '')
        .split(',')
        .filter(Boolean)
        .map((p) => p.split('=') as [string, string]);
      const items = [...objects.entries()]
        .filter(([path]) => path.startsWith(`${url.pathname}/`))
        .map(([, o]) => o)
        .filter((o) => wanted.every(([k, v]) => o.metadata.labels?.[k] === v));
      const kind = url.pathname.endsWith('/backups') ? 'BackupList' : 'ConfigMapList';
      // The continue token is the offset of the next page, as opaque to the client as the API's own.
      const from = Number(url.searchParams.get('continue') ?? '0');
      const limit = Math.min(Number(url.searchParams.get('limit') ?? Infinity) || Infinity, options.pageLimitMax ?? Infinity);
      const page = items.slice(from, from + limit);
      const metadata = from + page.length < items.length ? { continue: String(from + page.length) } : {};
      return send(res, 200, { kind, apiVersion: kind === 'BackupList' ? 'velero.io/v1' : 'v1', metadata, items: page });
    }
    const object = objects.get(url.pathname);
    if (!object) return send(res, 404, statusBody(404, 'NotFound', `${url.pathname} not found`));
    if (request.method === 'GET') return send(res, 200, object);
    if (request.method === 'PATCH') {
      if (request.contentType !== 'application/merge-patch+json')
        return send(res, 415, statusBody(415, 'UnsupportedMediaType', String(request.contentType)));
      object.metadata.annotations = { ...object.metadata.annotations, ...request.body?.metadata?.annotations };
      return send(res, 200, object);
    }
    return send(res, 405, statusBody(405, 'MethodNotAllowed', request.method));
  };

  const server = https.createServer({ cert, key }, (req, res) => {
    handler(req, res).catch((err: unknown) => send(res, 500, statusBody(500, 'InternalError', String(err))));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: address, caData: Buffer.from(ca).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'velero', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'velero' }],
    currentContext: 'fake',
  });

  return {
    server: address,
    token: TOKEN,
    kubeConfig,
    requests,
    objects,
    events,
    put: (path, object) => objects.set(path, structuredClone(object)),
    fail: (path, how) => failures.set(path, how),
    heal: (path) => failures.delete(path),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pki.remove();
    },
  };
}
