import test from 'ava';
import { BackupError } from '../../src/backup/errors.js';
import { backedUpClusters } from '../../src/backup/topology.js';
import { vcenterTargetsOf } from '../../src/backup/vcenter-targets.js';
import { excludedManagementClusters, kubeconfigOf, misplacedManagementLabel } from '../../src/backup/workload-clusters.js';
import { emptyBackupObjects, type BackedUpMachine, type BackupObjects } from '../../src/model/backup.js';
import type { KubeObject } from '../../src/model/kube.js';

// ---------------------------------------------------------------------------------------------
// Plain objects, as short as the rules allow

const NS = 'default';
const UUID_A = '4223a39e-5e3f-d729-172c-b36f382508db';
const UUID_B = '42111111-2222-3333-4444-555555555555';
const UID_VM = 'a1b2c3d4-0000-4000-8000-000000000001';

function obj(kind: string, name: string, fields: Partial<KubeObject> & { namespace?: string | null } = {}): KubeObject {
  const { namespace, metadata, ...rest } = fields;
  return {
    kind,
    metadata: { name, ...(namespace === null ? {} : { namespace: namespace ?? NS }), ...metadata },
    ...rest,
  };
}

function cluster(name: string, spec: Record<string, unknown> = {}, metadata: Partial<KubeObject['metadata']> = {}, namespace = NS): KubeObject {
  return obj('Cluster', name, { namespace, spec, metadata: { name, ...metadata } });
}

function machine(
  name: string,
  options: {
    cluster?: string;
    byLabel?: boolean;
    controlPlane?: boolean;
    infra?: string;
    providerID?: string;
    namespace?: string;
    labels?: Record<string, string>;
  } = {},
): KubeObject {
  const { cluster = 'wc1', byLabel = true, controlPlane = false } = options;
  const labels: Record<string, string> = { ...options.labels };
  if (byLabel) labels['cluster.x-k8s.io/cluster-name'] = cluster;
  if (controlPlane) labels['cluster.x-k8s.io/control-plane'] = '';
  return obj('Machine', name, {
    namespace: options.namespace ?? NS,
    metadata: { name, labels },
    spec: {
      ...(byLabel ? {} : { clusterName: cluster }),
      ...(options.infra ? { infrastructureRef: { kind: 'VSphereMachine', name: options.infra } } : {}),
      ...(options.providerID ? { providerID: options.providerID } : {}),
    },
  });
}

function vsphereMachine(name: string, spec: Record<string, unknown> = {}, owner?: string): KubeObject {
  return obj('VSphereMachine', name, {
    spec,
    metadata: { name, ...(owner ? { ownerReferences: [{ kind: 'Machine', name: owner }] } : {}) },
  });
}

function vsphereVM(name: string, spec: Record<string, unknown> = {}, options: { uid?: string; owner?: string } = {}): KubeObject {
  return obj('VSphereVM', name, {
    spec,
    metadata: {
      name,
      ...(options.uid ? { uid: options.uid } : {}),
      ...(options.owner ? { ownerReferences: [{ kind: 'VSphereMachine', name: options.owner }] } : {}),
    },
  });
}

function vsphereCluster(name: string, spec: Record<string, unknown>, namespace = NS): KubeObject {
  return obj('VSphereCluster', name, { namespace, spec });
}

