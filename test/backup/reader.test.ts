import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { fileBackupSource } from '../../src/backup/file-source.js';
import { parseItemPath } from '../../src/backup/items.js';
import { BackupError, readBackup } from '../../src/backup/reader.js';
import type { BackupSource } from '../../src/backup/source.js';
import { BACKUP_RESOURCES, type BackupObjects, type BackupResourceKind } from '../../src/model/backup.js';
import {
  buildBackup,
  writeNotAnArchive,
  writeTruncatedCopy,
  writeVeleroTarball,
  type BackupDescription,
  type VeleroItem,
} from '../fixtures/builder.js';
import { scratchDir, streamedSource, VCENTER } from './helpers.js';

const scratch = await scratchDir();
test.after.always(() => scratch.remove());

const KINDS = Object.keys(BACKUP_RESOURCES) as BackupResourceKind[];
const KIND_BY_RESOURCE = new Map(KINDS.map((k) => [BACKUP_RESOURCES[k] as string, k]));

const PLAN_AND_CLASS: BackupDescription = {
  clusters: [
    { name: 'wc1', vcenter: VCENTER, controlPlane: 3, workers: 2, kubeconfig: 'apiVersion: v1\nkind: Config\n' },
    { name: 'wc2', namespace: 'team-b', classBased: true, vcenter: VCENTER, controlPlane: 1, workers: 3, kubeconfig: 'kind: Config\n' },
  ],
  managementCluster: true,
};

function names(objects: BackupObjects, kind: BackupResourceKind): string[] {
  return objects[kind].map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
}

/** The builder's objects of one kind, as the reader should return them. */
function expected(items: VeleroItem[], kind: BackupResourceKind): string[] {
  return items
    .filter((i) => KIND_BY_RESOURCE.get(i.resource) === kind)
    .map((i) => `${i.object.metadata.namespace ?? ''}/${i.object.metadata.name}`)
    .sort();
}

type ThrowsAsync = (p: Promise<unknown>, e: object) => Promise<BackupError>;

async function rejection(t: { throwsAsync: ThrowsAsync }, promise: Promise<unknown>): Promise<BackupError> {
  return await t.throwsAsync(promise, { instanceOf: BackupError });
}

for (const [title, options] of [
  ['gzip', {}],
  ['plain tar', { gzip: false }],
  ['without preferred-version copies', { preferredVersion: false }],
] as const) {
  test(`reads each object of a plan- and class-based backup once (${title})`, async (t) => {
    const path = scratch.path(`backup-${title.replace(/\W+/g, '-')}.tar`);
    const backup = await buildBackup(PLAN_AND_CLASS, { ...options, path });
    const objects = await readBackup(fileBackupSource(path));

    t.is(objects.source, path);
    t.is(objects.formatVersion, '1.1.0');
    for (const kind of KINDS) {
      if (kind === 'secrets') continue;
      t.deepEqual(names(objects, kind), expected(backup.items, kind), kind);
    }
    const machine = backup.items.find((i) => i.resource === BACKUP_RESOURCES.machines)!.object;
    const read = objects.machines.find((m) => m.metadata.name === machine.metadata.name);
    t.deepEqual(read, machine as unknown);
    t.is(objects.machines.length, 3 + 2 + 1 + 3 + 2);
  });
}

