/**
 * A field the analysis reads, of the wrong type, fails by entry and field, never as a raw
 * TypeError nor taken silently for an absent field; `serve` answers INVALID_ARGUMENT with the same words.
 */
import test from 'ava';
import { status, type ServiceError } from '@grpc/grpc-js';
import { readBackup } from '../../src/backup/reader.js';
import { streamedSource } from '../backup/helpers.js';
import { call, startTestService } from '../grpc/helpers.js';
import { bytesSource, CLUSTER, gzipTar, MACHINE, VSPHERE_CLUSTER, VSPHERE_VM, withObject } from './hostile-backup.js';

const ENTRY = 'resources/machines.cluster.x-k8s.io/namespaces/default/m1.json';

for (const [field, metadata, message] of [
  [
    'a numeric label value',
    { name: 'm1', labels: { 'cluster.x-k8s.io/cluster-name': 7 } },
    /metadata\.labels\["cluster\.x-k8s\.io\/cluster-name"\] is a number, not a string/,
  ],
  ['a numeric uid', { name: 'm1', uid: 12 }, /metadata\.uid is a number, not a string/],
  ['a numeric namespace', { name: 'm1', namespace: 3 }, /metadata\.namespace is a number, not a string/],
  ['a numeric name', { name: 5 }, /metadata\.name is a number, not a string/],
  ['labels as a list', { name: 'm1', labels: ['a'] }, /metadata\.labels is a list, not a map/],
  ['an annotation that is a map', { name: 'm1', annotations: { a: { b: 1 } } }, /metadata\.annotations\["a"\] is a map, not a string/],
  ['owners as a string', { name: 'm1', ownerReferences: 'x' }, /metadata\.ownerReferences is a string, not a list/],
  [
    'an owner kind that is a number',
    { name: 'm1', ownerReferences: [{ kind: 3, name: 'a' }] },
    /metadata\.ownerReferences\[0\]\.kind is a number/,
  ],
] as const) {
  test(`${field} names the entry and the field`, async (t) => {
    const body = JSON.stringify({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Machine', metadata });
    const err = await t.throwsAsync(readBackup(streamedSource('typed.tar', [{ name: ENTRY, body }])));
    t.is(err.name, 'BackupError');
    t.true(err.message.startsWith(`typed.tar: ${ENTRY}: `), err.message);
    t.regex(err.message, message);
  });
}

/** Spec fields the analysis reads, per kind, set to a value of the wrong type in the example backup. */
const SPEC_CASES: Array<[entry: string, path: string[], value: unknown, message: string]> = [
  [VSPHERE_VM, ['spec', 'biosUUID'], 42, 'spec.biosUUID is a number, not a string'],
  [VSPHERE_VM, ['spec', 'server'], { host: 'vc' }, 'spec.server is a map, not a string'],
  [VSPHERE_VM, ['spec', 'datacenter'], ['/dc'], 'spec.datacenter is a list, not a string'],
  [VSPHERE_VM, ['spec', 'folder'], 1, 'spec.folder is a number, not a string'],
  [VSPHERE_VM, ['spec', 'resourcePool'], true, 'spec.resourcePool is a boolean, not a string'],
  [VSPHERE_VM, ['spec'], 'x', 'spec is a string, not a map'],
  [MACHINE, ['spec', 'providerID'], 5, 'spec.providerID is a number, not a string'],
  [MACHINE, ['spec', 'infrastructureRef'], 'vm', 'spec.infrastructureRef is a string, not a map (kind, name, namespace)'],
  [MACHINE, ['spec', 'infrastructureRef', 'name'], 5, 'spec.infrastructureRef.name is a number, not a string'],
  [MACHINE, ['spec', 'clusterName'], 5, 'spec.clusterName is a number, not a string'],
  [MACHINE, ['spec', 'bootstrap', 'dataSecretName'], [], 'spec.bootstrap.dataSecretName is a list, not a string'],
  [CLUSTER, ['spec', 'controlPlaneRef'], 5, 'spec.controlPlaneRef is a number, not a map (kind, name, namespace)'],
  [CLUSTER, ['spec', 'infrastructureRef', 'kind'], false, 'spec.infrastructureRef.kind is a boolean, not a string'],
  [VSPHERE_CLUSTER, ['spec', 'thumbprint'], 5, 'spec.thumbprint is a number, not a string'],
  [VSPHERE_CLUSTER, ['spec', 'identityRef'], [1], 'spec.identityRef is a list, not a map (kind, name, namespace)'],
];

function setPath(object: Record<string, any>, path: string[], value: unknown): void {
  let at = object;
  for (const key of path.slice(0, -1)) at = at[key] ??= {};
  at[path.at(-1)!] = value;
}

for (const [entry, path, value, message] of SPEC_CASES) {
  test(`${entry.split('/')[0]!.split('.')[0]} ${path.join('.')} of the wrong type names the entry and the field`, async (t) => {
    const bytes = gzipTar(withObject(entry, (o) => setPath(o, path, value)));
    const err = await t.throwsAsync(readBackup(bytesSource('typed.tar.gz', bytes)));
    t.is(err.message, `typed.tar.gz: resources/${entry}: ${message}`);
  });
}

test('a Secret the analysis reads with a data value that is not a string names the entry and the key', async (t) => {
  const entry = 'secrets/v1-preferredversion/namespaces/capv-system/capv-manager-bootstrap-credentials.json';
  const bytes = gzipTar(withObject(entry, (o) => setPath(o, ['data', 'credentials.yaml'], 5)));
  const err = await t.throwsAsync(readBackup(bytesSource('typed.tar.gz', bytes)));
  t.is(err.message, `typed.tar.gz: resources/${entry}: data["credentials.yaml"] is a number, not a string`);
});

test('a Secret the analysis does not read may be broken', async (t) => {
  const bytes = gzipTar(
    withObject('secrets/v1-preferredversion/namespaces/production/prod-payments-control-plane-gtd2l.json', (o) =>
      setPath(o, ['data', 'value'], 5),
    ),
  );
  await t.notThrowsAsync(readBackup(bytesSource('ok.tar.gz', bytes)));
});

test('a field the analysis never reads may have any type (Cluster spec.topology)', async (t) => {
  const bytes = gzipTar(withObject(CLUSTER, (o) => setPath(o, ['spec', 'topology'], 'x')));
  await t.notThrowsAsync(readBackup(bytesSource('ok.tar.gz', bytes)));
});

test('serve answers INVALID_ARGUMENT naming the entry and the field, for Detect and Check', async (t) => {
  const bytes = gzipTar(withObject(MACHINE, (o) => setPath(o, ['metadata', 'labels', 'cluster.x-k8s.io/cluster-name'], 7)));
  const service = await startTestService({
    deps: { resolveBackup: (name) => bytesSource(`s3://velero/backups/${name}/${name}.tar.gz`, bytes) },
  });
  t.teardown(() => service.stop());
  for (const method of ['Detect', 'Check']) {
    const err = await t.throwsAsync<ServiceError>(call(service.clients.detector, method, { backup_name: 'b1' }));
    t.is(err.code, status.INVALID_ARGUMENT, err.message);
    t.true(
      err.details.includes(`resources/${MACHINE}: metadata.labels["cluster.x-k8s.io/cluster-name"] is a number, not a string`),
      err.details,
    );
  }
});
