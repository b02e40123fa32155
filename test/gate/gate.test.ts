import test from 'ava';
import {
  CHECK_ERROR_ANNOTATION,
  decide,
  decideOnCheckFailure,
  GHOST_MACHINES_ANNOTATION,
  OVERRIDE_REASON_ANNOTATION,
  parseClusterList,
  parseOverride,
  restoreOverride,
  STALE_MACHINES_ANNOTATION,
  STATUS_ANNOTATION,
  UNKNOWN_MACHINES_ANNOTATION,
  VERDICT_ANNOTATION,
  verdictForStatus,
  type GateConfig,
  type GateStatus,
} from '../../src/gate/index.js';
import { judgedClusters, leftOutOnPurpose, managementLabelWarnings } from '../../src/gate/judged-clusters.js';
import { denialMessage } from '../../src/gate/admission.js';
import type { ClusterReport, MachineReport, RollupStatus } from '../../src/model/report.js';
import { cluster as clusterOf, machine, report as reportOf } from '../helpers/reports.js';

const report = (...clusters: ClusterReport[]) => reportOf('s3://velero/backups/b1/b1.tar.gz', ...clusters);
const cluster = (name: string, cp: MachineReport[], workers: MachineReport[] = []) => clusterOf('default', name, cp, workers);

const healthy = cluster('healthy', [machine('healthy-cp-1', 'Healthy')], [machine('healthy-md-1', 'Healthy')]);
const stale = cluster('stale', [machine('stale-cp-1', 'Healthy')], [machine('stale-md-1', 'Stale'), machine('stale-md-2', 'Stale')]);
const ghost = cluster(
  'ghost',
  [machine('ghost-cp-1', 'Healthy'), machine('ghost-cp-x', 'Ghost')],
  [machine('ghost-md-y', 'Ghost'), machine('ghost-md-2', 'Stale')],
);
const unknown = cluster('unknown', [machine('unknown-cp-1', 'Unknown')], [machine('unknown-md-1', 'Healthy')]);
const all = report(healthy, stale, ghost, unknown);

const block: GateConfig = { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false };
const blockIgnore: GateConfig = { ...block, failurePolicy: 'Ignore' };
const annotate: GateConfig = { mode: 'annotate', failurePolicy: 'Fail', pauseOnDrift: false };
const annotatePause: GateConfig = { ...annotate, pauseOnDrift: true };
const OVERRIDE = 'driftdetector.dev/override';
const SCOPE = 'driftdetector.dev/override-clusters';

// docs/restore-gate.md §2, verdict per cluster.
const verdicts: Array<[RollupStatus, 'Fail' | 'Ignore', 'ALLOW' | 'BLOCK']> = [
  ['Healthy', 'Fail', 'ALLOW'],
  ['Healthy', 'Ignore', 'ALLOW'],
  ['ManualRemediationNotRequired', 'Fail', 'ALLOW'],
  ['ManualRemediationNotRequired', 'Ignore', 'ALLOW'],
  ['ManualRemediationRequired', 'Fail', 'BLOCK'],
  ['ManualRemediationRequired', 'Ignore', 'BLOCK'],
  ['NeedFurtherConfirmation', 'Fail', 'BLOCK'],
  ['NeedFurtherConfirmation', 'Ignore', 'ALLOW'],
];
for (const [status, failurePolicy, expected] of verdicts) {
  test(`verdict: ${status} with failurePolicy ${failurePolicy} is ${expected}`, (t) => {
    t.is(verdictForStatus(status, { failurePolicy }), expected);
  });
}