test('keeps only the Secrets the analysis needs, without annotations', async (t) => {
  const path = scratch.path('secrets.tar.gz');
  const identity: VeleroItem[] = [
    {
      resource: BACKUP_RESOURCES.vsphereClusterIdentities,
      object: {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
        kind: 'VSphereClusterIdentity',
        metadata: { name: 'shared' },
        spec: { secretName: 'shared-creds' },
      },
    },
    {
      resource: 'secrets',
      object: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'shared-creds', namespace: 'capv-system' },
        data: { username: 'dQ==', password: 'cA==' },
      },
    },
    {
      resource: 'secrets',
      object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated', namespace: 'capv-system' }, data: { token: 'dA==' } },
    },
  ];
  await buildBackup({ ...PLAN_AND_CLASS, extra: identity }, { path });
  const objects = await readBackup(fileBackupSource(path));

  t.deepEqual(names(objects, 'secrets'), [
    'capv-system/capv-manager-bootstrap-credentials', // class-based clusters' global credentials
    'capv-system/shared-creds', // VSphereClusterIdentity.spec.secretName
    'default/wc1', // identityRef of VSphereCluster wc1
    'default/wc1-kubeconfig',
    'team-b/wc2-kubeconfig',
    'tkg-system/tkg-mgmt', // identityRef of the management cluster
  ]);
  const identitySecret = objects.secrets.find((s) => s.metadata.name === 'wc1')!;
  t.is(identitySecret.metadata.annotations, undefined, 'last-applied-configuration repeats the password');
  t.is(Buffer.from(identitySecret.data!['password']!, 'base64').toString(), VCENTER.password!);
});

test('an object under the plain path and the preferred-version path is one object; the preferred copy wins', async (t) => {
  const machine = (variant: string, name?: string): VeleroItem['object'] => ({
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Machine',
    metadata: { name: name ?? 'm1', namespace: 'default', labels: { 'cluster.x-k8s.io/cluster-name': 'wc1', variant } },
    spec: { clusterName: 'wc1' },
  });
  const dir = BACKUP_RESOURCES.machines;
  const entry = (path: string, variant: string, name?: string) => ({ path, content: JSON.stringify(machine(variant, name)) });
  const cases: Array<[string, ReturnType<typeof entry>[], Record<string, string>]> = [
    [
      'plain first',
      [
        entry(`resources/${dir}/namespaces/default/m1.json`, 'plain'),
        entry(`resources/${dir}/v1beta1-preferredversion/namespaces/default/m1.json`, 'preferred'),
      ],
      { m1: 'preferred' },
    ],
    [
      'preferred first',
      [
        entry(`resources/${dir}/v1beta1-preferredversion/namespaces/default/m1.json`, 'preferred'),
        entry(`resources/${dir}/namespaces/default/m1.json`, 'plain'),
      ],
      { m1: 'preferred' },
    ],
    [
      'EnableAPIGroupVersions copy is ignored when the object exists otherwise',
      [
        entry(`resources/${dir}/v1alpha4/namespaces/default/m1.json`, 'other-version'),
        entry(`resources/${dir}/namespaces/default/m1.json`, 'plain'),
        entry(`resources/${dir}/v1beta1-preferredversion/namespaces/default/m1.json`, 'preferred'),
        entry(`resources/${dir}/v1alpha4/namespaces/default/m2.json`, 'only-copy', 'm2'),
      ],
      { m1: 'preferred', m2: 'only-copy' },
    ],
    [
      'leading ./ in entry names',
      [
        entry(`./resources/${dir}/namespaces/default/m1.json`, 'plain'),
        entry(`./resources/${dir}/v1beta1-preferredversion/namespaces/default/m1.json`, 'preferred'),
      ],
      { m1: 'preferred' },
    ],
  ];
  for (const [title, entries, want] of cases) {
    const path = scratch.path(`dedupe-${title.replace(/\W+/g, '-')}.tar.gz`);
    await writeVeleroTarball(path, entries);
    const objects = await readBackup(fileBackupSource(path));
    const got = Object.fromEntries(objects.machines.map((m) => [m.metadata.name, m.metadata.labels!['variant']!]));
    t.deepEqual(got, want, title);
  }
});

