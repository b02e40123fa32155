/**
 * The verdict per cluster and its summary line (docs/unpause-forecast.md#verdicts). Pure.
 * Unsafe: a Ghost VM still there, an etcd member removed, a certificate Secret missing, selectors
 * that overlap, a healthy Machine deleted, a clone that fails. Review: only the designed recovery,
 * a Machine left without a Node, or what could not be judged. Safe: nothing predicted.
 */
import type { ActionKind, ForecastAction, ForecastFinding, Verdict } from './model.js';
import type { Note } from './outcome.js';
import { plural } from './outcome.js';

const UNSAFE_ACTIONS: Partial<Record<ActionKind, string>> = {
  'etcd-member-removed': 'remove the Ghost control-plane member first (etcdctl member remove, delete its Node and VM)',
  'new-certificates': 'restore the missing certificate Secret from the backup',
  adopt: 'make the MachineDeployment selectors unique',
  'clone-fails': 'restore the template VM, datastore, network, pool or folder, or point the template at existing ones',
};

export interface Judgement {
  verdict: Verdict;
  reasons: Note[];
}

export function judge(actions: ForecastAction[], findings: ForecastFinding[], notes: Note[], unknowns: string[]): Judgement {
  const unsafe: Note[] = [];
  for (const a of actions) {
    const fix =
      UNSAFE_ACTIONS[a.kind] ??
      (a.rule === 'healthy-machine-deleted'
        ? 'set the owner\u2019s replicas to its Machines, or remove the surplus Machines by hand'
        : undefined);
    if (fix) unsafe.push({ rule: a.rule, message: `${a.kind} ${a.object.name}: ${fix}` });
  }
  for (const f of findings.filter((x) => x.kind === 'ghost-vm')) {
    unsafe.push({ rule: 'ghost-vm', message: `Ghost ${f.object.name}: remove it before unpausing (see drift-detector remediate)` });
  }
  const reasons = [...dedupe(unsafe), ...notes];
  if (unsafe.length > 0) return { verdict: 'UnsafeToUnpause', reasons };
  const standing = notes.some((n) => n.rule !== 'already-running');
  if (actions.length > 0 || findings.length > 0 || unknowns.length > 0 || standing) {
    if (unknowns.length > 0) reasons.push({ rule: 'unknown', message: `${plural(unknowns.length, 'fact')} could not be judged` });
    return { verdict: 'ReviewBeforeUnpause', reasons };
  }
  return { verdict: 'SafeToUnpause', reasons };
}

function dedupe(notes: Note[]): Note[] {
  const seen = new Set<string>();
  return notes.filter((n) => !seen.has(n.message) && seen.add(n.message));
}

/** `on unpause: +2 VMs cloned, −2 Machines deleted after 20m, 1 etcd member removed`. */
export function summaryLine(actions: ForecastAction[], findings: ForecastFinding[], paused: boolean): string {
  const parts: string[] = [];
  const groups = new Map<string, number>();
  const atUnpauseFirst = [...actions].sort((a, b) => Number(a.when !== 'at unpause') - Number(b.when !== 'at unpause'));
  for (const a of atUnpauseFirst) groups.set(`${a.kind}\u0000${a.when}`, (groups.get(`${a.kind}\u0000${a.when}`) ?? 0) + 1);
  for (const kind of ACTION_ORDER) {
    for (const [key, n] of groups) {
      const [k, when] = key.split('\u0000') as [ActionKind, string];
      if (k === kind) parts.push(`${PHRASES[kind](n)}${when === 'at unpause' ? '' : ` ${when.replace('nodeStartupTimeout ', '')}`}`);
    }
  }
  const found = FINDING_ORDER.map((kind) => [kind, findings.filter((f) => f.kind === kind).length] as const).filter(([, n]) => n > 0);
  for (const [kind, n] of found) parts.push(FINDING_PHRASES[kind](n));
  const head = paused ? 'on unpause' : 'already running';
  return `${head}: ${parts.length > 0 ? parts.join(', ') : 'nothing predicted'}`;
}

export const ACTION_ORDER: ActionKind[] = ['clone', 'delete', 'etcd-member-removed', 'adopt', 'rollout', 'new-certificates', 'clone-fails'];

const PHRASES: Record<ActionKind, (n: number) => string> = {
  clone: (n) => `+${plural(n, 'VM')} cloned`,
  delete: (n) => `\u2212${plural(n, 'Machine')} deleted`,
  'etcd-member-removed': (n) => `${plural(n, 'etcd member')} removed`,
  adopt: (n) => `${plural(n, 'MachineSet')} adopted`,
  rollout: (n) => `${plural(n, 'rollout')}`,
  'new-certificates': (n) => `${plural(n, 'certificate')} regenerated`,
  'clone-fails': (n) => `${plural(n, 'clone source')} failing`,
};

const FINDING_ORDER = ['ghost-vm', 'powered-off-vm', 'duplicate-bios-uuid', 'mhc-short-circuit'] as const;

const FINDING_PHRASES: Record<ForecastFinding['kind'], (n: number) => string> = {
  'ghost-vm': (n) => `${plural(n, 'Ghost')} still present`,
  'powered-off-vm': (n) => `${plural(n, 'VM')} powered off`,
  'duplicate-bios-uuid': (n) => `${plural(n, 'duplicate BIOS UUID')}`,
  'mhc-short-circuit': (n) => `${plural(n, 'MachineHealthCheck')} short-circuited`,
};
