/** The fixture builder writes what Velero writes, and what it says it wrote matches what the reader finds. */
import test from 'ava';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { readBackup } from '../../src/backup/reader.js';
import { backedUpClusters } from '../../src/backup/topology.js';
import { vcenterTargetsOf } from '../../src/backup/vcenter-targets.js';
import { excludedManagementClusters, kubeconfigOf } from '../../src/backup/workload-clusters.js';
import { buildBackup, relativeFolder, relativeResourcePool, seedVMsFor, type BackupDescription } from '../fixtures/builder.js';
import { scratchDir, VCENTER } from './helpers.js';

const scratch = await scratchDir();
test.after.always(() => scratch.remove());

interface Entry {
  name: string;
  type: string;
  mode: number;
  body: string;
}

async function entriesOf(path: string, gzip = true): Promise<Entry[]> {
  const extract = tarExtract();
  const entries: Entry[] = [];
  extract.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => {
      parts.push(c as Buffer);
    });
    stream.on('end', () => {
      entries.push({ name: header.name, type: header.type, mode: header.mode, body: Buffer.concat(parts).toString() });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  const file = createReadStream(path);
  (gzip ? file.pipe(createGunzip()) : file).pipe(extract);
  await done;
  return entries;
}

const DESCRIPTION: BackupDescription = {
  clusters: [
    { name: 'wc1', vcenter: VCENTER, controlPlane: 3, workers: 2, kubeconfig: 'apiVersion: v1\nkind: Config\n' },
    {
      name: 'wc2',
      namespace: 'team-b',
      classBased: true,
      vcenter: { server: 'https://vc02.example.com/sdk', datacenter: 'DC1', folder: 'workloads/team-b', username: 'svc-b', password: 'pw-b' },
      controlPlane: [
        { name: 'wc2-cp-given', biosUuid: '4200AAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE', instanceUuid: '11111111-2222-4333-8444-555555555555' },
      ],
      workers: 1,
    },
  ],
  managementCluster: true,
};

test('layout: regular files with relative paths, version first, each item plain and preferred-version, compact JSON', async (t) => {
  const path = scratch.path('layout.tar.gz');
  await buildBackup(DESCRIPTION, { path });
  const entries = await entriesOf(path);

  t.deepEqual(entries[0], { name: 'metadata/version', type: 'file', mode: 0o755, body: '1.1.0\n' });
  for (const e of entries) {
    t.is(e.type, 'file', e.name);
    t.is(e.mode, 0o755, e.name);
    t.false(e.name.startsWith('/') || e.name.startsWith('./'), e.name);
  }
  const byName = new Map(entries.map((e) => [e.name, e.body]));
  const items = entries.filter((e) => e.name.startsWith('resources/') && !e.name.includes('-preferredversion/'));
  t.true(items.length > 50);
  for (const item of items) {
    const [, resource, ...rest] = item.name.split('/');
    const version =
      resource === 'secrets' || !resource!.includes('.') || resource === 'deployments.apps' || resource!.endsWith('apiextensions.k8s.io')
        ? 'v1'
        : 'v1beta1';
    t.is(byName.get(`resources/${resource}/${version}-preferredversion/${rest.join('/')}`), item.body, item.name);
    t.is(item.body, JSON.stringify(JSON.parse(item.body)), `${item.name} is compact JSON`);
  }
  for (const name of [
    'resources/clusters.cluster.x-k8s.io/namespaces/default/wc1.json',
    'resources/secrets/v1-preferredversion/namespaces/default/wc1.json',
    'resources/secrets/namespaces/default/wc1-kubeconfig.json',
    'resources/secrets/namespaces/capv-system/capv-manager-bootstrap-credentials.json',
    'resources/kubeadmcontrolplanes.controlplane.cluster.x-k8s.io/namespaces/default/wc1-control-plane.json',
    'resources/machinedeployments.cluster.x-k8s.io/namespaces/default/wc1-md-0.json',
    'resources/namespaces/cluster/kube-system.json',
    'resources/customresourcedefinitions.apiextensions.k8s.io/v1-preferredversion/cluster/clusters.cluster.x-k8s.io.json',
    'resources/deployments.apps/v1-preferredversion/namespaces/kube-system/filler-controller-1.json',
    'resources/namespaces/v1-preferredversion/cluster/team-b.json',
    'resources/clusters.cluster.x-k8s.io/namespaces/tkg-system/tkg-mgmt.json',
  ]) {
    t.true(byName.has(name), name);
  }
});

test('options: plain tar without preferred-version copies', async (t) => {
  const path = scratch.path('plain.tar');
  await buildBackup(DESCRIPTION, { path, gzip: false, preferredVersion: false });
  const entries = await entriesOf(path, false);
  t.false(entries.some((e) => e.name.includes('-preferredversion/')));
  t.true(entries.some((e) => e.name === 'resources/machines.cluster.x-k8s.io/namespaces/default/' + e.name.split('/').pop()));
});

test('TKG names, and what the builder reports matches what the reader and topology find', async (t) => {
  const path = scratch.path('roundtrip.tar.gz');
  const built = await buildBackup(DESCRIPTION, { path });
  const objects = await readBackup(fileBackupSource(path));
  const clusters = backedUpClusters(objects);

  const [wc1, wc2, mgmt] = built.clusters;
  t.is(wc1!.controlPlaneName, 'wc1-control-plane');
  t.is(wc1!.machineDeploymentName, 'wc1-md-0');
  t.regex(wc2!.controlPlaneName, /^wc2-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.regex(wc2!.machineDeploymentName, /^wc2-md-0-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  for (const m of wc1!.machines) {
    t.regex(m.name, m.controlPlane ? /^wc1-control-plane-[a-z0-9]{5}$/ : /^wc1-md-0-[a-z0-9]{10}-[a-z0-9]{5}$/);
  }
  t.true(mgmt!.management);

  // The management cluster is built but left out of the analysis.
  t.deepEqual(
    excludedManagementClusters(objects).map((e) => e.name),
    ['tkg-mgmt'],
  );
  t.deepEqual(
    clusters.map((c) => `${c.namespace}/${c.name}`),
    ['default/wc1', 'team-b/wc2'],
  );
  for (const [builtCluster, cluster] of [
    [wc1!, clusters[0]!],
    [wc2!, clusters[1]!],
  ] as const) {
    t.is(cluster.controlPlaneName, builtCluster.controlPlaneName);
    t.is(cluster.placement.vcenter, builtCluster.vcenter);
    t.deepEqual(
      cluster.machines.map((m) => ({
        name: m.vmName,
        controlPlane: m.controlPlane,
        biosUuid: m.biosUuid,
        instanceUuid: m.instanceUuid,
        vcenter: m.placement.vcenter,
        datacenter: m.placement.datacenter,
        folder: m.placement.folder,
        resourcePool: m.placement.resourcePool,
      })),
      [...builtCluster.machines]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((m) => ({
          name: m.name,
          controlPlane: m.controlPlane,
          biosUuid: m.biosUuid,
          instanceUuid: m.instanceUuid,
          vcenter: m.vcenter,
          datacenter: m.datacenter,
          folder: m.folder,
          resourcePool: m.resourcePool,
        })),
    );
  }
  t.deepEqual(wc2!.machines[0]!.biosUuid, '4200aaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  t.is(wc2!.machines[0]!.name, 'wc2-cp-given');

  t.is(kubeconfigOf(objects, 'default', 'wc1'), 'apiVersion: v1\nkind: Config\n');
  t.is(kubeconfigOf(objects, 'team-b', 'wc2'), undefined);
  const targets = vcenterTargetsOf(objects);
  t.deepEqual(
    targets.map((v) => [v.vcenter, v.thumbprint, v.credentials?.username, v.credentialsFrom]),
    [
      ['vc01.example.com', VCENTER.thumbprint, VCENTER.username, 'secret default/wc1'],
      ['vc02.example.com', undefined, 'svc-b', 'secret capv-system/capv-manager-bootstrap-credentials'],
    ],
  );
  t.is(targets[1]!.credentials?.password, 'pw-b');
});

test('providerIDs: false and omitBiosUuid leave the machine without a BIOS UUID', async (t) => {
  const path = scratch.path('no-bios.tar.gz');
  await buildBackup(
    { clusters: [{ name: 'wc1', vcenter: VCENTER, controlPlane: [{ omitBiosUuid: true }], workers: [{}], providerIDs: false }] },
    { path },
  );
  const [cluster] = backedUpClusters(await readBackup(fileBackupSource(path)));
  t.deepEqual(
    cluster!.machines.map((m) => [m.controlPlane, m.biosUuid !== undefined, m.instanceUuid !== undefined]),
    [
      [true, false, true],
      [false, true, true],
    ],
  );
});

test('the same description and seed give the same backup; another seed gives other names and UUIDs', async (t) => {
  const a = await buildBackup(DESCRIPTION, { path: scratch.path('seed-a1.tar.gz') });
  const b = await buildBackup(DESCRIPTION, { path: scratch.path('seed-a2.tar.gz') });
  const c = await buildBackup({ ...DESCRIPTION, seed: 'other' }, { path: scratch.path('seed-c.tar.gz') });
  t.deepEqual(a.clusters, b.clusters);
  t.deepEqual(await entriesOf(a.path), await entriesOf(b.path));
  t.notDeepEqual(
    a.clusters[0]!.machines.map((m) => m.name),
    c.clusters[0]!.machines.map((m) => m.name),
  );
  t.notDeepEqual(
    a.clusters[0]!.machines.map((m) => m.biosUuid),
    c.clusters[0]!.machines.map((m) => m.biosUuid),
  );
});

test("seedVMsFor: the backup's VMs per datacenter, with CAPV metadata, management cluster left out", async (t) => {
  const built = await buildBackup(DESCRIPTION, { path: scratch.path('seed.tar.gz') });
  const seed = seedVMsFor(built);
  t.deepEqual(
    seed.map((d) => [d.name, d.folders, d.resourcePools, d.vms.length]),
    [
      ['DC0', ['tkg'], ['tkg'], 5],
      ['DC1', ['workloads', 'workloads/team-b'], [], 2],
    ],
  );
  const vm = seed[0]!.vms[0]!;
  const machine = built.clusters[0]!.machines[0]!;
  t.deepEqual(vm, {
    name: machine.name,
    uuid: machine.biosUuid,
    instanceUuid: machine.instanceUuid,
    folder: 'tkg',
    resourcePool: 'tkg',
    powerState: 'poweredOn',
    extraConfig: {
      'guestinfo.metadata': Buffer.from(
        `instance-id: "${machine.name}"\nlocal-hostname: "${machine.name}"\nwait-on-network:\n  ipv4: true\n`,
      ).toString('base64'),
      'guestinfo.metadata.encoding': 'base64',
    },
  });
  t.is(seedVMsFor(built, { includeManagement: true })[0]!.vms.length, 7);
  t.deepEqual(
    seedVMsFor(built, { vcenter: 'https://vc02.example.com' }).map((d) => d.name),
    ['DC1'],
  );
});

test('relativeFolder and relativeResourcePool', (t) => {
  const folders: Array<[string | undefined, string | undefined]> = [
    ['/DC0/vm/tkg', 'tkg'],
    ['/DC0/vm/tkg/wl/', 'tkg/wl'],
    ['/DC0/vm', undefined],
    ['tkg', 'tkg'],
    [undefined, undefined],
  ];
  for (const [input, want] of folders) t.is(relativeFolder('DC0', input), want, String(input));
  const pools: Array<[string | undefined, string | undefined]> = [
    ['/DC0/host/DC0_C0/Resources/tkg', 'tkg'],
    ['/DC0/host/DC0_C0/Resources', undefined],
    ['/DC0/host/DC0_C0/Resources/a/b', 'a/b'],
    ['tkg', 'tkg'],
  ];
  for (const [input, want] of pools) t.is(relativeResourcePool('DC0', input), want, String(input));
});