test('entries of other resources are skipped without being parsed', async (t) => {
  const path = scratch.path('unrelated-broken.tar.gz');
  await buildBackup(
    {
      clusters: [{ name: 'wc1', vcenter: VCENTER, controlPlane: 1, workers: 1 }],
      extra: [
        { path: 'resources/configmaps/namespaces/default/broken.json', content: '{ this is not json' },
        { path: 'resources/vspheremachinetemplates.infrastructure.cluster.x-k8s.io/namespaces/default/broken.json', content: '[' },
        // A Secret nobody needs is dropped unparsed too.
        { path: 'resources/secrets/namespaces/default/not-needed.json', content: 'garbage' },
        { path: 'resources/machines.cluster.x-k8s.io/namespaces/default/odd/layout/x.json', content: 'not an item path' },
        { path: 'velero-backup.json', content: 'not json either' },
      ],
    },
    { path },
  );
  const objects = await readBackup(fileBackupSource(path));
  t.is(objects.machines.length, 2);
  t.false(objects.secrets.some((s) => s.metadata.name === 'not-needed'));
});

test('parseItemPath follows the Velero layout', (t) => {
  const table: Array<[string, ReturnType<typeof parseItemPath>]> = [
    ['resources/machines.cluster.x-k8s.io/namespaces/ns1/m.json', { kind: 'machines', rank: 1, namespace: 'ns1', name: 'm' }],
    [
      'resources/machines.cluster.x-k8s.io/v1beta1-preferredversion/namespaces/ns1/m.json',
      { kind: 'machines', rank: 2, namespace: 'ns1', name: 'm' },
    ],
    ['resources/machines.cluster.x-k8s.io/v1alpha4/namespaces/ns1/m.json', { kind: 'machines', rank: 0, namespace: 'ns1', name: 'm' }],
    [
      'resources/vsphereclusteridentities.infrastructure.cluster.x-k8s.io/cluster/id.json',
      { kind: 'vsphereClusterIdentities', rank: 1, namespace: undefined, name: 'id' },
    ],
    ['resources/secrets/v1-preferredversion/namespaces/ns1/a.b.json', { kind: 'secrets', rank: 2, namespace: 'ns1', name: 'a.b' }],
    ['resources/configmaps/namespaces/ns1/c.json', undefined],
    ['resources/machines.cluster.x-k8s.io/namespaces/ns1/m.yaml', undefined],
    ['resources/machines.cluster.x-k8s.io/namespaces/ns1', undefined],
    ['metadata/version', undefined],
  ];
  for (const [path, want] of table) t.deepEqual(parseItemPath(path), want, path);
});

// ---------------------------------------------------------------------------------------------
// Bad input

const SMALL: BackupDescription = { clusters: [{ name: 'wc1', vcenter: VCENTER, controlPlane: 1, workers: 1 }] };

test('a file that is neither gzip nor tar', async (t) => {
  const path = scratch.path('not-an-archive.txt');
  await writeNotAnArchive(path);
  const err = await rejection(t, readBackup(fileBackupSource(path)));
  t.is(err.source, path);
  t.is(err.message, `${path}: not a gzip or tar archive`);

  const tiny = scratch.path('tiny.txt');
  await writeNotAnArchive(tiny, 'hello');
  t.is((await rejection(t, readBackup(fileBackupSource(tiny)))).message, `${tiny}: not a gzip or tar archive`);

  const empty = scratch.path('empty.tar.gz');
  await writeFile(empty, '');
  t.regex((await rejection(t, readBackup(fileBackupSource(empty)))).message, /: the file is empty/);
});

test('gzip data that is not a tar archive', async (t) => {
  const path = scratch.path('json.gz');
  await writeFile(path, gzipSync(JSON.stringify({ hello: 'world' }).repeat(100)));
  const err = await rejection(t, readBackup(fileBackupSource(path)));
  t.is(err.message, `${path}: the gzip data is not a tar archive`);
});

