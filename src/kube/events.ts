/**
 * One Kubernetes Event on an object, as the detector reports what it did or found (a restore
 * gated, a backup that turned unrestorable): a bounded create, the message cut to a size the
 * API server takes.
 */
import { hostname } from 'node:os';
import type { KubeClient } from './client.js';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface KubeEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** `reportingComponent`, e.g. `driftdetector.dev/restore-gate`. */
  reporter: string;
}

const MAX_EVENT_MESSAGE = 1024;

export async function recordEvent(client: KubeClient, involved: InvolvedObject, event: KubeEvent, signal?: AbortSignal): Promise<void> {
  const now = new Date();
  const body = {
    metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
    involvedObject: involved,
    type: event.type,
    reason: event.reason,
    message: event.message.length > MAX_EVENT_MESSAGE ? `${event.message.slice(0, MAX_EVENT_MESSAGE - 3)}...` : event.message,
    source: { component: 'drift-detector' },
    reportingComponent: event.reporter,
    reportingInstance: hostname(),
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
  await client.call(
    `an Event on ${involved.kind} ${involved.namespace}/${involved.name}`,
    'create',
    ({ core }, options) => core.createNamespacedEvent({ namespace: involved.namespace, body }, options),
    signal,
  );
}
