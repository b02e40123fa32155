// docs/unpause-forecast.md#verdicts, #powered-off-vm, #duplicate-bios-uuid, #already-running
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ActionKind, ForecastAction, ForecastFinding, RuleId, Verdict } from '../../src/forecast/model.js';
import { judge, summaryLine } from '../../src/forecast/verdict.js';
import { brief, healthyCluster, NOW, Scenario } from './scenario.js';

test('a healthy paused cluster: nothing predicted, SafeToUnpause', (t) => {
  const f = forecast(healthyCluster().input());
  t.is(f.clusters.length, 1);
  const c = f.clusters[0]!;
  t.deepEqual([c.actions, c.findings, c.unknowns, c.reasons], [[], [], [], []]);
  t.is(c.verdict, 'SafeToUnpause');
  t.is(c.summary, 'on unpause: nothing predicted');
  t.true(c.paused);
  t.is(f.generatedAt, NOW);
  t.regex(f.digest, /^[0-9a-f]{64}$/);
});

const action = (kind: ActionKind, rule: RuleId, when: ForecastAction['when'] = 'at unpause'): ForecastAction => ({
  kind,
  rule,
  when,
  why: 'w',
  object: { kind: 'Machine', namespace: 'default', name: 'm' },
});
const finding = (kind: ForecastFinding['kind']): ForecastFinding => ({
  kind,
  rule: kind === 'mhc-short-circuit' ? 'mhc-short-circuit' : 'ghost-vm',
  why: 'w',
  object: { kind: 'VirtualMachine', namespace: 'default', name: 'vm' },
});

const verdicts: Array<[string, ForecastAction[], ForecastFinding[], Verdict]> = [
  ['nothing', [], [], 'SafeToUnpause'],
  [
    'a Stale Machine replaced',
    [action('delete', 'stale-machine', 'after nodeStartupTimeout 20m'), action('clone', 'stale-machine', 'after nodeStartupTimeout 20m')],
    [],
    'ReviewBeforeUnpause',
  ],
  ['a scale to the recorded replicas', [action('clone', 'replica-delta')], [], 'ReviewBeforeUnpause'],
  ['a rollout', [action('rollout', 'rollout')], [], 'ReviewBeforeUnpause'],
  ['a short-circuited MHC', [], [finding('mhc-short-circuit')], 'ReviewBeforeUnpause'],
  ['a powered-off VM', [], [finding('powered-off-vm')], 'ReviewBeforeUnpause'],
  ['a duplicate BIOS UUID', [], [finding('duplicate-bios-uuid')], 'ReviewBeforeUnpause'],
  ['a Ghost VM', [], [finding('ghost-vm')], 'UnsafeToUnpause'],
  ['an etcd member removed', [action('etcd-member-removed', 'etcd-member-removal')], [], 'UnsafeToUnpause'],
  ['a certificate Secret missing', [action('new-certificates', 'certificates')], [], 'UnsafeToUnpause'],
  ['selectors overlap', [action('adopt', 'selector-overlap')], [], 'UnsafeToUnpause'],
  ['a healthy Machine deleted', [action('delete', 'healthy-machine-deleted')], [], 'UnsafeToUnpause'],
  ['a clone that fails', [action('clone', 'replica-delta'), action('clone-fails', 'clone-prerequisites')], [], 'UnsafeToUnpause'],
];

for (const [title, actions, findings, verdict] of verdicts) {
  test(`verdict: ${title} → ${verdict}`, (t) => {
    t.is(judge(actions, findings, [], []).verdict, verdict);
  });
}

test('verdict: something unknown is at best ReviewBeforeUnpause, and says how much', (t) => {
  const j = judge([], [], [], ['etcd membership unknown: timeout']);
  t.is(j.verdict, 'ReviewBeforeUnpause');
  t.deepEqual(j.reasons, [{ rule: 'unknown', message: '1 fact could not be judged' }]);
});

test('verdict: a Machine left without a Node (a note) is ReviewBeforeUnpause; being already running alone is not', (t) => {
  t.is(judge([], [], [{ rule: 'skip-remediation', message: 'm' }], []).verdict, 'ReviewBeforeUnpause');
  t.is(judge([], [], [{ rule: 'already-running', message: 'm' }], []).verdict, 'SafeToUnpause');
});

