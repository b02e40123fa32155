/**
 * The storage location a Backup names, read from a loopback API server: one read per Backup for
 * the hundreds of items of a restore, a refusal answered from memory for a moment, and a hanging
 * API server never holding the caller past its own abort.
 */
import test from 'ava';
import { clusterBackupLocations } from '../../src/kube/backup-location.js';
import { startFakeKube, type FakeKube } from '../plugin/fake-kube.js';

const NS = 'velero';
const path = (name: string) => `/apis/velero.io/v1/namespaces/${NS}/backups/${name}`;
/** Backup `name` as Velero keeps it, naming `storageLocation` (none: a Backup that names none). */
function putBackup(kube: FakeKube, name: string, storageLocation?: string): void {
  kube.put(path(name), {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: NS },
    spec: storageLocation ? { storageLocation } : {},
  });
}

const reads = (kube: FakeKube, name: string) => kube.requests.filter((r) => r.method === 'GET' && r.path === path(name)).length;

test('the location a Backup names, read once and kept; a Backup naming none is undefined', async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  putBackup(kube, 'b1', 'east');
  putBackup(kube, 'b2');
  const locationOf = clusterBackupLocations({ env: {}, loadConfig: () => Promise.resolve(kube.kubeConfig) });
  const signal = new AbortController().signal;
  const answers = await Promise.all(Array.from({ length: 50 }, () => locationOf(NS, 'b1', signal)));
  t.deepEqual(new Set(answers), new Set(['east']));
  t.is(await locationOf(NS, 'b1', signal), 'east');
  t.is(reads(kube, 'b1'), 1);
  t.is(await locationOf(NS, 'b2', signal), undefined);
});

test('a refusal is kept for the failure TTL, then the Backup is read again', async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  putBackup(kube, 'b1', 'east');
  kube.fail(path('b1'), 403);
  let clock = 1_000_000;
  const locationOf = clusterBackupLocations({
    env: {},
    loadConfig: () => Promise.resolve(kube.kubeConfig),
    now: () => clock,
    failureTtlMs: 15_000,
  });
  const signal = new AbortController().signal;
  for (let i = 0; i < 20; i++) {
    const err = await t.throwsAsync(locationOf(NS, 'b1', signal));
    t.regex(err.message, /forbidden \(403\).*needs get on backups\.velero\.io/);
  }
  t.is(reads(kube, 'b1'), 1);
  kube.heal(path('b1'));
  clock += 15_001;
  t.is(await locationOf(NS, 'b1', signal), 'east');
  t.is(reads(kube, 'b1'), 2);
});

test("a hanging API server: the caller's abort ends its wait", async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  kube.fail(path('b1'), 'hang');
  const locationOf = clusterBackupLocations({ env: {}, loadConfig: () => Promise.resolve(kube.kubeConfig), timeoutMs: 60_000 });
  const caller = new AbortController();
  const waiting = locationOf(NS, 'b1', caller.signal);
  caller.abort(new Error('the admission deadline passed'));
  const err = await t.throwsAsync(waiting);
  t.is(err.message, 'the admission deadline passed');
});