test('a truncated archive names the file and the entry where it ends', async (t) => {
  for (const gzip of [true, false]) {
    const full = scratch.path(`full.${gzip ? 'tar.gz' : 'tar'}`);
    const cut = scratch.path(`cut.${gzip ? 'tar.gz' : 'tar'}`);
    await buildBackup(SMALL, { path: full, gzip });
    // Cut inside an entry's body: in a plain tar, past the first header and not on a block boundary.
    await writeTruncatedCopy(full, cut, gzip ? { fraction: 0.6 } : 512 * 7 + 100);
    const err = await rejection(t, readBackup(fileBackupSource(cut)));
    t.is(err.source, cut);
    t.truthy(err.entry, `${gzip}: ${err.message}`);
    t.true(err.message.startsWith(`${cut}: ${err.entry}: truncated archive`), err.message);
  }
});

test('a kept entry that is not JSON, or not an object with metadata.name', async (t) => {
  const entry = 'resources/machines.cluster.x-k8s.io/namespaces/default/broken.json';
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"metadata": {"name": ', /entry is not valid JSON/],
    ['an array', '[1, 2]', /entry is not a JSON object/],
    ['no metadata', '{"kind": "Machine"}', /object has no metadata$/],
    ['no name', '{"kind": "Machine", "metadata": {"namespace": "default"}}', /object has no metadata.name/],
  ];
  for (const [title, content, reason] of cases) {
    const path = scratch.path(`bad-${title.replace(/\W+/g, '-')}.tar.gz`);
    await buildBackup({ ...SMALL, extra: [{ path: entry, content }] }, { path });
    const err = await rejection(t, readBackup(fileBackupSource(path)));
    t.is(err.entry, entry, title);
    t.true(err.message.startsWith(`${path}: ${entry}: `), err.message);
    t.regex(err.message, reason, title);
  }
});

test('a needed Secret that is not JSON fails without quoting it', async (t) => {
  const path = scratch.path('bad-secret.tar.gz');
  const entry = 'resources/secrets/namespaces/default/wc1-kubeconfig.json';
  await buildBackup({ ...SMALL, extra: [{ path: entry, content: '{"data": {"value": "top-secret-token"' }] }, { path });
  const err = await rejection(t, readBackup(fileBackupSource(path)));
  t.is(err.entry, entry);
  t.false(err.message.includes('top-secret-token'));
});

test('a backup without Cluster API objects', async (t) => {
  const path = scratch.path('no-capi.tar.gz');
  await buildBackup({ clusters: [] }, { path });
  const err = await rejection(t, readBackup(fileBackupSource(path)));
  t.is(err.message, `${path}: no Cluster API objects (no Cluster, Machine or VSphereVM): not a backup of a TKG management cluster`);
  t.is(err.entry, undefined);
});

test('a missing file', async (t) => {
  const path = scratch.path('does-not-exist.tar.gz');
  const err = await rejection(t, readBackup(fileBackupSource(path)));
  t.regex(err.message, /^.*does-not-exist\.tar\.gz: cannot open the backup: ENOENT/);
});

// ---------------------------------------------------------------------------------------------
// Sources, streaming, abort

