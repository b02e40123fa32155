/**
 * Clones and deletes of Machines when an owner (KubeadmControlPlane, MachineSet,
 * MachineDeployment) scales to its replicas (docs/unpause-forecast.md#replica-delta). Pure.
 */
import type { MachineFacts } from './cluster-view.js';
import { machineRef } from './cluster-view.js';
import type { ActionWhen, ForecastAction, ObjectRef, RuleId } from './model.js';
import { refText } from './outcome.js';

export type Health = 'healthy' | 'unhealthy' | 'new' | 'unknown';

/** A Machine is healthy when its VM is found and its Node is Ready; one without a Node is not. */
export function healthOf(f: MachineFacts): Health {
  if (f.vm.state === 'clone') return 'new';
  if (f.vm.state === 'stale' || f.node.state === 'none' || f.node.state === 'not-ready') return 'unhealthy';
  if (f.node.state === 'unknown' || f.vm.state === 'unknown') return 'unknown';
  return f.vm.vm.powerState === 'poweredOff' ? 'unhealthy' : 'healthy';
}

export function clones(owner: ObjectRef, count: number, when: ActionWhen, why: string, rule: RuleId, related?: ObjectRef): ForecastAction[] {
  return Array.from({ length: Math.max(0, count) }, () => ({
    kind: 'clone' as const,
    object: owner,
    when,
    why,
    rule,
    ...(related ? { related } : {}),
  }));
}

/**
 * `count` Machines of `owner` deleted at unpause. The delete policies prefer Machines without a
 * healthy Node; beyond those, which healthy Machine goes is not predictable (every restored
 * Machine looks new), so the action names the owner and says a healthy Machine is deleted.
 * The Machines chosen are added to `taken`.
 */
export function scaleDown(
  owner: ObjectRef,
  candidates: MachineFacts[],
  count: number,
  why: string,
  taken: Set<MachineFacts>,
): ForecastAction[] {
  const rank: Record<Health, number> = { unhealthy: 0, new: 1, unknown: 2, healthy: 3 };
  const order = candidates
    .filter((f) => !taken.has(f))
    .sort((a, b) => rank[healthOf(a)] - rank[healthOf(b)] || a.machine.name.localeCompare(b.machine.name));
  const actions: ForecastAction[] = [];
  for (const f of order.slice(0, Math.max(0, count))) {
    taken.add(f);
    const health = healthOf(f);
    if (health === 'healthy') {
      actions.push({
        kind: 'delete',
        object: owner,
        when: 'at unpause',
        why: `${why}; one of its Machines with a healthy VM and Ready Node is deleted (which one the delete policy picks is not predictable)`,
        rule: 'healthy-machine-deleted',
      });
    } else {
      const state = health === 'unknown' ? 'whose Node is unknown' : health === 'new' ? 'whose VM is not cloned yet' : 'without a Ready Node';
      actions.push({
        kind: 'delete',
        object: machineRef(f.machine),
        when: 'at unpause',
        why: `${why}; the Machine ${state} goes first`,
        rule: 'replica-delta',
        related: owner,
      });
    }
  }
  return actions;
}

/** Clones and deletes that bring `machines` to `replicas` at unpause. */
export function scaleTo(owner: ObjectRef, replicas: number, machines: MachineFacts[], taken: Set<MachineFacts>): ForecastAction[] {
  const delta = replicas - machines.length;
  const why = `${refText(owner)} has replicas ${replicas} and ${machines.length} Machine(s)`;
  if (delta > 0) return clones(owner, delta, 'at unpause', `${why}: it creates ${delta}`, 'replica-delta');
  if (delta < 0) return scaleDown(owner, machines, -delta, `${why}: it deletes ${-delta}`, taken);
  return [];
}
