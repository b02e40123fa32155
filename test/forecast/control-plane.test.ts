// docs/unpause-forecast.md#etcd-member-removal, #certificates, #ghost-vm
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ClusterForecast } from '../../src/forecast/model.js';
import { brief, healthyCluster, Scenario } from './scenario.js';

const only = (s: Scenario): ClusterForecast => forecast(s.input()).clusters[0]!;

test('a Ghost control-plane VM: its etcd member is removed at unpause, the VM is a Ghost finding, Unsafe', (t) => {
  const f = only(healthyCluster().ghost('wc1', 'wc1-cp-ghost', { controlPlane: true }));
  t.deepEqual(brief(f.actions), ['etcd-member-removed EtcdMember/wc1-cp-ghost (at unpause) #etcd-member-removal']);
  t.regex(f.actions[0]!.why, /the VM keeps running, unmanaged/);
  t.deepEqual(
    f.findings.map((x) => [x.kind, x.object.kind, x.object.name]),
    [['ghost-vm', 'VirtualMachine', 'wc1-cp-ghost']],
  );
  t.is(f.verdict, 'UnsafeToUnpause');
  t.deepEqual(
    f.reasons.map((r) => r.rule),
    ['etcd-member-removal', 'ghost-vm'],
  );
  t.is(f.summary, 'on unpause: 1 etcd member removed, 1 Ghost still present');
});

test('etcd members are removed only once every control-plane Machine has a Node: after the Stale one is replaced', (t) => {
  const f = only(
    new Scenario()
      .cluster('wc1', { controlPlaneReplicas: 2 })
      .machine('wc1', 'wc1-cp-a', { controlPlane: true })
      .machine('wc1', 'wc1-cp-b', { controlPlane: true, vm: 'gone' })
      .ghost('wc1', 'wc1-cp-ghost', { controlPlane: true }),
  );
  t.true(brief(f.actions).includes('etcd-member-removed EtcdMember/wc1-cp-ghost (after nodeStartupTimeout 20m) #etcd-member-removal'));
});

test('an etcd member without a Node (only its Pod is seen) is removed too', (t) => {
  const s = healthyCluster();
  s.workloads.get('default/wc1')!.etcdMembers.push('wc1-cp-old');
  const f = only(s);
  t.deepEqual(brief(f.actions), ['etcd-member-removed EtcdMember/wc1-cp-old (at unpause) #etcd-member-removal']);
  t.notRegex(f.actions[0]!.why, /VM keeps running/);
});

test('etcd membership of an unreachable workload cluster is unknown, not predicted', (t) => {
  const f = only(
    healthyCluster().ghost('wc1', 'wc1-cp-ghost', { controlPlane: true }).unreachable('wc1', 'x509: certificate signed by unknown authority'),
  );
  t.false(f.actions.some((a) => a.kind === 'etcd-member-removed'));
  t.true(f.unknowns.includes('etcd membership unknown: x509: certificate signed by unknown authority'));
  // The Ghost VM is still found by name and place.
  t.true(f.findings.some((x) => x.kind === 'ghost-vm' && x.object.name === 'wc1-cp-ghost'));
  t.is(f.verdict, 'UnsafeToUnpause');
});

test('a Ghost worker VM with its Node: a finding, Unsafe, nothing else', (t) => {
  const f = only(healthyCluster().ghost('wc1', 'wc1-md-0-ghost'));
  t.deepEqual(f.actions, []);
  t.is(f.findings.length, 1);
  t.like(f.findings[0], {
    kind: 'ghost-vm',
    rule: 'ghost-vm',
    object: { kind: 'VirtualMachine', name: 'wc1-md-0-ghost', vcenter: 'vc01.example.com' },
  });
  t.regex(f.findings[0]!.why, /no live Machine/);
  t.is(f.verdict, 'UnsafeToUnpause');
});

for (const suffix of ['ca', 'etcd', 'sa', 'proxy']) {
  test(`missing Secret wc1-${suffix}: new certificates at unpause, Unsafe`, (t) => {
    const f = only(healthyCluster().withoutSecret('wc1', `wc1-${suffix}`));
    t.deepEqual(brief(f.actions), [`new-certificates Secret/wc1-${suffix} (at unpause) #certificates`]);
    t.is(f.verdict, 'UnsafeToUnpause');
    t.true(f.reasons.some((r) => r.rule === 'certificates' && r.message.includes(`wc1-${suffix}`)));
  });
}

test('the kubeconfig Secret is not a certificate: its absence predicts nothing', (t) => {
  t.is(only(healthyCluster().withoutSecret('wc1', 'wc1-kubeconfig')).verdict, 'SafeToUnpause');
});

test('a Secret of the same name in another namespace does not count', (t) => {
  const s = healthyCluster().withoutSecret('wc1', 'wc1-ca');
  s.live.secrets.push({ metadata: { namespace: 'other', name: 'wc1-ca' } });
  t.deepEqual(brief(only(s).actions), ['new-certificates Secret/wc1-ca (at unpause) #certificates']);
});
