/**
 * Field access on the objects of a backup. CAPI/CAPV specs are untyped JSON: they are read field
 * by field, and a value that cannot be used is reported with the object it came from.
 */
import { objectKey, type KubeObject } from '../model/kube.js';
import { vcenterKey } from '../model/vcenter.js';
import { BackupError } from './errors.js';

export const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
/** TKG's label for a cluster's objects; the only one on its vSphere credentials Secret. */
export const TKG_CLUSTER_NAME_LABEL = 'tkg.tanzu.vmware.com/cluster-name';

export function field(object: unknown, ...path: string[]): unknown {
  let value = object;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A non-empty string field, trimmed; undefined otherwise. */
export function text(object: unknown, ...path: string[]): string | undefined {
  const value = field(object, ...path);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** `Kind namespace/name`, for messages. */
export function describe(kind: string, object: KubeObject): string {
  return `${kind} ${keyOf(object)}`;
}

export function keyOf(object: KubeObject): string {
  return objectKey(object.metadata.namespace, object.metadata.name);
}

export function byKey(objects: KubeObject[]): Map<string, KubeObject> {
  return new Map(objects.map((o) => [keyOf(o), o]));
}

export function byNamespaceAndName(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

/** The object a `{kind, name, namespace?}` reference names, when the backup has it. */
export function resolveRef(
  objects: Map<string, KubeObject>,
  ref: unknown,
  kind: string,
  namespace: string | undefined,
): KubeObject | undefined {
  const name = text(ref, 'name');
  if (!name) return undefined;
  const refKind = text(ref, 'kind');
  if (refKind !== undefined && refKind !== kind) return undefined;
  return objects.get(objectKey(text(ref, 'namespace') ?? namespace, name));
}

export function ownedBy(object: KubeObject, kind: string, name: string): boolean {
  return (object.metadata.ownerReferences ?? []).some((o) => o.kind === kind && o.name === name);
}

/** The vCenter key of the object's `spec.server`; a value that is no address is a BackupError. */
export function vcenterOf(source: string, object: KubeObject, kind: string): string | undefined {
  const server = text(object.spec, 'server');
  if (server === undefined) return undefined;
  try {
    return vcenterKey(server);
  } catch {
    throw new BackupError(source, describe(kind, object), `spec.server ${JSON.stringify(server)} is not a vCenter address`);
  }
}

/** A Secret value: `data` (base64, as Velero stores it), else `stringData`. */
export function secretValue(secret: KubeObject, dataKey: string): string | undefined {
  const encoded = secret.data?.[dataKey];
  if (typeof encoded === 'string' && encoded !== '') return Buffer.from(encoded, 'base64').toString('utf8');
  const plain = secret.stringData?.[dataKey];
  return typeof plain === 'string' && plain !== '' ? plain : undefined;
}
