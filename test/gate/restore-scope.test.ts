/** Which clusters a Restore touches (drift semantics §7), as Velero applies the Restore's filters. */
import test from 'ava';
import { CAPI_RESOURCES, qualifiedName } from '../../src/gate/capi-resources.js';
import {
  MalformedRestoreError,
  MAX_RESTORE_PATTERNS,
  NamespaceFilter,
  SCOPE_SLICE_STEPS,
  restoreFilters,
  restoresEverything,
  touchedClusters,
  type ScopedCluster,
} from '../../src/gate/restore-scope.js';

const CLUSTERS: ScopedCluster[] = [
  { namespace: 'default', name: 'wc-a', labels: { env: 'prod', 'tkg.tanzu.vmware.com/cluster-name': 'wc-a' } },
  { namespace: 'default', name: 'wc-b', labels: { env: 'dev' } },
  { namespace: 'tkg', name: 'wc-c' },
];

const names = (spec: unknown) => touchedClusters(restoreFilters(spec), CLUSTERS).map((c) => `${c.namespace}/${c.name}`);

const table: Array<[string, unknown, string[]]> = [
  ['no filters: every cluster', { backupName: 'b' }, ['default/wc-a', 'default/wc-b', 'tkg/wc-c']],
  ['includedNamespaces', { includedNamespaces: ['tkg'] }, ['tkg/wc-c']],
  ['includedNamespaces *', { includedNamespaces: ['*'] }, ['default/wc-a', 'default/wc-b', 'tkg/wc-c']],
  ['includedNamespaces glob', { includedNamespaces: ['tk*'] }, ['tkg/wc-c']],
  ['excludedNamespaces', { excludedNamespaces: ['default'] }, ['tkg/wc-c']],
  [
    'namespaceMapping changes nothing: judged by backup namespace',
    { namespaceMapping: { default: 'restored' } },
    ['default/wc-a', 'default/wc-b', 'tkg/wc-c'],
  ],
  ['includedResources without Cluster API', { includedResources: ['secrets', 'configmaps'] }, []],
  ['includedResources clusters', { includedResources: ['clusters'] }, ['default/wc-a', 'default/wc-b', 'tkg/wc-c']],
  [
    'includedResources clusters.cluster.x-k8s.io',
    { includedResources: ['Clusters.cluster.x-k8s.io'] },
    ['default/wc-a', 'default/wc-b', 'tkg/wc-c'],
  ],
  [
    'includedResources machines.cluster.x-k8s.io',
    { includedResources: ['machines.cluster.x-k8s.io'] },
    ['default/wc-a', 'default/wc-b', 'tkg/wc-c'],
  ],
  ['includedResources *', { includedResources: ['*'] }, ['default/wc-a', 'default/wc-b', 'tkg/wc-c']],
  ['excludedResources *', { excludedResources: ['*'] }, []],
  [
    'excluding every Cluster API resource touches no cluster',
    {
      excludedResources: CAPI_RESOURCES.map(qualifiedName),
    },
    [],
  ],
  [
    'excluding only clusters still restores machines of them',
    { excludedResources: ['clusters'] },
    ['default/wc-a', 'default/wc-b', 'tkg/wc-c'],
  ],
  ['labelSelector matchLabels', { labelSelector: { matchLabels: { env: 'prod' } } }, ['default/wc-a']],
  ['labelSelector In', { labelSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'qa'] }] } }, ['default/wc-b']],
  [
    'labelSelector NotIn',
    { labelSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } },
    ['default/wc-b', 'tkg/wc-c'],
  ],
  ['labelSelector Exists', { labelSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } }, ['default/wc-a', 'default/wc-b']],
  ['labelSelector DoesNotExist', { labelSelector: { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] } }, ['tkg/wc-c']],
  [
    'orLabelSelectors',
    { orLabelSelectors: [{ matchLabels: { env: 'dev' } }, { matchLabels: { env: 'prod' } }] },
    ['default/wc-a', 'default/wc-b'],
  ],
  ['selector matching no cluster', { labelSelector: { matchLabels: { app: 'nginx' } } }, []],
];

for (const [title, spec, expected] of table) {
  test(`touched clusters: ${title}`, (t) => {
    t.deepEqual(names(spec), expected);
  });
}

/**
 * Clusters whose objects the analysis read: the Cluster, its Machines and MachineDeployment carry
 * the labels Cluster API gives them; a selector is applied to each.
 */
const NAME = 'cluster.x-k8s.io/cluster-name';
const WITH_OBJECTS: ScopedCluster[] = [
  {
    namespace: 'default',
    name: 'wc-a',
    labels: { env: 'prod' },
    objects: [
      { resource: 'clusters.cluster.x-k8s.io', labels: { env: 'prod' } },
      { resource: 'machines.cluster.x-k8s.io', labels: { [NAME]: 'wc-a', 'cluster.x-k8s.io/control-plane': '' } },
      { resource: 'machinedeployments.cluster.x-k8s.io', labels: { [NAME]: 'wc-a' } },
      { resource: 'kubeadmcontrolplanes.controlplane.cluster.x-k8s.io', labels: { [NAME]: 'wc-a' } },
    ],
  },
  {
    namespace: 'team-b',
    name: 'wc-b',
    objects: [{ resource: 'clusters.cluster.x-k8s.io' }, { resource: 'machines.cluster.x-k8s.io', labels: { [NAME]: 'wc-b' } }],
  },
];

