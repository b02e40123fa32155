/** The slice of a Kubernetes object the detector reads. Everything else is kept opaque. */

export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // CAPI/CAPV specs are read field by field where they are used, with their own narrow types.
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  /** Secrets only: base64 values, as Velero stores them. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** A Kubernetes object name (DNS-1123 subdomain): what Velero backups and Secrets are named by. */
export function isObjectName(name: string): boolean {
  return name.length <= 253 && OBJECT_NAME.test(name);
}
