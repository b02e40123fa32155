// docs/unpause-forecast.md#replica-delta, #healthy-machine-deleted, #rollout, #selector-overlap, #vspherevm-clone
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ClusterForecast, Verdict } from '../../src/forecast/model.js';
import { brief, healthyCluster, Scenario, VERSION } from './scenario.js';

const only = (s: Scenario): ClusterForecast => forecast(s.input()).clusters[0]!;

const cases: Array<{ title: string; scenario: () => Scenario; actions: string[]; verdict: Verdict }> = [
  {
    title: 'MachineDeployment replicas above its Machines: one clone per missing Machine at unpause',
    scenario: () => healthyCluster().set('MachineDeployment', 'wc1-md-0', ['replicas'], 4),
    actions: ['clone MachineDeployment/wc1-md-0 (at unpause) #replica-delta', 'clone MachineDeployment/wc1-md-0 (at unpause) #replica-delta'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'MachineDeployment replicas below its healthy Machines: a healthy Machine is deleted, Unsafe',
    scenario: () => healthyCluster().set('MachineDeployment', 'wc1-md-0', ['replicas'], 1),
    actions: ['delete MachineDeployment/wc1-md-0 (at unpause) #healthy-machine-deleted'],
    verdict: 'UnsafeToUnpause',
  },
  {
    title: 'scale-down takes the Machine without a Node first; MHC then has nothing left to delete',
    scenario: () =>
      new Scenario()
        .cluster('wc1')
        .deployment('wc1', 'md-0', 1)
        .machine('wc1', 'wc1-cp-a', { controlPlane: true })
        .machine('wc1', 'wc1-md-0-a')
        .machine('wc1', 'wc1-md-0-b', { vm: 'gone' }),
    actions: ['delete Machine/wc1-md-0-b (at unpause) #replica-delta'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'KubeadmControlPlane replicas 3 with 1 Machine: two clones',
    scenario: () => healthyCluster().set('KubeadmControlPlane', 'wc1-cp', ['replicas'], 3),
    actions: ['clone KubeadmControlPlane/wc1-cp (at unpause) #replica-delta', 'clone KubeadmControlPlane/wc1-cp (at unpause) #replica-delta'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'KubeadmControlPlane replicas 1 with 2 healthy Machines: Unsafe',
    scenario: () => healthyCluster().machine('wc1', 'wc1-cp-b', { controlPlane: true }),
    actions: ['delete KubeadmControlPlane/wc1-cp (at unpause) #healthy-machine-deleted'],
    verdict: 'UnsafeToUnpause',
  },
  {
    title: 'a MachineSet without a MachineDeployment scales to its own replicas',
    scenario: () => {
      const s = healthyCluster();
      s.live.machineDeployments.length = 0;
      return s.set('MachineSet', 'wc1-md-0-7d9f', ['replicas'], 3);
    },
    actions: ['clone MachineSet/wc1-md-0-7d9f (at unpause) #replica-delta'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'a VSphereVM with no BIOS UUID and no VM at its path is cloned anew',
    scenario: () =>
      new Scenario()
        .cluster('wc1')
        .deployment('wc1', 'md-0', 1)
        .machine('wc1', 'wc1-cp-a', { controlPlane: true })
        .machine('wc1', 'wc1-md-0-a', { vm: 'not-cloned' }),
    actions: ['clone VSphereVM/wc1-md-0-a (at unpause) #vspherevm-clone'],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'a control-plane Machine of another version: rolled out (clone, delete)',
    scenario: () => new Scenario().cluster('wc1').machine('wc1', 'wc1-cp-a', { controlPlane: true, version: 'v1.27.5+vmware.1' }),
    actions: [
      'clone KubeadmControlPlane/wc1-cp (at unpause) #rollout',
      'delete Machine/wc1-cp-a (at unpause) #rollout',
      'rollout KubeadmControlPlane/wc1-cp (at unpause) #rollout',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'a MachineDeployment whose template no MachineSet carries: new MachineSet, old Machines deleted',
    scenario: () =>
      new Scenario()
        .cluster('wc1')
        .deployment('wc1', 'md-0', 2, { template: 'wc1-md-0-worker-v2' })
        .machine('wc1', 'wc1-cp-a', { controlPlane: true })
        .machine('wc1', 'wc1-md-0-a')
        .machine('wc1', 'wc1-md-0-b'),
    actions: [
      'clone MachineDeployment/wc1-md-0 (at unpause) #rollout',
      'clone MachineDeployment/wc1-md-0 (at unpause) #rollout',
      'delete Machine/wc1-md-0-a (at unpause) #rollout',
      'delete Machine/wc1-md-0-b (at unpause) #rollout',
      'rollout MachineDeployment/wc1-md-0 (at unpause) #rollout',
    ],
    verdict: 'ReviewBeforeUnpause',
  },
  {
    title: 'a paused MachineDeployment neither scales nor rolls out',
    scenario: () =>
      healthyCluster().set('MachineDeployment', 'wc1-md-0', ['replicas'], 5).set('MachineDeployment', 'wc1-md-0', ['paused'], true),
    actions: [],
    verdict: 'SafeToUnpause',
  },
  {
    title: 'two MachineDeployments whose selectors match each other\u2019s MachineSets: adopt, Unsafe',
    scenario: () =>
      new Scenario()
        .cluster('wc1')
        .deployment('wc1', 'md-0', 1, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc1' } })
        .deployment('wc1', 'md-1', 1, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc1' } })
        .machine('wc1', 'wc1-cp-a', { controlPlane: true })
        .machine('wc1', 'wc1-md-0-a')
        .machine('wc1', 'wc1-md-1-a', { deployment: 'md-1' }),
    actions: ['adopt MachineSet/wc1-md-0-7d9f (at unpause) #selector-overlap', 'adopt MachineSet/wc1-md-1-7d9f (at unpause) #selector-overlap'],
    verdict: 'UnsafeToUnpause',
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    const f = only(c.scenario());
    t.deepEqual(brief(f.actions), c.actions);
    t.is(f.verdict, c.verdict);
  });
}

test('the adopt action names both MachineDeployments', (t) => {
  const f = only(
    new Scenario()
      .cluster('wc1')
      .deployment('wc1', 'md-0', 1, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc1' } })
      .deployment('wc1', 'md-1', 1, { selector: { 'cluster.x-k8s.io/cluster-name': 'wc1' } })
      .machine('wc1', 'wc1-md-0-a')
      .machine('wc1', 'wc1-md-1-a', { deployment: 'md-1' }),
  );
  t.regex(f.actions.find((a) => a.kind === 'adopt')!.why, /MachineDeployments wc1-md-0, wc1-md-1/);
  t.true(f.reasons.some((r) => r.rule === 'selector-overlap' && /selectors unique/.test(r.message)));
});

test('the rollout says what differs', (t) => {
  const f = only(new Scenario().cluster('wc1').machine('wc1', 'wc1-cp-a', { controlPlane: true, version: 'v1.27.5+vmware.1' }));
  t.regex(
    f.actions.find((a) => a.kind === 'rollout')!.why,
    new RegExp(`version v1\\.27\\.5\\+vmware\\.1 → ${VERSION.replace(/[.+]/g, '\\$&')}`),
  );
});
