/**
 * The kubeadm control plane's etcd member removal (docs/unpause-forecast.md#etcd-member-removal):
 * once every control-plane Machine has a Node, it removes the etcd members whose name is no
 * control-plane Machine's Node. A Ghost control-plane VM loses its member and keeps running. Pure.
 */
import type { ClusterView } from './cluster-view.js';
import { DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS } from './health-checks.js';
import type { ActionWhen } from './model.js';
import { emptyOutcome, type Outcome } from './outcome.js';
import { formatDuration, selects } from './selectors.js';

export function etcdOutcome(view: ClusterView): Outcome {
  const out = emptyOutcome();
  if (!view.controlPlane) return out;
  const w = view.workload;
  if (!w || !w.reached) {
    out.unknowns.push(`etcd membership unknown: ${w ? w.reason : 'workload cluster not read'}`);
    return out;
  }
  const cpMachines = view.machines.filter((f) => f.machine.controlPlane);
  const accounted = new Set(cpMachines.flatMap((f) => (f.node.state === 'ready' || f.node.state === 'not-ready' ? [f.node.node.name] : [])));
  const members = new Set([...w.etcdMembers, ...w.nodes.filter((n) => n.controlPlane).map((n) => n.name)]);
  const when = removalTime(view);
  for (const member of [...members].sort()) {
    if (accounted.has(member)) continue;
    out.actions.push({
      kind: 'etcd-member-removed',
      object: { kind: 'EtcdMember', namespace: view.cluster.namespace, name: member },
      when,
      why: `no control-plane Machine has Node ${member}: the control plane removes its etcd member${
        w.nodes.some((n) => n.name === member) ? ' and the VM keeps running, unmanaged' : ''
      }`,
      rule: 'etcd-member-removal',
    });
  }
  return out;
}

/**
 * Removal waits until every control-plane Machine has a Node: at unpause when they all have one,
 * else once those without are replaced, after the control plane's nodeStartupTimeout.
 */
function removalTime(view: ClusterView): ActionWhen {
  const waiting = view.machines.filter((f) => f.machine.controlPlane && (f.node.state === 'none' || f.node.state === 'unknown'));
  if (waiting.length === 0) return 'at unpause';
  const mhc = view.healthChecks.find((h) => waiting.some((f) => selects(h.selector, f.machine.labels)));
  return `after nodeStartupTimeout ${formatDuration(mhc?.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS)}`;
}
