/**
 * The storage location a remote-mode plugin names in an Execute's metadata: validated, selected by
 * the service (the analysis reads that location's bucket), and a location the service lacks is a
 * check failure the gate's failurePolicy decides (end to end with the plugin: test/plugin/velero-remote.test.ts).
 */
import test from 'ava';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { STORAGE_LOCATION_METADATA, storageLocationNameProblem } from '../../src/rpc/storage-location-metadata.js';
import { call, clusterItem, executeRequest, FakeDetection, parseItem, standardReport, startTestService } from '../grpc/helpers.js';
import { veleroRestore } from '../helpers/velero.js';

const LOCATIONS = [
  { name: 'default', isDefault: true, location: { bucket: 'velero' }, timeoutMs: 5000, deadlineMs: 60_000 },
  { name: 'west', isDefault: false, location: { bucket: 'velero-west' }, timeoutMs: 5000, deadlineMs: 60_000 },
];

async function withService(t: { teardown(fn: () => Promise<void>): void }, failurePolicy: 'Fail' | 'Ignore' = 'Fail') {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  const service = await startTestService({
    deps: fake.deps(),
    config: { storageLocations: LOCATIONS, gate: { mode: 'block', failurePolicy, pauseOnDrift: false } },
  });
  t.teardown(() => service.stop());
  const execute = (...values: string[]) => {
    const metadata = new Metadata();
    for (const value of values) metadata.add(STORAGE_LOCATION_METADATA, value);
    return call<{ item: Buffer }>(service.clients.riaV1, 'Execute', executeRequest(clusterItem('default', 'wc-ok'), veleroRestore('b1')), {
      metadata,
    });
  };
  return { fake, execute };
}

test('a named location is the one analysed; none is the default', async (t) => {
  const { fake, execute } = await withService(t);
  await execute('west');
  await execute();
  t.deepEqual(
    fake.calls.map((c) => c.source),
    ['s3://velero-west/backups/b1/b1.tar.gz', 's3://velero/backups/b1/b1.tar.gz'],
  );
});

test('a location the service lacks: FAILED_PRECONDITION naming it and the configured ones; Ignore restores it as CheckFailed', async (t) => {
  const { fake, execute } = await withService(t);
  const err = await t.throwsAsync<ServiceError>(execute('east'));
  t.is(err.code, status.FAILED_PRECONDITION);
  t.regex(
    err.details,
    /Cluster default\/wc-ok: the drift check failed \(failurePolicy Fail\): backup b1: storage location "east" is not configured \(configured: default, west\)/,
  );
  t.deepEqual(fake.calls, []);

  const ignoring = await withService(t, 'Ignore');
  const item = parseItem((await ignoring.execute('east')).item);
  t.is(item.metadata.annotations!['driftdetector.dev/status'], 'CheckFailed');
  t.regex(item.metadata.annotations!['driftdetector.dev/check-error']!, /storage location "east" is not configured/);
});

test('a value that is no Kubernetes name, or two values: INVALID_ARGUMENT, nothing analysed', async (t) => {
  const { fake, execute } = await withService(t);
  for (const values of [['West'], ['a'.repeat(254)], ['../x'], [''], ['west', 'default']]) {
    const err = await t.throwsAsync<ServiceError>(execute(...values));
    t.is(err.code, status.INVALID_ARGUMENT, JSON.stringify(values));
    t.regex(err.details, new RegExp(`metadata ${STORAGE_LOCATION_METADATA}: `));
    t.true(err.details.length < 300, 'a long value is cut in the message');
  }
  t.deepEqual(fake.calls, []);
  t.is(storageLocationNameProblem('velero-west.2'), undefined);
});
