/**
 * The object store behind the loopback Kubernetes API (kube-api.ts): resources by group, version
 * and plural, objects with uid, resourceVersion and creationTimestamp as the API server sets them,
 * label and field selectors, and the three patch types. One global resourceVersion counter, as
 * etcd's revision: a watch from version N sees every change after N.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    generateName?: string;
  } & Record<string, unknown>;
} & Record<string, any>;

export interface ResourceDef {
  group: string; // '' for core
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface Change {
  type: ChangeType;
  object: KubeObject;
  resource: ResourceDef;
  /** The store's revision after this change. */
  revision: number;
}

const r = (group: string, version: string, plural: string, kind: string, namespaced = true, shortNames?: string[]): ResourceDef => ({
  group,
  version,
  plural,
  kind,
  namespaced,
  ...(shortNames ? { shortNames } : {}),
});

const CAPI = 'cluster.x-k8s.io';
const INFRA = 'infrastructure.cluster.x-k8s.io';

export const DEFAULT_RESOURCES: ResourceDef[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, ['ns']),
  r('', 'v1', 'secrets', 'Secret'),
  r('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  r('', 'v1', 'events', 'Event', true, ['ev']),
  r('', 'v1', 'nodes', 'Node', false, ['no']),
  r('', 'v1', 'pods', 'Pod', true, ['po']),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease'),
  r('events.k8s.io', 'v1', 'events', 'Event'),
  r('velero.io', 'v1', 'backups', 'Backup'),
  r('velero.io', 'v1', 'restores', 'Restore'),
  r('velero.io', 'v1', 'schedules', 'Schedule'),
  r('velero.io', 'v1', 'backupstoragelocations', 'BackupStorageLocation', true, ['bsl']),
  r(CAPI, 'v1beta1', 'clusters', 'Cluster', true, ['cl']),
  r(CAPI, 'v1beta1', 'machines', 'Machine', true, ['ma']),
  r(CAPI, 'v1beta1', 'machinesets', 'MachineSet', true, ['ms']),
  r(CAPI, 'v1beta1', 'machinedeployments', 'MachineDeployment', true, ['md']),
  r(CAPI, 'v1beta1', 'machinehealthchecks', 'MachineHealthCheck', true, ['mhc', 'mhcs']),
  r('controlplane.cluster.x-k8s.io', 'v1beta1', 'kubeadmcontrolplanes', 'KubeadmControlPlane', true, ['kcp']),
  r('bootstrap.cluster.x-k8s.io', 'v1beta1', 'kubeadmconfigs', 'KubeadmConfig'),
  r(INFRA, 'v1beta1', 'vsphereclusters', 'VSphereCluster'),
  r(INFRA, 'v1beta1', 'vspheremachines', 'VSphereMachine'),
  r(INFRA, 'v1beta1', 'vspherevms', 'VSphereVM'),
  r(INFRA, 'v1beta1', 'vspheremachinetemplates', 'VSphereMachineTemplate'),
];

export const apiVersionOf = (def: ResourceDef): string => (def.group ? `${def.group}/${def.version}` : def.version);

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface Stored {
  object: KubeObject;
  resource: ResourceDef;
}

/** Resources and the objects in them; emits 'change' with a Change after every write. */
export class ObjectStore extends EventEmitter {
  private readonly objects = new Map<string, Stored>();
  revision = 1;

  constructor(readonly resources: ResourceDef[]) {
    super();
  }

  resourceByKind(apiVersion: string, kind: string): ResourceDef {
    const def = this.resources.find((d) => apiVersionOf(d) === apiVersion && d.kind === kind);
    if (!def) throw new Error(`kube-api: no resource for ${apiVersion} ${kind}; add it with startKubeApi({ resources })`);
    return def;
  }

  resourceByPlural(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.resources.find((d) => d.group === group && d.version === version && d.plural === plural);
  }