test('a source stream that fails midway surfaces as a BackupError naming the source', async (t) => {
  const path = scratch.path('for-failing-source.tar.gz');
  await buildBackup(SMALL, { path });
  const failing: BackupSource = {
    description: 's3://velero/backups/nightly/nightly.tar.gz',
    async open() {
      const stream = new PassThrough();
      const bytes = (await import('node:fs/promises')).readFile(path);
      void bytes.then((b) => {
        stream.write(b.subarray(0, Math.floor(b.length / 2)));
        setImmediate(() => stream.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
      });
      return stream;
    },
  };
  const err = await rejection(t, readBackup(failing));
  t.is(err.message, 's3://velero/backups/nightly/nightly.tar.gz: reading the backup failed: socket hang up');

  const refusing: BackupSource = {
    description: 's3://velero/backups/gone/gone.tar.gz',
    open: () => Promise.reject(new Error('NoSuchKey: The specified key does not exist.')),
  };
  t.is(
    (await rejection(t, readBackup(refusing))).message,
    's3://velero/backups/gone/gone.tar.gz: cannot open the backup: NoSuchKey: The specified key does not exist.',
  );
});

const MACHINE = JSON.stringify({ kind: 'Machine', metadata: { name: 'm1', namespace: 'default' }, spec: { clusterName: 'wc1' } });

test('streams: a bad entry fails the read before the rest of an endless source arrives', async (t) => {
  const source = streamedSource('endless.tar', [
    { name: 'resources/machines.cluster.x-k8s.io/namespaces/default/bad.json', body: '{' },
    { name: 'resources/configmaps/namespaces/default/endless.json', body: { size: 2 ** 33 - 1 } },
  ]);
  const err = await rejection(t, readBackup(source));
  t.is(err.entry, 'resources/machines.cluster.x-k8s.io/namespaces/default/bad.json');
  t.true(source.destroyed(), 'the source stream is released');
});

test('streams: skipped entries of any size pass; a kept entry too large for an object fails', async (t) => {
  const big = { size: 17 * 1024 * 1024 };
  const ok = await readBackup(
    streamedSource('big-filler.tar', [
      { name: 'resources/configmaps/namespaces/default/big.json', body: big },
      { name: 'resources/machines.cluster.x-k8s.io/namespaces/default/m1.json', body: MACHINE },
    ]),
  );
  t.deepEqual(
    ok.machines.map((m) => m.metadata.name),
    ['m1'],
  );

  const err = await rejection(
    t,
    readBackup(
      streamedSource('big-machine.tar', [
        { name: 'resources/machines.cluster.x-k8s.io/namespaces/default/m1.json', body: MACHINE },
        { name: 'resources/machines.cluster.x-k8s.io/namespaces/default/huge.json', body: big },
      ]),
    ),
  );
  t.is(err.entry, 'resources/machines.cluster.x-k8s.io/namespaces/default/huge.json');
  t.regex(err.message, /too large/);
});

test('an abort stops the read and releases the source', async (t) => {
  const source = streamedSource('endless.tar', [
    { name: 'resources/machines.cluster.x-k8s.io/namespaces/default/m1.json', body: MACHINE },
    { name: 'resources/configmaps/namespaces/default/endless.json', body: { size: 2 ** 33 - 1 } },
  ]);
  const controller = new AbortController();
  const reading = readBackup(source, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(reading, { any: true, name: 'AbortError' });
  t.true(source.destroyed());

  await t.throwsAsync(readBackup(source, { signal: AbortSignal.abort() }), { any: true, name: 'AbortError' });
});

test('debug notes never carry secret data', async (t) => {
  const path = scratch.path('debug.tar.gz');
  await buildBackup({ clusters: [{ ...SMALL.clusters[0]!, kubeconfig: 'kubeconfig-with-token-xyz' }] }, { path });
  const notes: string[] = [];
  await readBackup(fileBackupSource(path), { debug: (m) => notes.push(m) });
  t.true(notes.length > 0);
  const all = notes.join('\n');
  for (const secret of [VCENTER.password!, 'kubeconfig-with-token-xyz', Buffer.from(VCENTER.password!).toString('base64')]) {
    t.false(all.includes(secret));
  }
});

test('a source given as any Readable (not a file) works', async (t) => {
  const path = scratch.path('from-memory.tar.gz');
  await buildBackup(SMALL, { path });
  const bytes = await (await import('node:fs/promises')).readFile(path);
  // One byte per chunk: the gzip sniffing must not depend on chunk boundaries.
  const source: BackupSource = {
    description: 'memory',
    open: async () =>
      Readable.from(
        (function* () {
          for (const b of bytes.subarray(0, 4)) yield Buffer.from([b]);
          yield bytes.subarray(4);
        })(),
      ),
  };
  const objects = await readBackup(source);
  t.is(objects.machines.length, 2);
});
