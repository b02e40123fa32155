/**
 * MachineHealthChecks on unpause (docs/unpause-forecast.md#mhc-remediation, #stale-machine,
 * #skip-remediation, #mhc-short-circuit). The restore reset every Machine's creation time and
 * dropped its status, so a Machine without a Node is unhealthy `nodeStartupTimeout` after the
 * unpause; within maxUnhealthy / unhealthyRange it is deleted and its owner clones a replacement.
 * Pure.
 */
import { machineRef, type ClusterView, type MachineFacts } from './cluster-view.js';
import type { ActionWhen, ForecastHealthCheck } from './model.js';
import { emptyOutcome, ref, refText, type Outcome } from './outcome.js';
import { clones } from './scaling.js';
import { formatDuration, maxUnhealthyCount, selects, unhealthyRange } from './selectors.js';

/** CAPI's default `nodeStartupTimeout`. */
export const DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS = 600;
const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

interface Unhealthy {
  facts: MachineFacts;
  when: ActionWhen;
  why: string;
}

export function healthCheckOutcome(view: ClusterView, taken: Set<MachineFacts>): Outcome {
  const out = emptyOutcome();
  const remediated = new Set<MachineFacts>(taken);
  const shortCircuited = new Map<MachineFacts, string>();
  for (const mhc of [...view.healthChecks].sort((a, b) => a.name.localeCompare(b.name))) {
    const selected = view.machines.filter((f) => selects(mhc.selector, f.machine.labels) && f.machine.labels[CLUSTER_NAME_LABEL] !== undefined);
    const targets = selected.filter((f) => !f.machine.skipRemediation);
    const unhealthy = targets.map((f) => judge(mhc, f, out)).filter((u): u is Unhealthy => u !== undefined);
    for (const f of selected.filter((s) => s.machine.skipRemediation && judge(mhc, s, emptyOutcome()))) {
      out.notes.push({
        rule: 'skip-remediation',
        message: `Machine ${f.machine.name} has no Ready Node but carries cluster.x-k8s.io/skip-remediation: ${mhc.name} leaves it alone`,
      });
    }
    if (unhealthy.length === 0) continue;
    const blocked = shortCircuit(mhc, targets.length, unhealthy.length);
    if (blocked) {
      out.findings.push({ kind: 'mhc-short-circuit', object: ref('MachineHealthCheck', mhc), why: blocked, rule: 'mhc-short-circuit' });
      for (const u of unhealthy) shortCircuited.set(u.facts, mhc.name);
      continue;
    }
    for (const u of unhealthy.filter((x) => !remediated.has(x.facts))) {
      remediated.add(u.facts);
      out.actions.push(...remediation(u, mhc));
    }
  }
  for (const f of view.machines.filter((m) => m.vm.state === 'stale' && !remediated.has(m))) {
    if (out.notes.some((n) => n.message.startsWith(`Machine ${f.machine.name} `))) continue;
    const blockedBy = shortCircuited.get(f);
    const why = blockedBy ? `${blockedBy} short-circuits` : 'no MachineHealthCheck remediates it';
    out.notes.push({ rule: 'stale-machine', message: `Machine ${f.machine.name}: its VM is gone and ${why}, so it stays without a Node` });
  }
  return out;
}

/** Why and when `mhc` finds the Machine unhealthy; undefined when it is (or may be) healthy. */
function judge(mhc: ForecastHealthCheck, f: MachineFacts, out: Outcome): Unhealthy | undefined {
  const timeout = mhc.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_TIMEOUT_SECONDS;
  if (f.node.state === 'unknown') {
    out.unknowns.push(`Machine ${f.machine.name}: whether ${mhc.name} finds it healthy is unknown (${f.node.reason})`);
    return undefined;
  }
  if (f.node.state === 'none') {
    if (timeout === 0) return undefined;
    const why =
      f.vm.state === 'stale'
        ? `its VSphereVM's BIOS UUID ${f.vm.biosUuid} names no VM (CAPV does not clone it again), so it never gets a Node`
        : f.vm.state === 'clone'
          ? undefined
          : `its VM ${f.vm.state === 'found' ? f.vm.vm.name : ''} has no Node in the workload cluster`;
    return why ? { facts: f, when: `after nodeStartupTimeout ${formatDuration(timeout)}`, why } : undefined;
  }
  if (f.node.state === 'not-ready') {
    const ready = mhc.unhealthyConditions?.filter((c) => c.type === 'Ready') ?? [];
    const condition = ready.find((c) => c.status === 'False') ?? ready.find((c) => c.status === 'Unknown');
    if (condition)
      return {
        facts: f,
        when: 'at unpause',
        why: `its Node ${f.node.node.name} is not Ready, and has not been since before the restore: longer than the ${formatDuration(condition.timeoutSeconds)} ${mhc.name} allows`,
      };
  }
  return undefined;
}

/** The message when too many targets are unhealthy for `mhc` to remediate any; undefined when it may. */
export function shortCircuit(mhc: ForecastHealthCheck, total: number, unhealthy: number): string | undefined {
  try {
    return limitExceeded(mhc, total, unhealthy);
  } catch (err) {
    // The controller refuses to remediate under a limit it cannot parse.
    return `${(err as Error).message}: the MachineHealthCheck remediates nothing`;
  }
}

function limitExceeded(mhc: ForecastHealthCheck, total: number, unhealthy: number): string | undefined {
  if (mhc.unhealthyRange !== undefined) {
    const { min, max } = unhealthyRange(mhc.unhealthyRange);
    if (unhealthy >= min && unhealthy <= max) return undefined;
    return `${unhealthy} of ${total} Machines unhealthy, outside unhealthyRange ${mhc.unhealthyRange}: nothing is remediated and the cluster stays degraded`;
  }
  const max = maxUnhealthyCount(mhc.maxUnhealthy, total);
  if (unhealthy <= max) return undefined;
  return `${unhealthy} of ${total} Machines unhealthy, more than maxUnhealthy ${String(mhc.maxUnhealthy)} (${max}): nothing is remediated and the cluster stays degraded`;
}

function remediation(u: Unhealthy, mhc: ForecastHealthCheck) {
  const rule = u.facts.vm.state === 'stale' ? ('stale-machine' as const) : ('mhc-remediation' as const);
  const owner = u.facts.owner;
  const machine = machineRef(u.facts.machine);
  if (!owner) return [];
  return [
    { kind: 'delete' as const, object: machine, when: u.when, why: `${mhc.name}: ${u.why}`, rule, related: owner },
    ...clones(owner, 1, u.when, `${refText(owner)} replaces ${u.facts.machine.name} after ${mhc.name} deleted it`, rule, machine),
  ];
}