  private key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return `${def.group}/${def.plural}/${def.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const stored = this.objects.get(this.key(def, namespace, name));
    return stored ? structuredClone(stored.object) : undefined;
  }

  list(def: ResourceDef, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const { object, resource } of this.objects.values()) {
      if (resource !== def) continue;
      if (namespace !== undefined && def.namespaced && object.metadata.namespace !== namespace) continue;
      out.push(structuredClone(object));
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  create(def: ResourceDef, object: KubeObject, namespace?: string): KubeObject {
    const meta = { ...object.metadata };
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    if (!meta.name)
      throw new KubeApiError(422, 'Invalid', `${def.kind} is invalid: metadata.name: Required value: name or generateName is required`);
    if (def.namespaced) meta.namespace = namespace ?? meta.namespace ?? 'default';
    const key = this.key(def, meta.namespace, meta.name);
    if (this.objects.has(key))
      throw new KubeApiError(409, 'AlreadyExists', `${def.plural}${def.group ? `.${def.group}` : ''} "${meta.name}" already exists`, {
        name: meta.name,
        group: def.group,
        kind: def.plural,
      });
    const stored: KubeObject = {
      ...structuredClone(object),
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      metadata: {
        ...structuredClone(meta),
        uid: meta.uid ?? randomUUID(),
        creationTimestamp: meta.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion: String(++this.revision),
      },
    };
    this.objects.set(key, { object: stored, resource: def });
    this.emitChange('ADDED', stored, def);
    return structuredClone(stored);
  }

  /** PUT: the stored object is replaced when the sent resourceVersion is current (or absent, as the API server allows for unconditional updates of most kinds). */
  update(def: ResourceDef, namespace: string | undefined, name: string, object: KubeObject): KubeObject {
    const key = this.key(def, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(def, name);
    const sent = object.metadata?.resourceVersion;
    if (sent !== undefined && sent !== current.object.metadata.resourceVersion)
      throw new KubeApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${def.plural}${def.group ? `.${def.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: def.group, kind: def.plural },
      );
    return this.replace(key, def, current.object, object);
  }

  patch(def: ResourceDef, namespace: string | undefined, name: string, contentType: string, body: unknown): KubeObject {
    const key = this.key(def, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(def, name);
    let next: KubeObject;
    if (contentType.startsWith('application/json-patch+json')) next = jsonPatch(current.object, body);
    else if (contentType.startsWith('application/merge-patch+json') || contentType.startsWith('application/strategic-merge-patch+json'))
      next = mergePatch(current.object, body) as KubeObject;
    else
      throw new KubeApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    const sent = (body as KubeObject | undefined)?.metadata?.resourceVersion;
    if (sent !== undefined && sent !== current.object.metadata.resourceVersion)
      throw new KubeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.plural} "${name}": the object has been modified`);
    return this.replace(key, def, current.object, next);
  }

  delete(def: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const key = this.key(def, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw notFound(def, name);
    this.objects.delete(key);
    const gone = { ...current.object, metadata: { ...current.object.metadata, resourceVersion: String(++this.revision) } };
    this.emitChange('DELETED', gone, def);
    return structuredClone(gone);
  }

  private replace(key: string, def: ResourceDef, current: KubeObject, next: KubeObject): KubeObject {
    const stored: KubeObject = {
      ...structuredClone(next),
      apiVersion: current.apiVersion,
      kind: current.kind,
      metadata: {
        ...structuredClone(next.metadata ?? {}),
        name: current.metadata.name,
        ...(current.metadata.namespace !== undefined ? { namespace: current.metadata.namespace } : {}),
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: String(++this.revision),
      },
    } as KubeObject;
    this.objects.set(key, { object: stored, resource: def });
    this.emitChange('MODIFIED', stored, def);
    return structuredClone(stored);
  }

  private emitChange(type: ChangeType, object: KubeObject, resource: ResourceDef): void {
    const change: Change = { type, object: structuredClone(object), resource, revision: this.revision };
    this.emit('change', change);
  }
}

function notFound(def: ResourceDef, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${def.plural}${def.group ? `.${def.group}` : ''} "${name}" not found`, {
    name,
    group: def.group,
    kind: def.plural,
  });
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** RFC 6902 JSON patch: add, remove, replace, test (what clients send). */
function jsonPatch(target: KubeObject, ops: unknown): KubeObject {
  if (!Array.isArray(ops)) throw new KubeApiError(400, 'BadRequest', 'json patch: the body is not an array of operations');
  const doc = structuredClone(target) as Record<string, any>;
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: any = doc;
    for (const p of parts) {
      if (parent[p] === undefined) {
        if (op.op === 'add') parent[p] = {};
        else throw new KubeApiError(422, 'Invalid', `json patch: ${op.path} does not exist`);
      }
      parent = parent[p];
    }
    if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw new KubeApiError(422, 'Invalid', `json patch: test of ${op.path} failed`);
    } else if (op.op === 'remove') {
      if (!(last in parent)) throw new KubeApiError(422, 'Invalid', `json patch: ${op.path} does not exist`);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === 'add' && Array.isArray(parent)) {
      parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
    } else if (op.op === 'add' || op.op === 'replace') {
      parent[last] = op.value;
    } else throw new KubeApiError(422, 'Invalid', `json patch: unsupported op ${op.op}`);
  }
  return doc as KubeObject;
}

type Requirement = (labels: Record<string, string>) => boolean;

/** A label selector as the API server parses it: =, ==, !=, in, notin, exists, !key. Throws 400 on what it cannot parse. */
export function parseLabelSelector(text: string): Requirement {
  const reqs: Requirement[] = [];
  for (const part of splitSelector(text)) {
    const s = part.trim();
    if (!s) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(s))) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = new Set(list.split(',').map((v) => v.trim()));
      reqs.push(op === 'in' ? (l) => key in l && values.has(l[key]!) : (l) => !(key in l) || !values.has(l[key]!));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(s))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      reqs.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^!([\w./-]+)$/.exec(s))) {
      const key = m[1]!;
      reqs.push((l) => !(key in l));
    } else if ((m = /^([\w./-]+)$/.exec(s))) {
      const key = m[1]!;
      reqs.push((l) => key in l);
    } else throw new KubeApiError(400, 'BadRequest', `unable to parse requirement: ${s}`);
  }
  return (labels) => reqs.every((req) => req(labels));
}

/** Commas separate requirements except inside `in (a,b)`. */
function splitSelector(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** fieldSelector: metadata.name and metadata.namespace, = / == / !=. */
export function parseFieldSelector(text: string): (object: KubeObject) => boolean {
  const checks = splitSelector(text)
    .filter((s) => s.trim())
    .map((s) => {
      const m = /^\s*(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*?)\s*$/.exec(s);
      if (!m) throw new KubeApiError(400, 'BadRequest', `field label not supported: ${s.split(/[=!]/)[0]}`);
      const [, field, op, value] = m as unknown as [string, string, string, string];
      const read = (o: KubeObject) => (field === 'metadata.name' ? o.metadata.name : (o.metadata.namespace ?? ''));
      return op === '!=' ? (o: KubeObject) => read(o) !== value : (o: KubeObject) => read(o) === value;
    });
  return (o) => checks.every((check) => check(o));
}