const touching = (spec: unknown) => touchedClusters(restoreFilters(spec), WITH_OBJECTS).map((c) => `${c.namespace}/${c.name}`);

const everyForm: Array<[string, unknown, string[]]> = [
  ['short names cl, ma, md, kcp', { includedResources: ['cl', 'ma', 'md', 'kcp'] }, ['default/wc-a', 'team-b/wc-b']],
  ['short name ma only', { includedResources: ['ma'] }, ['default/wc-a', 'team-b/wc-b']],
  ['short name kcp: only clusters with a KubeadmControlPlane... or unread objects', { includedResources: ['kcp'] }, ['default/wc-a']],
  ['short name with its group', { includedResources: ['md.cluster.x-k8s.io'] }, ['default/wc-a']],
  ["short name with a prefix of its group (the expander's rule)", { includedResources: ['md.cluster'] }, ['default/wc-a']],
  ['kind', { includedResources: ['Machine'] }, ['default/wc-a', 'team-b/wc-b']],
  ['kind with its group', { includedResources: ['KubeadmControlPlane.controlplane.cluster.x-k8s.io'] }, ['default/wc-a']],
  ['plural with another group names nothing of Cluster API', { includedResources: ['machines.infrastructure.cluster.x-k8s.io'] }, []],
  ['plural with a prefix of its group names nothing (exact group only)', { includedResources: ['machines.cluster'] }, []],
  ['excluded short names win', { includedResources: ['clusters', 'machines.cluster.x-k8s.io'], excludedResources: ['cl', 'ma'] }, []],
  [
    '* minus the short names still restores the rest (KubeadmConfigs, MachineSets...)',
    { includedResources: ['*'], excludedResources: ['cl', 'ma', 'md', 'kcp'] },
    ['default/wc-a', 'team-b/wc-b'],
  ],
  [
    'a resource the analysis does not read (kubeadmconfigs), no selector: every cluster of the namespaces',
    { includedResources: ['kubeadmconfigs'] },
    ['default/wc-a', 'team-b/wc-b'],
  ],
  [
    'mhc, with a selector no object of either cluster carries',
    { includedResources: ['mhc'], labelSelector: { matchLabels: { app: 'x' } } },
    [],
  ],
  [
    'mhc, with a selector one of its Machines carries',
    { includedResources: ['mhc'], labelSelector: { matchLabels: { [NAME]: 'wc-b' } } },
    ['team-b/wc-b'],
  ],
];

for (const [title, spec, expected] of everyForm) {
  test(`resource names as Velero resolves them: ${title}`, (t) => {
    t.deepEqual(touching(spec), expected);
  });
}

const perObject: Array<[string, unknown, string[]]> = [
  [
    'a selector on the cluster-name label touches the cluster through its Machines (the Cluster does not carry it)',
    { labelSelector: { matchLabels: { [NAME]: 'wc-b' } } },
    ['team-b/wc-b'],
  ],
  [
    'matchExpressions on the control-plane label: only the cluster whose Machine carries it',
    { labelSelector: { matchExpressions: [{ key: 'cluster.x-k8s.io/control-plane', operator: 'Exists' }] } },
    ['default/wc-a'],
  ],
  [
    'orLabelSelectors: one matching object of each cluster',
    { orLabelSelectors: [{ matchLabels: { env: 'prod' } }, { matchLabels: { [NAME]: 'wc-b' } }] },
    ['default/wc-a', 'team-b/wc-b'],
  ],
  [
    'the selector and the resource must meet on one object: Machines, selected by a label only the Cluster has',
    { includedResources: ['machines'], labelSelector: { matchLabels: { env: 'prod' } } },
    [],
  ],
  [
    'NotIn selects objects without the key: every cluster has one',
    { labelSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] } },
    ['default/wc-a', 'team-b/wc-b'],
  ],
];

for (const [title, spec, expected] of perObject) {
  test(`selectors applied to each object: ${title}`, (t) => {
    t.deepEqual(touching(spec), expected);
  });
}

const globs: Array<[string, unknown, string[]]> = [
  ['? in a namespace', { includedNamespaces: ['team-?'] }, ['team-b/wc-b']],
  ['a class', { includedNamespaces: ['[dt]*'] }, ['default/wc-a', 'team-b/wc-b']],
  ['a negated class', { includedNamespaces: ['[!d]*'] }, ['team-b/wc-b']],
  ['alternatives', { includedNamespaces: ['{default,kube-system}'] }, ['default/wc-a']],
  ['excludes win over *', { includedNamespaces: ['*'], excludedNamespaces: ['team-*'] }, ['default/wc-a']],
  ['an unclosed [ is a literal (no namespace has that name)', { includedNamespaces: ['team-[b'] }, []],
  ['32 stars and a letter: as any other pattern', { includedNamespaces: [`${'*'.repeat(32)}b`] }, ['team-b/wc-b']],
];

