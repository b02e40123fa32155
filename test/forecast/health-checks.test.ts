// docs/unpause-forecast.md#stale-machine, #mhc-remediation, #skip-remediation, #mhc-short-circuit
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ClusterForecast, Verdict } from '../../src/forecast/model.js';
import { brief, Scenario, type ClusterOptions, type MachineOptions } from './scenario.js';

/** wc1 with one control-plane Machine and three workers of md-0, shaped by `workers`. */
function workers(workerCases: MachineOptions[], o: ClusterOptions = {}, edit?: (s: Scenario) => void): ClusterForecast {
  const s = new Scenario().cluster('wc1', o).deployment('wc1', 'md-0', workerCases.length).machine('wc1', 'wc1-cp-a', { controlPlane: true });
  workerCases.forEach((w, i) => s.machine('wc1', `wc1-md-0-${'abcdef'[i]}`, w));
  edit?.(s);
  return forecast(s.input()).clusters[0]!;
}

const cases: Array<{ title: string; run: () => ClusterForecast; actions: string[]; verdict: Verdict; rules?: string[] }> = [
  {
    title: 'Stale worker (VM gone): deleted after nodeStartupTimeout 20m, its MachineSet clones a replacement',
    run: () => workers([{ vm: 'gone' }, {}, {}]),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'nodeStartupTimeout of the MachineHealthCheck is the delay (10m)',
    run: () => workers([{ vm: 'gone' }, {}], { nodeStartupTimeout: '10m0s' }),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 10m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 10m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'no nodeStartupTimeout: CAPI default 10m',
    run: () => workers([{ vm: 'gone' }], {}, (s) => s.set('MachineHealthCheck', 'wc1-md-0', ['nodeStartupTimeout'], undefined)),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 10m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 10m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'nodeStartupTimeout 0 disables it: the Stale Machine stays without a Node',
    run: () => workers([{ vm: 'gone' }], { nodeStartupTimeout: '0s' }),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
    rules: ['stale-machine'],
  },
  {
    title: 'a running VM whose Node is missing: remediated after nodeStartupTimeout',
    run: () => workers([{ node: 'none' }, {}]),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #mhc-remediation',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #mhc-remediation',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'a Node NotReady since before the restore: remediated at unpause',
    run: () => workers([{ node: 'not-ready' }, {}]),
    actions: ['clone MachineSet/wc1-md-0-7d9f (at unpause) #mhc-remediation', 'delete Machine/wc1-md-0-a (at unpause) #mhc-remediation'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'skip-remediation: the Stale Machine is left alone',
    run: () => workers([{ vm: 'gone', skipRemediation: true }, {}]),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
    rules: ['skip-remediation'],
  },
  {
    title: 'maxUnhealthy as a count: 2 unhealthy of 3 > 1, short-circuit, nothing deleted',
    run: () => workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { maxUnhealthy: 1 }),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'maxUnhealthy 40% of 3 rounds down to 1: 2 unhealthy short-circuit',
    run: () => workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { maxUnhealthy: '40%' }),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'maxUnhealthy 40% of 3 allows 1 unhealthy',
    run: () => workers([{ vm: 'gone' }, {}, {}], { maxUnhealthy: '40%' }),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'unhealthyRange [1-1]: 2 unhealthy are out of range, short-circuit',
    run: () => workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { unhealthyRange: '[1-1]' }),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'unhealthyRange [1-3]: 2 unhealthy are remediated',
    run: () => workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { unhealthyRange: '[1-3]' }),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #stale-machine',
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #stale-machine',
      'delete Machine/wc1-md-0-b (after nodeStartupTimeout 20m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'skip-remediation Machines are not targets: 1 of 2 targets unhealthy is within maxUnhealthy 1',
    run: () => workers([{ vm: 'gone' }, { vm: 'gone', skipRemediation: true }, {}], { maxUnhealthy: 1 }),
    actions: [
      'clone MachineSet/wc1-md-0-7d9f (after nodeStartupTimeout 20m) #stale-machine',
      'delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #stale-machine',
    ],
    verdict: 'ReviewBeforeUnpause',
    rules: ['skip-remediation'],
  },
  {
    title: 'a maxUnhealthy the controller cannot parse: nothing is remediated',
    run: () => workers([{ vm: 'gone' }], { maxUnhealthy: 'many' }),
    actions: [],
    verdict: 'ReviewBeforeUnpause',
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    const f = c.run();
    t.deepEqual(brief(f.actions), c.actions);
    t.is(f.verdict, c.verdict);
    for (const rule of c.rules ?? [])
      t.true(
        f.reasons.some((r) => r.rule === rule),
        `a reason with rule ${rule}`,
      );
  });
}

