/** Which clusters a Restore touches (drift semantics §7), as Velero applies the Restore's filters. */
import test from 'ava';
import { restoreFilters, touchedClusters, type ScopedCluster } from '../../src/gate/restore-scope.js';

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
      excludedResources: [
        'clusters.cluster.x-k8s.io',
        'machines',
        'machinesets',
        'machinedeployments',
        'machinehealthchecks',
        'machinepools',
        'kubeadmcontrolplanes',
        'kubeadmconfigs',
        'vsphereclusters',
        'vspheremachines',
        'vspherevms',
        'clusterresourcesets',
        'clusterresourcesetbindings',
        'ipaddressclaims',
      ],
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