// docs/restore-gate.md §5, override.
const overrides: Array<[string, Record<string, unknown> | undefined, ReturnType<typeof parseOverride>]> = [
  ['no annotations', undefined, undefined],
  ['no override annotation', { other: 'x' }, undefined],
  ['empty reason', { [OVERRIDE]: '' }, undefined],
  ['whitespace reason', { [OVERRIDE]: '  \t\n ' }, undefined],
  ['non-string reason', { [OVERRIDE]: true }, undefined],
  ['reason, all clusters', { [OVERRIDE]: ' ghosts removed by hand ' }, { reason: 'ghosts removed by hand' }],
  [
    'a blank scope covers no cluster (never every cluster), and says why',
    { [OVERRIDE]: 'r', [SCOPE]: '   ' },
    { reason: 'r', clusters: [], scopeProblem: 'driftdetector.dev/override-clusters is blank, so the override covers no cluster' },
  ],
  [
    'a scope of commas only is blank',
    { [OVERRIDE]: 'r', [SCOPE]: ' , ,' },
    { reason: 'r', clusters: [], scopeProblem: 'driftdetector.dev/override-clusters is blank, so the override covers no cluster' },
  ],
  [
    'a scope that is not a string covers no cluster',
    { [OVERRIDE]: 'r', [SCOPE]: 42 },
    { reason: 'r', clusters: [], scopeProblem: 'driftdetector.dev/override-clusters is blank, so the override covers no cluster' },
  ],
  [
    'scoped',
    { [OVERRIDE]: 'r', [SCOPE]: 'default/ghost, tkg/wc2 ,' },
    {
      reason: 'r',
      clusters: [
        { namespace: 'default', name: 'ghost' },
        { namespace: 'tkg', name: 'wc2' },
      ],
    },
  ],
  [
    'a scope with a malformed entry covers no cluster, not even its valid entries',
    { [OVERRIDE]: 'r', [SCOPE]: 'ghost,a/b/c,/x,Default/UPPER,default/ok' },
    {
      reason: 'r',
      clusters: [],
      scopeProblem:
        'driftdetector.dev/override-clusters is malformed (entries not of the form namespace/name: "ghost", "a/b/c", "/x", "Default/UPPER"), so the override covers no cluster',
    },
  ],
  ['scope without a reason is nothing', { [SCOPE]: 'default/ghost' }, undefined],
];
for (const [title, annotations, expected] of overrides) {
  test(`parseOverride: ${title}`, (t) => {
    t.deepEqual(parseOverride(annotations), expected);
  });
}

const merges: Array<[string, Record<string, string>, Record<string, string>, Record<string, string>]> = [
  ['the label alone (velero restore create --labels)', { [OVERRIDE]: 'OPS-1234' }, {}, { [OVERRIDE]: 'OPS-1234' }],
  [
    'the label, scoped by the annotation',
    { [OVERRIDE]: 'OPS-1234' },
    { [SCOPE]: 'default/ghost' },
    { [OVERRIDE]: 'OPS-1234', [SCOPE]: 'default/ghost' },
  ],
  ["the annotation's free text wins over the label", { [OVERRIDE]: 'OPS-1' }, { [OVERRIDE]: 'VMs adopted' }, { [OVERRIDE]: 'VMs adopted' }],
  ['a blank annotation leaves the label', { [OVERRIDE]: 'OPS-1' }, { [OVERRIDE]: '  ' }, { [OVERRIDE]: 'OPS-1' }],
  ['an empty label is no override', { [OVERRIDE]: '' }, {}, {}],
  ['a label value Kubernetes would refuse is no override', { [OVERRIDE]: 'two words' }, {}, {}],
  ['a label of 64 characters is no override', { [OVERRIDE]: 'x'.repeat(64) }, {}, {}],
  ['a label of 63 characters with -_. is one', { [OVERRIDE]: `a-b_c.${'x'.repeat(57)}` }, {}, { [OVERRIDE]: `a-b_c.${'x'.repeat(57)}` }],
  ['other labels and annotations are not read', { team: 'x' }, { 'velero.io/x': 'y' }, {}],
];
for (const [title, labels, annotations, expected] of merges) {
  test(`restoreOverride: ${title}`, (t) => {
    t.deepEqual(restoreOverride(labels, annotations), expected);
  });
}