test('a short-circuit is a finding that names the MachineHealthCheck and the limit', (t) => {
  const f = workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { maxUnhealthy: '40%' });
  t.is(f.findings.length, 1);
  t.like(f.findings[0], { kind: 'mhc-short-circuit', object: { kind: 'MachineHealthCheck', name: 'wc1-md-0' }, rule: 'mhc-short-circuit' });
  t.regex(f.findings[0]!.why, /2 of 3 Machines unhealthy, more than maxUnhealthy 40% \(1\)/);
  t.is(f.summary, 'on unpause: 1 MachineHealthCheck short-circuited');
});

test('the summary line counts clones and deletes with their delay', (t) => {
  const f = workers([{ vm: 'gone' }, { vm: 'gone' }, {}]);
  t.is(f.summary, 'on unpause: +2 VMs cloned after 20m, \u22122 Machines deleted after 20m');
});

test('Nodes of an unreachable workload cluster are unknown: no deletion predicted for a running VM, Review', (t) => {
  const f = workers([{}, {}], {}, (s) => s.unreachable('wc1', 'connect ECONNREFUSED'));
  t.deepEqual(f.actions, []);
  t.is(f.verdict, 'ReviewBeforeUnpause');
  t.true(f.unknowns.some((u) => u.includes('wc1-md-0-a') && u.includes('ECONNREFUSED')));
  t.true(f.unknowns.some((u) => u.startsWith('etcd membership unknown')));
});

test('a Stale Machine is still predicted when the workload cluster is unreachable: it cannot have a Node', (t) => {
  const f = workers([{ vm: 'gone' }, {}], {}, (s) => s.unreachable('wc1', 'timeout'));
  t.true(brief(f.actions).includes('delete Machine/wc1-md-0-a (after nodeStartupTimeout 20m) #stale-machine'));
});

test('a control-plane Stale Machine: deleted and replaced by the KubeadmControlPlane', (t) => {
  const s = new Scenario().cluster('wc1', { controlPlaneReplicas: 3 });
  for (const [name, vm] of [
    ['wc1-cp-a', 'running'],
    ['wc1-cp-b', 'running'],
    ['wc1-cp-c', 'gone'],
  ] as const)
    s.machine('wc1', name, { controlPlane: true, vm });
  const f = forecast(s.input()).clusters[0]!;
  t.deepEqual(brief(f.actions), [
    'clone KubeadmControlPlane/wc1-cp (after nodeStartupTimeout 20m) #stale-machine',
    'delete Machine/wc1-cp-c (after nodeStartupTimeout 20m) #stale-machine',
  ]);
  t.like(f.actions[0], { related: { kind: 'Machine', name: 'wc1-cp-c' } });
});

test('a Stale Machine behind a short-circuited MachineHealthCheck stays without a Node, and the reason says why', (t) => {
  const f = workers([{ vm: 'gone' }, { vm: 'gone' }, {}], { maxUnhealthy: 1 });
  t.true(
    f.reasons.some(
      (r) =>
        r.rule === 'stale-machine' &&
        r.message === 'Machine wc1-md-0-a: its VM is gone and wc1-md-0 short-circuits, so it stays without a Node',
    ),
  );
});
