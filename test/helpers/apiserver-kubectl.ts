/**
 * What kubectl itself asks of the workload API stand-in beyond the list the detector reads:
 * discovery (`/api`, `/apis`, `/api/v1`), one Node by name, the cordon patch of `kubectl drain`
 * and the cluster-wide Pod list drain filters by `spec.nodeName`. Enough for `get`, `drain` and
 * `delete node` to run against it; anything else stays a 404.
 */
import type { ServerResponse } from 'node:http';
import type { NodeSpec, PodSpec } from './apiserver.js';

type Answer = (res: ServerResponse, code: number, body: unknown) => void;

const RESOURCES = [
  { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['delete', 'get', 'list', 'patch'], shortNames: ['no'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
  { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
];

/** Answers the request when it is one of kubectl's; false when it is not (the caller answers 404). */
export function serveKubectl(
  method: string,
  url: URL,
  res: ServerResponse,
  state: { nodes: NodeSpec[]; pods?: PodSpec[] },
  nodeObject: (spec: NodeSpec) => unknown,
  json: Answer,
): boolean {
  const path = url.pathname;
  if (method === 'GET' && path === '/api') {
    json(res, 200, { kind: 'APIVersions', versions: ['v1'] });
  } else if (method === 'GET' && path === '/apis') {
    json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  } else if (method === 'GET' && path === '/api/v1') {
    json(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: RESOURCES });
  } else if (method === 'GET' && path === '/api/v1/pods') {
    const on = /^spec\.nodeName=(.*)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    const items = (state.pods ?? []).filter((p) => on === undefined || p.nodeName === on).map(podObject);
    json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '4711' }, items });
  } else {
    const named = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path);
    const node = named && state.nodes.find((n) => n.name === decodeURIComponent(named[1]!));
    if (!named || (method !== 'GET' && method !== 'PATCH')) return false;
    if (!node) {
      const message = `nodes "${decodeURIComponent(named[1]!)}" not found`;
      json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'NotFound', code: 404 });
      return true;
    }
    // The only patch kubectl drain sends is the cordon: spec.unschedulable.
    if (method === 'PATCH') node.unschedulable = true;
    json(res, 200, nodeObject(node));
  }
  return true;
}

/** A Pod as the API serves it. */
export function podObject(p: PodSpec): unknown {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: p.name, namespace: p.namespace, uid: `uid-${p.name}`, labels: p.labels ?? {} },
    spec: { nodeName: p.nodeName, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9' }] },
  };
}
