/** Metadata fields of the wrong type fail by entry and field, never as a raw TypeError. */
import test from 'ava';
import { readBackup } from '../../src/backup/reader.js';
import { streamedSource } from '../backup/helpers.js';

const ENTRY = 'resources/machines.cluster.x-k8s.io/namespaces/default/m1.json';

for (const [field, metadata, message] of [
  [
    'a numeric label value',
    { name: 'm1', labels: { 'cluster.x-k8s.io/cluster-name': 7 } },
    /metadata\.labels\["cluster\.x-k8s\.io\/cluster-name"\] is a number, not a string/,
  ],
  ['a numeric uid', { name: 'm1', uid: 12 }, /metadata\.uid is a number, not a string/],
  ['a numeric namespace', { name: 'm1', namespace: 3 }, /metadata\.namespace is a number, not a string/],
  ['labels as a list', { name: 'm1', labels: ['a'] }, /metadata\.labels is a list, not a map/],
] as const) {
  test(`${field} names the entry and the field`, async (t) => {
    const body = JSON.stringify({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Machine', metadata });
    const err = await t.throwsAsync(readBackup(streamedSource('typed.tar', [{ name: ENTRY, body }])));
    t.is(err.name, 'BackupError');
    t.true(err.message.startsWith(`typed.tar: ${ENTRY}: `), err.message);
    t.regex(err.message, message);
  });
}