test('parseOverride caps a huge reason', (t) => {
  t.is(parseOverride({ [OVERRIDE]: 'x'.repeat(5000) })!.reason.length, 1024);
});

test('parseClusterList keeps order and skips empty entries', (t) => {
  t.deepEqual(parseClusterList(',a/b,,c/d,'), {
    clusters: [
      { namespace: 'a', name: 'b' },
      { namespace: 'c', name: 'd' },
    ],
    invalid: [],
  });
});

interface DecideCase {
  title: string;
  cluster: string;
  config: GateConfig;
  annotations?: Record<string, string>;
  verdict: 'ALLOW' | 'BLOCK';
  action: 'restore' | 'pause' | 'fail';
  overridden?: boolean;
  status: GateStatus;
}

const cases: DecideCase[] = [
  // Mode block.
  { title: 'healthy is restored', cluster: 'healthy', config: block, verdict: 'ALLOW', action: 'restore', status: 'Healthy' },
  {
    title: 'stale only is restored',
    cluster: 'stale',
    config: block,
    verdict: 'ALLOW',
    action: 'restore',
    status: 'ManualRemediationNotRequired',
  },
  { title: 'ghost fails the item', cluster: 'ghost', config: block, verdict: 'BLOCK', action: 'fail', status: 'ManualRemediationRequired' },
  {
    title: 'unknown with Fail fails the item',
    cluster: 'unknown',
    config: block,
    verdict: 'BLOCK',
    action: 'fail',
    status: 'NeedFurtherConfirmation',
  },
  {
    title: 'unknown with Ignore is restored',
    cluster: 'unknown',
    config: blockIgnore,
    verdict: 'ALLOW',
    action: 'restore',
    status: 'NeedFurtherConfirmation',
  },
  {
    title: 'ghost with Ignore still fails',
    cluster: 'ghost',
    config: blockIgnore,
    verdict: 'BLOCK',
    action: 'fail',
    status: 'ManualRemediationRequired',
  },
  // Overrides.
  {
    title: 'override for all restores a ghost cluster',
    cluster: 'ghost',
    config: block,
    annotations: { [OVERRIDE]: 'ticket 42' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: true,
    status: 'ManualRemediationRequired',
  },
  {
    title: 'scoped override covering the cluster',
    cluster: 'ghost',
    config: block,
    annotations: { [OVERRIDE]: 'ticket 42', [SCOPE]: 'default/ghost' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: true,
    status: 'ManualRemediationRequired',
  },
  {
    title: 'scoped override for another cluster',
    cluster: 'ghost',
    config: block,
    annotations: { [OVERRIDE]: 'ticket 42', [SCOPE]: 'default/unknown' },
    verdict: 'BLOCK',
    action: 'fail',
    status: 'ManualRemediationRequired',
  },
  {
    title: 'scoped override in another namespace',
    cluster: 'ghost',
    config: block,
    annotations: { [OVERRIDE]: 'ticket 42', [SCOPE]: 'tkg/ghost' },
    verdict: 'BLOCK',
    action: 'fail',
    status: 'ManualRemediationRequired',
  },
  {
    title: 'empty reason overrides nothing',
    cluster: 'ghost',
    config: block,
    annotations: { [OVERRIDE]: ' ', [SCOPE]: 'default/ghost' },
    verdict: 'BLOCK',
    action: 'fail',
    status: 'ManualRemediationRequired',
  },
  {
    title: 'override on an ALLOWed cluster changes nothing',
    cluster: 'healthy',
    config: block,
    annotations: { [OVERRIDE]: 'r' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: false,
    status: 'Healthy',
  },
  {
    title: 'override covers an unconfirmed cluster',
    cluster: 'unknown',
    config: block,
    annotations: { [OVERRIDE]: 'checked by hand' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: true,
    status: 'NeedFurtherConfirmation',
  },
  // Mode annotate.
  {
    title: 'annotate: ghost is restored',
    cluster: 'ghost',
    config: annotate,
    verdict: 'BLOCK',
    action: 'restore',
    status: 'ManualRemediationRequired',
  },
  {
    title: 'annotate + pauseOnDrift: ghost is paused',
    cluster: 'ghost',
    config: annotatePause,
    verdict: 'BLOCK',
    action: 'pause',
    status: 'ManualRemediationRequired',
  },
  {
    title: 'annotate + pauseOnDrift: unknown with Fail is paused',
    cluster: 'unknown',
    config: annotatePause,
    verdict: 'BLOCK',
    action: 'pause',
    status: 'NeedFurtherConfirmation',
  },
  {
    title: 'annotate + pauseOnDrift: unknown with Ignore is not paused',
    cluster: 'unknown',
    config: { ...annotatePause, failurePolicy: 'Ignore' },
    verdict: 'ALLOW',
    action: 'restore',
    status: 'NeedFurtherConfirmation',
  },
  {
    title: 'annotate + pauseOnDrift: healthy is not paused',
    cluster: 'healthy',
    config: annotatePause,
    verdict: 'ALLOW',
    action: 'restore',
    status: 'Healthy',
  },
  {
    title: 'annotate + pauseOnDrift: overridden ghost is not paused',
    cluster: 'ghost',
    config: annotatePause,
    annotations: { [OVERRIDE]: 'r' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: true,
    status: 'ManualRemediationRequired',
  },
  // A cluster the report does not hold.
  { title: 'missing cluster with Fail is blocked', cluster: 'absent', config: block, verdict: 'BLOCK', action: 'fail', status: 'NotAnalyzed' },
  {
    title: 'missing cluster with Ignore is restored',
    cluster: 'absent',
    config: blockIgnore,
    verdict: 'ALLOW',
    action: 'restore',
    status: 'NotAnalyzed',
  },
  {
    title: 'missing cluster with an override is restored',
    cluster: 'absent',
    config: block,
    annotations: { [OVERRIDE]: 'r' },
    verdict: 'ALLOW',
    action: 'restore',
    overridden: true,
    status: 'NotAnalyzed',
  },
];

for (const c of cases) {
  test(`decide: ${c.title}`, (t) => {
    const d = decide(all, 'default', c.cluster, c.annotations, c.config);
    t.is(d.verdict, c.verdict);
    t.is(d.action, c.action);
    t.is(d.paused, c.action === 'pause');
    t.is(d.overridden, c.overridden ?? false);
    t.is(d.status, c.status);
    t.is(d.annotations[STATUS_ANNOTATION], c.status);
    t.is(d.annotations[VERDICT_ANNOTATION], c.verdict);
    t.is(d.error !== undefined, c.action === 'fail');
    t.is(d.annotations[OVERRIDE_REASON_ANNOTATION] !== undefined, d.overridden);
  });
}

test('every decision carries the status, ghost and stale annotations', (t) => {
  for (const name of ['healthy', 'stale', 'ghost', 'unknown']) {
    const d = decide(all, 'default', name, {}, annotate);
    t.true(STATUS_ANNOTATION in d.annotations, name);
    t.true(GHOST_MACHINES_ANNOTATION in d.annotations, name);
    t.true(STALE_MACHINES_ANNOTATION in d.annotations, name);
  }
  const g = decide(all, 'default', 'ghost', {}, annotate);
  t.is(g.annotations[GHOST_MACHINES_ANNOTATION], 'ghost-cp-x,ghost-md-y');
  t.is(g.annotations[STALE_MACHINES_ANNOTATION], 'ghost-md-2');
  t.is(decide(all, 'default', 'healthy', {}, annotate).annotations[GHOST_MACHINES_ANNOTATION], '');
  t.is(decide(all, 'default', 'unknown', {}, annotate).annotations[UNKNOWN_MACHINES_ANNOTATION], 'unknown-cp-1');
});

test('the block message names the cluster, its ghosts and the override annotation', (t) => {
  const d = decide(all, 'default', 'ghost', {}, block);
  t.truthy(d.error);
  t.regex(d.error!, /default\/ghost/);
  t.regex(d.error!, /ghost-cp-x/);
  t.regex(d.error!, /ghost-md-y/);
  t.regex(d.error!, /driftdetector\.dev\/override: "<reason>"/);
  t.regex(d.error!, /s3:\/\/velero\/backups\/b1\/b1\.tar\.gz/);
  t.notRegex(d.error!, /ghost-md-2/, 'stale machines are not ghosts');
});

test('the block message of an unconfirmed cluster names its unknown machines', (t) => {
  const d = decide(all, 'default', 'unknown', {}, block);
  t.regex(d.error!, /unknown-cp-1 \(Unknown in the test\)/);
  t.regex(d.error!, /failurePolicy Fail/);
});

test('the override reason is annotated on the overridden cluster', (t) => {
  const d = decide(all, 'default', 'ghost', { [OVERRIDE]: ' VMs adopted, INC-7 ' }, block);
  t.is(d.annotations[OVERRIDE_REASON_ANNOTATION], 'VMs adopted, INC-7');
  t.regex(d.reason, /overridden: VMs adopted, INC-7/);
  t.is(d.driftVerdict, 'BLOCK');
});

test('a scope typo covers nothing and the reason says so', (t) => {
  const d = decide(all, 'default', 'ghost', { [OVERRIDE]: 'r', [SCOPE]: 'ghost' }, block);
  t.is(d.action, 'fail');
  t.regex(d.reason, /not of the form namespace\/name: "ghost"/);
  t.regex(d.error!, /override-clusters is malformed .*, so the override covers no cluster\)$/);
});

test('a missing cluster says why, with the report error scoped to it', (t) => {
  const r = report(healthy);
  r.errors.push({ scope: 'cluster:default/docker1', message: 'no VSphereCluster: not a vSphere cluster', severity: 'error' });
  const d = decide(r, 'default', 'docker1', {}, blockIgnore);
  t.regex(d.reason, /not in the drift report .*not a vSphere cluster/);
  t.is(d.action, 'restore');
});

// drift semantics §7: a cluster the analysis left out on purpose is judged by no door.
test('decide: a cluster named only in warnings (the old management cluster) is allowed under failurePolicy Fail too', (t) => {
  const r = report(healthy);
  r.errors.push({ scope: 'cluster:tkg-system/tkg-mgmt', message: 'tkg-system/tkg-mgmt is the old management cluster', severity: 'warning' });
  r.errors.push({ scope: 'cluster:default/broken', message: 'unusable objects', severity: 'error' });
  r.errors.push({ scope: 'cluster:default/both', message: 'a warning', severity: 'warning' });
  r.errors.push({ scope: 'cluster:default/both', message: 'an error', severity: 'error' });
  for (const config of [block, annotatePause]) {
    const mgmt = decide(r, 'tkg-system', 'tkg-mgmt', {}, config);
    t.is(mgmt.verdict, 'ALLOW');
    t.is(mgmt.action, 'restore');
    t.is(mgmt.status, 'NotAnalyzed');
    t.is(
      mgmt.reason,
      'cluster tkg-system/tkg-mgmt was left out of the drift check on purpose: tkg-system/tkg-mgmt is the old management cluster',
    );
  }
  for (const name of ['broken', 'both', 'absent']) t.is(decide(r, 'default', name, {}, block).action, 'fail', name);
  t.deepEqual(
    judgedClusters(r).map((c) => `${c.namespace}/${c.name}`),
    ['default/healthy', 'default/broken', 'default/both'],
    'the webhook judges the same clusters',
  );
  t.true(leftOutOnPurpose(r, 'tkg-system', 'tkg-mgmt'));
  t.false(leftOutOnPurpose(r, 'default', 'healthy'));
});

test('only tkg-system holds the old management cluster: a cluster elsewhere named only in warnings is judged, by both doors', (t) => {
  const r = report(healthy);
  // As a report from before this rule (or a tampered one) would say of a labelled workload cluster.
  r.errors.push({ scope: 'cluster:default/wc-labelled', message: 'default/wc-labelled is the old management cluster', severity: 'warning' });
  t.false(leftOutOnPurpose(r, 'default', 'wc-labelled'));
  const d = decide(r, 'default', 'wc-labelled', {}, block);
  t.is(d.status, 'NotAnalyzed');
  t.is(d.action, 'fail');
  t.deepEqual(
    judgedClusters(r).map((c) => `${c.namespace}/${c.name}`),
    ['default/healthy', 'default/wc-labelled'],
  );
  t.deepEqual(
    managementLabelWarnings([
      { namespace: 'default', name: 'wc-labelled', labels: { 'cluster-role.tkg.tanzu.vmware.com/management': 'anything' } },
      { namespace: 'tkg-system', name: 'tkg-mgmt', labels: { 'cluster-role.tkg.tanzu.vmware.com/management': '' } },
      { namespace: 'default', name: 'wc-plain' },
    ]),
    [
      'default/wc-labelled carries the label cluster-role.tkg.tanzu.vmware.com/management but is not in tkg-system: it is judged like any workload cluster',
    ],
  );
});

test('check failure: Fail blocks, Ignore restores with the cause annotated, an override restores', (t) => {
  const failed = decideOnCheckFailure('default', 'c1', {}, block, 'S3 unreachable');
  t.is(failed.action, 'fail');
  t.is(failed.status, 'CheckFailed');
  t.regex(failed.error!, /drift check failed .*S3 unreachable/);
  const ignored = decideOnCheckFailure('default', 'c1', {}, blockIgnore, 'S3 unreachable');
  t.is(ignored.action, 'restore');
  t.is(ignored.verdict, 'ALLOW');
  t.is(ignored.annotations[CHECK_ERROR_ANNOTATION], 'S3 unreachable');
  t.is(ignored.annotations[STATUS_ANNOTATION], 'CheckFailed');
  const overridden = decideOnCheckFailure('default', 'c1', { [OVERRIDE]: 'r' }, block, 'S3 unreachable');
  t.is(overridden.action, 'restore');
  t.true(overridden.overridden);
  const annotated = decideOnCheckFailure('default', 'c1', {}, annotatePause, 'S3 unreachable');
  t.is(annotated.action, 'pause');
});

test('long machine lists are capped in annotations', (t) => {
  const many = Array.from({ length: 60 }, (_, i) => machine(`big-md-${i}`, 'Ghost'));
  const d = decide(report(cluster('big', [], many)), 'default', 'big', {}, annotate);
  t.regex(d.annotations[GHOST_MACHINES_ANNOTATION]!, /,\+10 more$/);
  t.is(d.ghostMachines.length, 60);
});

test('names with a newline or a bidirectional override are shown escaped in the reason, the error, the annotations and the denial', (t) => {
  const forged = 'wc-evil-md-x\n- Cluster default/healthy: Healthy\u202e';
  const r = report(cluster('evil', [machine('evil-cp-1', 'Healthy')], [machine(forged, 'Ghost')]));
  const d = decide(r, 'default', 'evil', {}, block);
  const escaped = 'wc-evil-md-x\\u{a}- Cluster default/healthy: Healthy\\u{202e}';
  for (const text of [d.reason, d.error!, d.annotations['driftdetector.dev/ghost-machines']!]) {
    t.true(text.includes(escaped), text);
    t.false(/[\n\u202e]/.test(text), text);
  }
  const denial = denialMessage({ backup: 'b1' }, [d]);
  t.true(denial.includes(escaped));
  t.false(denial.includes('\u202e'));
  t.is(denial.split('\n').filter((l) => l.startsWith('- Cluster')).length, 1, 'no forged line');
});