for (const [title, spec, expected] of globs) {
  test(`namespace globs as Velero reads them: ${title}`, (t) => {
    t.deepEqual(touching(spec), expected);
  });
}

test("the issue's attack: six patterns of 32 stars and a letter cost a few thousand steps, not seconds", (t) => {
  const filters = restoreFilters({ includedNamespaces: Array.from({ length: 6 }, (_, i) => `${'*'.repeat(32)}${'xyzuvw'[i]}`) });
  const many: ScopedCluster[] = Array.from({ length: 200 }, (_, i) => ({ namespace: `namespace-number-${i}-${'a'.repeat(40)}`, name: 'c' }));
  t.deepEqual(touchedClusters(filters, many), []);
});

test(`a Restore listing more than ${MAX_RESTORE_PATTERNS} namespaces and resources is malformed`, (t) => {
  const spec = {
    includedNamespaces: Array.from({ length: 600 }, (_, i) => `ns-${i}`),
    excludedResources: Array.from({ length: 401 }, () => 'pods'),
  };
  const err = t.throws(() => restoreFilters(spec), { instanceOf: MalformedRestoreError });
  t.regex(err.message, /1001 entries, more than 1000/);
  t.notThrows(() => restoreFilters({ includedNamespaces: spec.includedNamespaces }));
});

test('a namespace pattern longer than 253 characters is malformed', (t) => {
  const err = t.throws(() => restoreFilters({ excludedNamespaces: ['a'.repeat(254)] }), { instanceOf: MalformedRestoreError });
  t.regex(err.message, /spec.excludedNamespaces holds a pattern of 254 characters/);
});

test('namespace patterns that would cost more than the step budget make the Restore malformed, judged in bounded work', (t) => {
  // Each pattern may match the namespace (as short as it), so every one is run to its end.
  const filters = restoreFilters({ includedNamespaces: Array.from({ length: 1000 }, (_, i) => `${'*?'.repeat(50)}*c${i}`) });
  const err = t.throws(() => touchedClusters(filters, [{ namespace: `${'a'.repeat(62)}b`, name: 'c' }]), { instanceOf: MalformedRestoreError });
  t.regex(err.message, /cost more than 3000000 matching steps/);
});

test('judged in slices, the namespaces get the same verdicts, with a pause every few thousand steps and none in between', async (t) => {
  const filters = restoreFilters({ includedNamespaces: Array.from({ length: 20 }, (_, i) => `${'*?'.repeat(8)}*${i}`) });
  const namespaces = Array.from({ length: 20 }, (_, i) => `namespace-${i}-${'x'.repeat(40)}`);
  const sliced = new NamespaceFilter(filters);
  const pausedAt: number[] = [];
  await sliced.judgeAll(namespaces, () => {
    pausedAt.push(sliced.steps);
    return Promise.resolve();
  });
  const whole = new NamespaceFilter(filters);
  t.deepEqual(
    namespaces.map((n) => sliced.includes(n)),
    namespaces.map((n) => whole.includes(n)),
  );
  t.true(pausedAt.length > 3, `${pausedAt.length} pauses over ${sliced.steps} steps`);
  // Between two pauses: one slice, and at most one more match (a namespace of 63 characters against one pattern).
  const gaps = pausedAt.map((at, i) => at - (pausedAt[i - 1] ?? 0));
  t.true(Math.max(...gaps) < SCOPE_SLICE_STEPS + 2 * 64 * 200, `longest stretch ${Math.max(...gaps)} steps`);
});

test('a pattern repeated a thousand times is compiled and matched once', (t) => {
  const filters = restoreFilters({ includedNamespaces: Array.from({ length: 1000 }, () => `${'*?'.repeat(50)}*c`) });
  t.is(filters.includedNamespaces.length, 1);
  t.deepEqual(touchedClusters(filters, [{ namespace: `${'a'.repeat(62)}b`, name: 'c' }]), []);
});

const everything: Array<[string, unknown, boolean]> = [
  ['no spec', undefined, true],
  ['no filter', { backupName: 'b' }, true],
  ["Velero's * for all namespaces and resources", { includedNamespaces: ['*'], includedResources: ['*'] }, true],
  ['a namespace', { includedNamespaces: ['tkg'] }, false],
  ['a resource', { includedResources: ['cl'] }, false],
  ['an exclusion', { excludedResources: ['secrets'] }, false],
  ['a label selector, even empty', { labelSelector: {} }, false],
  ['orLabelSelectors', { orLabelSelectors: [{ matchLabels: { a: 'b' } }] }, false],
  ['a list of the wrong type', { includedNamespaces: 'tkg' }, false],
];
for (const [title, spec, expected] of everything) {
  test(`restoresEverything: ${title}`, (t) => {
    t.is(restoresEverything(spec), expected);
  });
}