function secret(namespace: string, name: string, data: Record<string, string>): KubeObject {
  return obj('Secret', name, {
    namespace,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
}

function backup(objects: Partial<Omit<BackupObjects, 'source'>>): BackupObjects {
  return { ...emptyBackupObjects('/backups/b1.tar.gz'), ...objects };
}

function onlyMachine(objects: BackupObjects): BackedUpMachine {
  const clusters = backedUpClusters(objects);
  const machines = clusters.flatMap((c) => c.machines);
  if (machines.length !== 1) throw new Error(`expected one machine, got ${machines.length}`);
  return machines[0]!;
}

// ---------------------------------------------------------------------------------------------
// The identity of a backed-up machine (docs/drift-rules.md §2)

const identityCases: Array<[string, Partial<BackupObjects>, Partial<BackedUpMachine>]> = [
  [
    'VSphereVM of the same name: BIOS UUID (lower-cased), instance UUID, name and placement from it',
    {
      machines: [machine('wc1-md-0-abc-x1', { infra: 'wc1-worker-q1', providerID: `vsphere://${UUID_B}` })],
      vsphereVMs: [
        vsphereVM(
          'wc1-md-0-abc-x1',
          {
            biosUUID: UUID_A.toUpperCase(),
            server: 'VC1.example.com',
            datacenter: '/DC0',
            folder: '/DC0/vm/tkg',
            resourcePool: '/DC0/host/C0/Resources/tkg',
          },
          { uid: UID_VM.toUpperCase() },
        ),
      ],
    },
    {
      biosUuid: UUID_A,
      instanceUuid: UID_VM,
      vmName: 'wc1-md-0-abc-x1',
      placement: { vcenter: 'vc1.example.com', datacenter: '/DC0', folder: '/DC0/vm/tkg', resourcePool: '/DC0/host/C0/Resources/tkg' },
    },
  ],
  [
    'VSphereVM named otherwise, owned by the infrastructureRef VSphereMachine',
    {
      machines: [machine('m1', { infra: 'vsm-1' })],
      vsphereMachines: [vsphereMachine('vsm-1')],
      vsphereVMs: [
        vsphereVM('vm-of-vsm-2', { biosUUID: UUID_B }, { owner: 'vsm-2' }),
        vsphereVM('vm-of-vsm-1', { biosUUID: UUID_A }, { owner: 'vsm-1', uid: UID_VM }),
      ],
    },
    { biosUuid: UUID_A, instanceUuid: UID_VM, vmName: 'vm-of-vsm-1' },
  ],
  [
    'no VSphereVM: BIOS UUID from the Machine providerID; name = Machine name; placement from the VSphereMachine',
    {
      machines: [machine('m1', { infra: 'vsm-1', providerID: `VSPHERE://${UUID_A.toUpperCase()}` })],
      vsphereMachines: [
        vsphereMachine('vsm-1', { server: 'https://vc2.example.com:8443/sdk', datacenter: 'DC1', providerID: `vsphere://${UUID_B}` }),
      ],
    },
    { biosUuid: UUID_A, vmName: 'm1', placement: { vcenter: 'vc2.example.com:8443', datacenter: 'DC1' } },
  ],
  [
    'VSphereVM without biosUUID: the VSphereMachine providerID',
    {
      machines: [machine('m1', { infra: 'vsm-1' })],
      vsphereMachines: [vsphereMachine('vsm-1', { providerID: `vsphere://${UUID_B}` })],
      vsphereVMs: [vsphereVM('m1', { server: 'vc1.example.com' }, { uid: UID_VM })],
    },
    { biosUuid: UUID_B, instanceUuid: UID_VM, placement: { vcenter: 'vc1.example.com' } },
  ],
  [
    'a providerID that is not vsphere://<uuid> gives no BIOS UUID',
    { machines: [machine('m1', { providerID: 'aws:///us-east-1a/i-0123' })] },
    { biosUuid: undefined, instanceUuid: undefined, vmName: 'm1', placement: {} },
  ],
  [
    'VSphereMachine found through its owner when the Machine has no infrastructureRef',
    {
      machines: [machine('m1')],
      vsphereMachines: [vsphereMachine('vsm-x', { providerID: `vsphere://${UUID_A}`, server: 'vc1.example.com' }, 'm1')],
    },
    { biosUuid: UUID_A, placement: { vcenter: 'vc1.example.com' } },
  ],
  [
    'VSphereVM fields win over the VSphereMachine, field by field',
    {
      machines: [machine('m1', { infra: 'vsm-1' })],
      vsphereMachines: [vsphereMachine('vsm-1', { server: 'vc-old.example.com', datacenter: 'DC9', folder: 'f9', resourcePool: 'p9' })],
      vsphereVMs: [vsphereVM('m1', { server: 'vc1.example.com', datacenter: 'DC0' })],
    },
    { placement: { vcenter: 'vc1.example.com', datacenter: 'DC0', folder: 'f9', resourcePool: 'p9' } },
  ],
  [
    'cluster by spec.clusterName when the label is absent; control plane by label presence',
    { machines: [machine('m1', { byLabel: false, cluster: 'wc7', controlPlane: true })] },
    { cluster: 'wc7', controlPlane: true },
  ],
];

for (const [title, objects, want] of identityCases) {
  test(`machine identity: ${title}`, (t) => {
    const got = onlyMachine(backup(objects));
    for (const [field, value] of Object.entries(want)) t.deepEqual(got[field as keyof BackedUpMachine], value, field);
  });
}

test('machine vCenter falls back to the cluster VSphereCluster: infrastructureRef, else same name', (t) => {
  const viaRef = backup({
    clusters: [cluster('wc1', { infrastructureRef: { kind: 'VSphereCluster', name: 'wc1-x7k2p' } })],
    vsphereClusters: [vsphereCluster('wc1', { server: 'wrong.example.com' }), vsphereCluster('wc1-x7k2p', { server: 'VC1.Example.com:443' })],
    machines: [machine('m1')],
    vsphereVMs: [vsphereVM('m1', { datacenter: 'DC0' })],
  });
  t.deepEqual(onlyMachine(viaRef).placement, { vcenter: 'vc1.example.com', datacenter: 'DC0' });

  const sameName = backup({
    clusters: [cluster('wc1')],
    vsphereClusters: [vsphereCluster('wc1', { server: 'vc3.example.com' })],
    machines: [machine('m1')],
  });
  t.deepEqual(onlyMachine(sameName).placement, { vcenter: 'vc3.example.com' });
});

test('cluster placement: VSphereCluster server; datacenter, folder and pool from most of its machines', (t) => {
  const clusters = backedUpClusters(
    backup({
      clusters: [cluster('wc1', { infrastructureRef: { kind: 'VSphereCluster', name: 'wc1' } })],
      vsphereClusters: [vsphereCluster('wc1', { server: 'vc1.example.com' })],
      machines: [machine('m1'), machine('m2'), machine('m3'), machine('m4')],
      vsphereVMs: [
        vsphereVM('m1', { datacenter: 'DC0', folder: 'tkg' }),
        vsphereVM('m2', { datacenter: 'DC0', folder: 'tkg' }),
        vsphereVM('m3', { datacenter: 'DC1', folder: 'other' }),
      ],
    }),
  );
  t.is(clusters.length, 1);
  t.deepEqual(clusters[0]!.placement, { vcenter: 'vc1.example.com', datacenter: 'DC0', folder: 'tkg' });
  // A machine without its own placement takes the cluster's.
  t.deepEqual(clusters[0]!.machines.find((m) => m.name === 'm4')!.placement, { vcenter: 'vc1.example.com', datacenter: 'DC0', folder: 'tkg' });
  t.deepEqual(clusters[0]!.machines.find((m) => m.name === 'm3')!.placement, {
    vcenter: 'vc1.example.com',
    datacenter: 'DC1',
    folder: 'other',
  });
});

test("KubeadmControlPlane name: controlPlaneRef, else the KCP labelled with the cluster, else the machines' label", (t) => {
  const cases: Array<[string, Partial<BackupObjects>, string | undefined]> = [
    [
      'controlPlaneRef',
      {
        clusters: [cluster('wc1', { controlPlaneRef: { kind: 'KubeadmControlPlane', name: 'wc1-control-plane' } })],
        kubeadmControlPlanes: [
          obj('KubeadmControlPlane', 'wc1-other', { metadata: { name: 'wc1-other', labels: { 'cluster.x-k8s.io/cluster-name': 'wc1' } } }),
        ],
      },
      'wc1-control-plane',
    ],
    [
      'labelled KCP',
      {
        clusters: [cluster('wc1')],
        kubeadmControlPlanes: [
          obj('KubeadmControlPlane', 'wc1-q8z4t', { metadata: { name: 'wc1-q8z4t', labels: { 'cluster.x-k8s.io/cluster-name': 'wc1' } } }),
        ],
      },
      'wc1-q8z4t',
    ],
    [
      'machine label',
      {
        clusters: [cluster('wc1')],
        machines: [machine('m1', { controlPlane: true, labels: { 'cluster.x-k8s.io/control-plane-name': 'wc1-cp' } })],
      },
      'wc1-cp',
    ],
    ['none', { clusters: [cluster('wc1')] }, undefined],
  ];
  for (const [title, objects, want] of cases) {
    t.is(backedUpClusters(backup(objects))[0]?.controlPlaneName, want, title);
  }
});

test('the management cluster (tkg-system) is left out and reported as excluded; the management label elsewhere is judged', (t) => {
  const objects = backup({
    clusters: [
      cluster('tkg-mgmt', {}, {}, 'tkg-system'),
      cluster('wc1'),
      cluster('labelled', {}, { labels: { 'cluster-role.tkg.tanzu.vmware.com/management': '' } }),
    ],
    machines: [
      machine('mgmt-cp', { cluster: 'tkg-mgmt', namespace: 'tkg-system', controlPlane: true }),
      machine('orphan-in-tkg-system', { cluster: 'old', namespace: 'tkg-system' }),
      machine('wc1-m1'),
      machine('labelled-m1', { cluster: 'labelled' }),
    ],
  });
  const clusters = backedUpClusters(objects);
  t.deepEqual(
    clusters.map((c) => `${c.namespace}/${c.name}:${c.machines.map((m) => m.name).join(',')}`),
    ['default/labelled:labelled-m1', 'default/wc1:wc1-m1'],
  );
  const excluded = excludedManagementClusters(objects);
  t.deepEqual(
    excluded.map((e) => `${e.namespace}/${e.name}`),
    ['tkg-system/old', 'tkg-system/tkg-mgmt'],
  );
  t.regex(
    misplacedManagementLabel('default', 'labelled', { 'cluster-role.tkg.tanzu.vmware.com/management': '' })!,
    /judged like any workload cluster/,
  );
  t.is(misplacedManagementLabel('tkg-system', 'tkg-mgmt', { 'cluster-role.tkg.tanzu.vmware.com/management': '' }), undefined);
  t.regex(excluded[0]!.reason, /management cluster/);
});

test('machines whose Cluster is not in the backup appear under a synthetic cluster', (t) => {
  const clusters = backedUpClusters(
    backup({
      clusters: [cluster('wc1')],
      machines: [
        machine('wc1-m1'),
        machine('gone-m1', { cluster: 'gone', controlPlane: true, labels: { 'cluster.x-k8s.io/control-plane-name': 'gone-control-plane' } }),
        machine('gone-m2', { cluster: 'gone' }),
      ],
      vsphereClusters: [vsphereCluster('gone', { server: 'vc1.example.com' })],
    }),
  );
  t.deepEqual(
    clusters.map((c) => [c.name, c.synthetic ?? false, c.machines.length]),
    [
      ['gone', true, 2],
      ['wc1', false, 1],
    ],
  );
  const gone = clusters[0]!;
  t.is(gone.controlPlaneName, 'gone-control-plane');
  t.deepEqual(gone.placement, { vcenter: 'vc1.example.com' });
});

test('output is sorted and does not depend on input order', (t) => {
  const objects = backup({
    clusters: [cluster('b'), cluster('a'), cluster('a', {}, {}, 'ns0')],
    machines: [machine('z', { cluster: 'a' }), machine('y', { cluster: 'a' }), machine('x', { cluster: 'b' })],
  });
  const reversed = backup({ clusters: [...objects.clusters].reverse(), machines: [...objects.machines].reverse() });
  const shape = (o: BackupObjects) => backedUpClusters(o).map((c) => `${c.namespace}/${c.name}:${c.machines.map((m) => m.name).join(',')}`);
  t.deepEqual(shape(objects), ['default/a:y,z', 'default/b:x', 'ns0/a:']);
  t.deepEqual(shape(reversed), shape(objects));
});

test('bad objects give a BackupError naming the object and field', (t) => {
  const noCluster = t.throws(() => backedUpClusters(backup({ machines: [machine('m1', { byLabel: false, cluster: '' })] })), {
    instanceOf: BackupError,
  });
  t.is(
    noCluster?.message,
    '/backups/b1.tar.gz: Machine default/m1: no cluster: neither label cluster.x-k8s.io/cluster-name nor spec.clusterName is set',
  );

  const badServer = t.throws(
    () => backedUpClusters(backup({ machines: [machine('m1')], vsphereVMs: [vsphereVM('m1', { server: 'https://' })] })),
    { instanceOf: BackupError },
  );
  t.is(badServer?.message, '/backups/b1.tar.gz: VSphereVM default/m1: spec.server "https://" is not a vCenter address');
});

// ---------------------------------------------------------------------------------------------
// vCenters and credentials

test("vcenterTargetsOf: every vCenter named, with thumbprint and the credentials' origin", (t) => {
  const objects = backup({
    clusters: [cluster('wc1'), cluster('wc2', {}, {}, 'team-b'), cluster('wc3')],
    vsphereClusters: [
      vsphereCluster('wc1', { server: 'vc1.example.com', thumbprint: 'AA:BB', identityRef: { kind: 'Secret', name: 'wc1' } }),
      vsphereCluster(
        'wc2',
        { server: 'https://VC2.example.com/sdk', identityRef: { kind: 'VSphereClusterIdentity', name: 'shared' } },
        'team-b',
      ),
      vsphereCluster('wc3', { server: 'vc3.example.com' }),
    ],
    vsphereVMs: [vsphereVM('m1', { server: 'vc2.example.com', thumbprint: 'CC:DD' }), vsphereVM('m2', { server: 'vc4.example.com:8443' })],
    vsphereClusterIdentities: [obj('VSphereClusterIdentity', 'shared', { namespace: null, spec: { secretName: 'shared-creds' } })],
    secrets: [
      secret('default', 'wc1', { username: 'user1', password: 'pw1' }),
      secret('capv-system', 'shared-creds', { username: 'user2', password: 'pw2' }),
      secret('capv-system', 'capv-manager-bootstrap-credentials', { 'credentials.yaml': "username: 'global-user'\npassword: 'p@ss: word'\n" }),
    ],
  });
  const targets = vcenterTargetsOf(objects);
  t.deepEqual(targets, [
    {
      vcenter: 'vc1.example.com',
      server: 'vc1.example.com',
      thumbprint: 'AA:BB',
      credentials: { username: 'user1', password: 'pw1' },
      credentialsFrom: 'secret default/wc1',
    },
    {
      vcenter: 'vc2.example.com',
      server: 'https://VC2.example.com/sdk',
      thumbprint: 'CC:DD',
      credentials: { username: 'user2', password: 'pw2' },
      credentialsFrom: 'VSphereClusterIdentity shared (secret capv-system/shared-creds)',
    },
    {
      vcenter: 'vc3.example.com',
      server: 'vc3.example.com',
      credentials: { username: 'global-user', password: 'p@ss: word' },
      credentialsFrom: 'secret capv-system/capv-manager-bootstrap-credentials',
    },
    {
      vcenter: 'vc4.example.com:8443',
      server: 'vc4.example.com:8443',
      credentials: { username: 'global-user', password: 'p@ss: word' },
      credentialsFrom: 'secret capv-system/capv-manager-bootstrap-credentials',
    },
  ]);
});

test('vcenterTargetsOf: without usable credentials, says why without any secret value', (t) => {
  const targets = vcenterTargetsOf(
    backup({
      vsphereClusters: [vsphereCluster('wc1', { server: 'vc1.example.com', identityRef: { kind: 'Secret', name: 'missing' } })],
      secrets: [
        secret('capv-system', 'capv-manager-bootstrap-credentials', { 'credentials.yaml': "username: 'u'\npassword: [unclosed s3cret" }),
      ],
    }),
  );
  t.is(targets.length, 1);
  t.is(targets[0]!.credentials, undefined);
  t.is(
    targets[0]!.credentialsProblem,
    'no vSphere credentials in the backup: secret default/missing is not in the backup; ' +
      'secret capv-system/capv-manager-bootstrap-credentials: credentials.yaml is not valid YAML',
  );
  t.false(JSON.stringify(targets).includes('s3cret'));
});

test("vcenterTargetsOf: a workload cluster's identity wins over the management cluster's on the same vCenter", (t) => {
  const targets = vcenterTargetsOf(
    backup({
      vsphereClusters: [
        vsphereCluster('tkg-mgmt', { server: 'vc1.example.com', identityRef: { kind: 'Secret', name: 'tkg-mgmt' } }, 'tkg-system'),
        vsphereCluster('wc1', { server: 'vc1.example.com', identityRef: { kind: 'Secret', name: 'wc1' } }, 'ns1'),
      ],
      secrets: [
        secret('tkg-system', 'tkg-mgmt', { username: 'mgmt', password: 'pw' }),
        secret('ns1', 'wc1', { username: 'wl', password: 'pw' }),
      ],
    }),
  );
  t.is(targets[0]!.credentialsFrom, 'secret ns1/wc1');
});

test('kubeconfigOf decodes the value of <cluster>-kubeconfig', (t) => {
  const objects = backup({
    secrets: [secret('ns1', 'wc1-kubeconfig', { value: 'apiVersion: v1\nkind: Config\n' }), secret('ns1', 'wc1', { value: 'no' })],
  });
  t.is(kubeconfigOf(objects, 'ns1', 'wc1'), 'apiVersion: v1\nkind: Config\n');
  t.is(kubeconfigOf(objects, 'ns2', 'wc1'), undefined);
  t.is(kubeconfigOf(objects, 'ns1', 'wc2'), undefined);
});
