/**
 * The tripwire after an unpause (docs/unpause-forecast.md, "The unpause"): for a given time it
 * follows the cluster's Machines (a watch, with listings when the watch drops) and, where the
 * workload cluster can be read, its etcd members. A Machine created or deleted, or a member
 * removed, that the accepted forecast did not list pauses the cluster again at once.
 */
import { CLUSTER_NAME_LABEL } from '../backup/object-fields.js';
import { DEFAULTS } from '../config/defaults.js';
import { durationText } from '../config/values.js';
import type { ClusterForecast } from '../forecast/model.js';
import { CAPI_RESOURCES } from '../kube/capi-resources.js';
import type { KubeClient } from '../kube/client.js';
import { followObjects, type Appearance } from '../kube/watch.js';
import type { WorkloadNodeRequest } from '../workload/nodes.js';
import { sleep } from '../util/sleep.js';
import { pauseCluster } from './unpause.js';

const OWNER_LABELS = ['cluster.x-k8s.io/control-plane-name', 'cluster.x-k8s.io/deployment-name', 'cluster.x-k8s.io/set-name'];

export interface TripwireOptions {
  durationMs: number;
  /** The Machines of the cluster when the forecast was made. */
  machines: string[];
  /**
   * To read the etcd members, with the members the forecast saw; absent when the workload cluster
   * is not to be read (or was not reached for the forecast).
   */
  workload?: WorkloadNodeRequest & { members: string[]; insecureSkipVerify?: boolean; timeoutMs?: number };
  signal?: AbortSignal;
  log?: (line: string) => void;
  debug?: (message: string) => void;
}

export type TripwireResult = { fired: false } | { fired: true; what: string };

/** What the accepted forecast lets happen to the cluster's Machines and etcd members. */
class Allowance {
  private clones: number;
  private readonly deletes: Set<string>;
  private readonly rollingOwners: Set<string>;
  private readonly removedMembers: Set<string>;

  constructor(cluster: ClusterForecast) {
    const of = (kind: string) => cluster.actions.filter((a) => a.kind === kind);
    // A VSphereVM cloned anew makes a VM, not a Machine: only its owner's clones make Machines.
    this.clones = of('clone').filter((a) => a.object.kind !== 'VSphereVM').length;
    this.deletes = new Set(of('delete').flatMap((a) => (a.object.kind === 'Machine' ? [a.object.name] : [])));
    this.rollingOwners = new Set(of('rollout').map((a) => a.object.name));
    this.removedMembers = new Set(of('etcd-member-removed').map((a) => a.object.name));
  }

  /** Why a change is unforeseen, or undefined when the forecast listed it. */
  machine(type: Appearance, name: string, labels: Record<string, string>): string | undefined {
    if (OWNER_LABELS.some((label) => labels[label] && this.rollingOwners.has(labels[label]))) return undefined;
    if (type === 'DELETED') return this.deletes.delete(name) ? undefined : `Machine ${name} was deleted, which the forecast did not list`;
    if (this.clones > 0) {
      this.clones -= 1;
      return undefined;
    }
    return `Machine ${name} was created beyond the clones the forecast listed`;
  }

  member(name: string): string | undefined {
    return this.removedMembers.has(name) ? undefined : `etcd member ${name} was removed, which the forecast did not list`;
  }
}

export async function runTripwire(client: KubeClient, cluster: ClusterForecast, options: TripwireOptions): Promise<TripwireResult> {
  const allowance = new Allowance(cluster);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), Math.min(options.durationMs, 2 ** 31 - 1));
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let fired: string | undefined;
  const fire = (what: string) => {
    if (fired !== undefined) return;
    fired = what;
    stop.abort();
  };
  const label = `${cluster.namespace}/${cluster.name}`;
  options.log?.(`tripwire on ${label} for ${durationText(options.durationMs)}`);
  try {
    await Promise.all([
      followObjects(
        client,
        CAPI_RESOURCES.machines,
        {
          namespace: cluster.namespace,
          labelSelector: `${CLUSTER_NAME_LABEL}=${cluster.name}`,
          known: options.machines,
          signal: stop.signal,
          relistMs: DEFAULTS.unpause.relistMs,
          connectTimeoutMs: DEFAULTS.unpause.watchConnectTimeoutMs,
          watchSeconds: DEFAULTS.unpause.watchSeconds,
          ...(options.debug ? { debug: options.debug } : {}),
        },
        (type, name, object) => {
          const labels = (object as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
          const unforeseen = allowance.machine(type, name, labels);
          if (unforeseen) fire(unforeseen);
          else options.log?.(`${label}: Machine ${name} ${type === 'ADDED' ? 'created' : 'deleted'}, as forecast`);
        },
      ),
      options.workload ? followMembers(options.workload, allowance, stop.signal, fire, options.debug) : Promise.resolve(),
    ]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  if (fired === undefined) {
    options.signal?.throwIfAborted();
    return { fired: false };
  }
  await pauseCluster(client, cluster.namespace, cluster.name, options.signal);
  options.log?.(`${label}: paused again: ${fired}`);
  return { fired: true, what: fired };
}

/** Reads the etcd members every DEFAULTS.unpause.etcdPollMs; a member gone that was not forecast fires. */
async function followMembers(
  workload: NonNullable<TripwireOptions['workload']>,
  allowance: Allowance,
  signal: AbortSignal,
  fire: (what: string) => void,
  debug: ((message: string) => void) | undefined,
): Promise<void> {
  const { readWorkloadMembers } = await import('../workload/members.js');
  const members = new Set(workload.members);
  while (!signal.aborted) {
    const state = await readWorkloadMembers(workload, { ...workload, signal, ...(debug ? { debug } : {}) });
    if (state.reached) {
      for (const gone of [...members].filter((m) => !state.etcdMembers.includes(m))) {
        members.delete(gone);
        const unforeseen = allowance.member(gone);
        if (unforeseen) return fire(unforeseen);
      }
      for (const member of state.etcdMembers) members.add(member);
    }
    await sleep(DEFAULTS.unpause.etcdPollMs, signal);
  }
}