test('verdict: each Unsafe reason says what to fix, once', (t) => {
  const j = judge([action('new-certificates', 'certificates'), action('new-certificates', 'certificates')], [], [], []);
  t.deepEqual(j.reasons, [{ rule: 'certificates', message: 'new-certificates m: restore the missing certificate Secret from the backup' }]);
});

test('summary line: the contract example', (t) => {
  const after = 'after nodeStartupTimeout 20m' as const;
  const actions = [
    action('clone', 'stale-machine', after),
    action('clone', 'stale-machine', after),
    action('delete', 'stale-machine', after),
    action('delete', 'stale-machine', after),
    action('etcd-member-removed', 'etcd-member-removal'),
  ];
  t.is(summaryLine(actions, [], true), 'on unpause: +2 VMs cloned after 20m, \u22122 Machines deleted after 20m, 1 etcd member removed');
});

test('a powered-off VM: a finding, and its NotReady Node is remediated at unpause', (t) => {
  const s = new Scenario()
    .cluster('wc1')
    .deployment('wc1', 'md-0', 2)
    .machine('wc1', 'wc1-cp-a', { controlPlane: true })
    .machine('wc1', 'wc1-md-0-a')
    .machine('wc1', 'wc1-md-0-b', { vm: 'powered-off' });
  const c = forecast(s.input()).clusters[0]!;
  t.deepEqual(
    c.findings.map((f) => [f.kind, f.object.name, f.object.vcenter]),
    [['powered-off-vm', 'wc1-md-0-b', 'vc01.example.com']],
  );
  t.true(brief(c.actions).includes('delete Machine/wc1-md-0-b (at unpause) #mhc-remediation'));
  t.is(c.verdict, 'ReviewBeforeUnpause');
});

test('two VMs with one Machine\u2019s BIOS UUID: a duplicate-bios-uuid finding naming both', (t) => {
  const s = healthyCluster();
  const original = s.vms.find((v) => v.name === 'wc1-md-0-a')!;
  s.vms.push({ ...original, moref: 'vm-copy', name: 'wc1-md-0-a-copy', instanceUuid: 'another' });
  const c = forecast(s.input()).clusters[0]!;
  const dup = c.findings.filter((f) => f.kind === 'duplicate-bios-uuid');
  t.is(dup.length, 1);
  t.is(dup[0]!.object.name, 'wc1-md-0-a, wc1-md-0-a-copy');
  t.regex(dup[0]!.why, new RegExp(original.biosUuid!));
});

test('an unpaused cluster is reported as already running', (t) => {
  const c = forecast(healthyCluster().unpaused('wc1').input()).clusters[0]!;
  t.false(c.paused);
  t.is(c.summary, 'already running: nothing predicted');
  t.deepEqual(
    c.reasons.map((r) => r.rule),
    ['already-running'],
  );
  t.is(c.verdict, 'SafeToUnpause');
});

test('the paused annotation counts as paused', (t) => {
  const s = healthyCluster().unpaused('wc1');
  s.live.clusters[0]!.metadata.annotations = { 'cluster.x-k8s.io/paused': '' };
  t.true(forecast(s.input()).clusters[0]!.paused);
});

test('only the named clusters are forecast; a name that does not exist is an error', (t) => {
  const s = healthyCluster().cluster('wc2').machine('wc2', 'wc2-cp-a', { controlPlane: true });
  const f = forecast({ ...s.input(), only: ['default/wc2', 'default/nope'] });
  t.deepEqual(
    f.clusters.map((c) => c.name),
    ['wc2'],
  );
  t.deepEqual(f.errors, [{ scope: 'cluster:default/nope', message: 'no such Cluster in the management cluster' }]);
});

test('a vCenter that could not be listed: an error, and every Machine on it unknown', (t) => {
  const input = healthyCluster().input();
  input.vsphere.listings = [{ ok: false, vcenter: 'vc01.example.com', reason: 'connect ETIMEDOUT' }];
  const f = forecast(input);
  t.deepEqual(f.errors, [{ scope: 'vcenter:vc01.example.com', message: 'connect ETIMEDOUT' }]);
  t.is(f.clusters[0]!.verdict, 'ReviewBeforeUnpause');
  t.true(f.clusters[0]!.unknowns.some((u) => u.includes('vCenter vc01.example.com not listed: connect ETIMEDOUT')));
});
