/**
 * A `coordination.k8s.io/v1` Lease as client-go's leader election keeps it: who holds it, since
 * when, when it was last renewed, and how many times it changed hands. Reads and writes go through
 * the bounded KubeClient; a write names the resourceVersion it read, so of two replicas that both
 * saw the Lease expire, the API server lets exactly one through and answers the other 409 Conflict.
 */
import { isMap } from '../util/values.js';
import { KubeCallError, type KubeRequestOptions } from './call.js';
import type { KubeApis, KubeClient } from './client.js';

/** The fields of a Lease's spec that leader election reads and writes. */
export interface LeaseRecord {
  /** Empty: nobody holds it (released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  /** RFC 3339 with microseconds, as the API server's MicroTime. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/** A Lease as read: its record and the resourceVersion a write must name. */
export interface ObservedLease {
  record: LeaseRecord;
  resourceVersion: string;
}

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' } as const;

export class LeaseClient {
  constructor(
    /** Made on first use (a kubeconfig that cannot be loaded fails each try, as the API server's errors do). */
    private readonly client: () => Promise<KubeClient>,
    readonly namespace: string,
    readonly name: string,
  ) {}

  private get object(): string {
    return `Lease ${this.namespace}/${this.name}`;
  }

  /** The Lease, or undefined when it does not exist yet. */
  async read(signal?: AbortSignal): Promise<ObservedLease | undefined> {
    try {
      const lease: unknown = await (
        await this.client()
      ).call(
        this.object,
        'read',
        ({ custom }, o) => custom.getNamespacedCustomObject({ ...LEASES, namespace: this.namespace, name: this.name }, o),
        signal,
      );
      return observedLease(lease);
    } catch (err) {
      if (err instanceof KubeCallError && err.failure === 'not-found') return undefined;
      throw err;
    }
  }

  /** Creates the Lease; undefined when another replica created it first (409 AlreadyExists). */
  create(record: LeaseRecord, signal?: AbortSignal): Promise<ObservedLease | undefined> {
    const body = this.lease(record);
    return this.write(
      'create',
      ({ custom }, o) => custom.createNamespacedCustomObject({ ...LEASES, namespace: this.namespace, body }, o),
      signal,
    );
  }

  /** Replaces the Lease read at `resourceVersion`; undefined when someone wrote it since (409 Conflict). */
  update(resourceVersion: string, record: LeaseRecord, signal?: AbortSignal): Promise<ObservedLease | undefined> {
    const body = this.lease(record, resourceVersion);
    return this.write(
      'update',
      ({ custom }, o) => custom.replaceNamespacedCustomObject({ ...LEASES, namespace: this.namespace, name: this.name, body }, o),
      signal,
    );
  }

  private lease(spec: LeaseRecord, resourceVersion?: string): object {
    const metadata = { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}) };
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
  }

  /** One write; a 409 (another replica wrote first) is undefined, not an error. */
  private async write(
    verb: 'create' | 'update',
    run: (apis: KubeApis, options: KubeRequestOptions) => Promise<unknown>,
    signal?: AbortSignal,
  ): Promise<ObservedLease | undefined> {
    try {
      return observedLease(await (await this.client()).call(this.object, verb, run, signal));
    } catch (err) {
      if (err instanceof KubeCallError && err.status === 409) return undefined;
      throw err;
    }
  }
}

/** What the API answered, read defensively: a Lease written by something else may lack fields. */
export function observedLease(lease: unknown): ObservedLease {
  const metadata = isMap(lease) && isMap(lease['metadata']) ? lease['metadata'] : {};
  const spec = isMap(lease) && isMap(lease['spec']) ? lease['spec'] : {};
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
  const acquireTime = text(spec['acquireTime']);
  const renewTime = text(spec['renewTime']);
  return {
    resourceVersion: text(metadata['resourceVersion']) ?? '',
    record: {
      holderIdentity: text(spec['holderIdentity']) ?? '',
      leaseDurationSeconds: count(spec['leaseDurationSeconds']),
      ...(acquireTime ? { acquireTime } : {}),
      ...(renewTime ? { renewTime } : {}),
      leaseTransitions: count(spec['leaseTransitions']),
    },
  };
}

/** A Kubernetes MicroTime: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
