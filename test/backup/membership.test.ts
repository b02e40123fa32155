/** Which backed-up cluster an object belongs to (drift-semantics §2, §7): one table, rule by rule. */
import test from 'ava';
import { ClusterMembership, claimedCluster, type MemberObject } from '../../src/backup/membership.js';
import { emptyBackupObjects } from '../../src/model/backup.js';
import type { KubeObject } from '../../src/model/kube.js';

const LABEL = 'cluster.x-k8s.io/cluster-name';
const TKG_LABEL = 'tkg.tanzu.vmware.com/cluster-name';

function obj(
  kind: string,
  name: string,
  extra: { labels?: Record<string, string>; owners?: Array<[string, string]>; spec?: Record<string, unknown>; namespace?: string } = {},
): KubeObject {
  return {
    kind,
    metadata: {
      name,
      namespace: extra.namespace ?? 'default',
      ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.owners ? { ownerReferences: extra.owners.map(([k, n]) => ({ kind: k, name: n })) } : {}),
    },
    ...(extra.spec ? { spec: extra.spec } : {}),
  };
}

/** Two clusters whose names prefix each other, a Machine of a cluster with no Cluster object, and owner chains without labels. */
const objects = {
  ...emptyBackupObjects('test'),
  clusters: [
    obj('Cluster', 'wc', {
      spec: {
        infrastructureRef: { kind: 'VSphereCluster', name: 'wc-infra' },
        controlPlaneRef: { kind: 'KubeadmControlPlane', name: 'wc-cp' },
      },
    }),
    obj('Cluster', 'wc-2'),
  ],
  machines: [
    obj('Machine', 'wc-cp-abc', {
      spec: {
        clusterName: 'wc',
        infrastructureRef: { kind: 'VSphereMachine', name: 'wc-cp-tmpl-xyz' },
        bootstrap: { configRef: { kind: 'KubeadmConfig', name: 'wc-cp-abc' }, dataSecretName: 'bootstrap-abc' },
      },
    }),
    obj('Machine', 'orphan-md-1', { labels: { [LABEL]: 'orphan' } }),
  ],
  machineSets: [obj('MachineSet', 'wc-2-md-0-abc', { spec: { clusterName: 'wc-2' } })],
  vsphereMachines: [obj('VSphereMachine', 'vm-of-set', { owners: [['MachineSet', 'wc-2-md-0-abc']] })],
  vsphereVMs: [obj('VSphereVM', 'vm-unlabelled', { owners: [['VSphereMachine', 'vm-of-set']] })],
};
const membership = ClusterMembership.fromBackup(objects);

const cases: Array<[string, MemberObject, string | undefined]> = [
  ['the label', obj('KubeadmConfigTemplate', 'any', { labels: { [LABEL]: 'wc-2' } }), 'default/wc-2'],
  ["TKG's label alone (a vSphere credentials Secret)", obj('Secret', 'creds', { labels: { [TKG_LABEL]: 'wc-2' } }), 'default/wc-2'],
  ["TKG's label on a ConfigMap", obj('ConfigMap', 'settings', { labels: { [TKG_LABEL]: 'wc' } }), 'default/wc'],
  ["TKG's label naming a cluster not in the backup", obj('Secret', 'other', { labels: { [TKG_LABEL]: 'gone' } }), undefined],
  ["TKG's label in another namespace", obj('Secret', 'creds', { labels: { [TKG_LABEL]: 'wc' }, namespace: 'other' }), undefined],
  ['spec.clusterName', obj('MachineHealthCheck', 'mhc', { spec: { clusterName: 'wc' } }), 'default/wc'],
  ['a Cluster owner', obj('VSphereMachineTemplate', 'tmpl', { owners: [['Cluster', 'wc']] }), 'default/wc'],
  ['an owner the backup holds (KubeadmConfig of a Machine)', obj('KubeadmConfig', 'x', { owners: [['Machine', 'wc-cp-abc']] }), 'default/wc'],
  ['an owner chain resolved in the backup', obj('IPAddressClaim', 'claim', { owners: [['VSphereVM', 'vm-unlabelled']] }), 'default/wc-2'],
  ["the Cluster's infrastructureRef", obj('VSphereCluster', 'wc-infra'), 'default/wc'],
  ["the Cluster's controlPlaneRef", obj('KubeadmControlPlane', 'wc-cp'), 'default/wc'],
  ["a Machine's bootstrap configRef", obj('KubeadmConfig', 'wc-cp-abc'), 'default/wc'],
  ["a Machine's infrastructureRef", obj('VSphereMachine', 'wc-cp-tmpl-xyz'), 'default/wc'],
  ["a Machine's bootstrap data Secret", obj('Secret', 'bootstrap-abc'), 'default/wc'],
  ['a <cluster>-* Secret: the longest cluster name wins', obj('Secret', 'wc-2-kubeconfig'), 'default/wc-2'],
  ['a <cluster>-* Secret of the shorter name', obj('Secret', 'wc-ca'), 'default/wc'],
  ['a ConfigMap named like a cluster is not a Secret', obj('ConfigMap', 'wc-settings'), undefined],
  ['a cluster known only from its Machines', obj('MachineDeployment', 'orphan-md', { labels: { [LABEL]: 'orphan' } }), 'default/orphan'],
  ['a label naming a cluster not in the backup', obj('VSphereMachineTemplate', 't', { labels: { [LABEL]: 'gone' } }), undefined],
  ['the same name in another namespace', obj('KubeadmConfig', 'k', { labels: { [LABEL]: 'wc' }, namespace: 'other' }), undefined],
  ['a ClusterClass', obj('ClusterClass', 'tkg-vsphere-default'), undefined],
  ['a cluster-scoped VSphereClusterIdentity', { kind: 'VSphereClusterIdentity', metadata: { name: 'wc-identity' } }, undefined],
  ['an unknown owner', obj('IPAddress', 'ip', { owners: [['IPAddressClaim', 'unknown']] }), undefined],
];
for (const [title, object, expected] of cases) {
  test(`membership: ${title}`, (t) => {
    const found = membership.clusterOf(object);
    t.is(found && `${found.namespace}/${found.name}`, expected);
  });
}

test('membership from the clusters alone (no backup objects): label and names only', (t) => {
  const bare = new ClusterMembership([{ namespace: 'default', name: 'wc' }]);
  t.deepEqual(bare.clusterOf(obj('Machine', 'm', { labels: { [LABEL]: 'wc' } })), { namespace: 'default', name: 'wc' });
  t.deepEqual(bare.clusterOf(obj('Secret', 'wc-kubeconfig')), { namespace: 'default', name: 'wc' });
  t.is(bare.clusterOf(obj('KubeadmConfig', 'k', { owners: [['Machine', 'm']] })), undefined);
});

test('claimedCluster: what an object says of itself, unchecked', (t) => {
  t.deepEqual(claimedCluster(obj('Machine', 'm', { labels: { [LABEL]: 'gone' } })), { namespace: 'default', name: 'gone' });
  t.deepEqual(claimedCluster(obj('VSphereCluster', 'v', { owners: [['Cluster', 'c']] })), { namespace: 'default', name: 'c' });
  t.deepEqual(claimedCluster(obj('Secret', 'creds', { labels: { [TKG_LABEL]: 'tkg' } })), { namespace: 'default', name: 'tkg' });
  t.is(claimedCluster(obj('KubeadmConfig', 'k', { owners: [['Machine', 'm']] })), undefined);
});
