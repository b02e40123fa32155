/**
 * Where backups are found: the service's configured locations by name, and the location a Velero
 * Backup names (through the plugin's cluster access, or the file that stands for it).
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfiguredStorageLocations, VeleroBackupLocator, type VeleroStorageLocations } from '../../src/app/backup-locator.js';
import type { ConfiguredStorageLocation } from '../../src/storage/configured-locations.js';
import type { DomainError } from '../../src/app/errors.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { tempDir } from '../helpers/scenario.js';

const located = (name: string, bucket: string, isDefault = false): ConfiguredStorageLocation => ({
  name,
  isDefault,
  location: { bucket, prefix: 'tkg' },
  timeoutMs: 5000,
  deadlineMs: 60_000,
});

test('configured locations: by name, the default for no name, an unknown name refused with the known ones', async (t) => {
  const locations = new ConfiguredStorageLocations([located('minio', 'velero'), located('aws', 'backups', true)]);
  t.is(locations.select(undefined).name, 'aws');
  t.is(locations.select('').name, 'aws');
  t.is((await locations.select('minio').locator.locate('b1')).description, 's3://velero/tkg/backups/b1/b1.tar.gz');
  const err = t.throws<DomainError>(() => locations.select('nowhere'));
  t.is(err.kind, 'invalid-argument');
  t.is(err.message, 'storage location "nowhere" is not configured (configured: minio, aws)');
  // Without a location marked default, the first one is.
  t.is(new ConfiguredStorageLocations([located('first', 'a'), located('second', 'b')]).select(undefined).name, 'first');
});

test('configured locations: the source of a backup comes from the injected reader when given', async (t) => {
  const seen: string[] = [];
  const locations = new ConfiguredStorageLocations([located('minio', 'velero', true)], (backup, l) => {
    seen.push(`${l.name}/${backup}`);
    return { description: `fake:${backup}`, open: () => Promise.reject(new Error('never opened')) };
  });
  t.is((await locations.select(undefined).locator.locate('b2')).description, 'fake:b2');
  t.deepEqual(seen, ['minio/b2']);
});

function fakeCluster(calls: string[]): VeleroStorageLocations {
  return {
    storageLocationNameOf: async (backup) => {
      calls.push(`Backup ${backup}`);
      return 'minio';
    },
    readStorageLocation: async (name) => {
      calls.push(`BSL ${name}`);
      return { bucket: 'velero-backups', prefix: 'tkg' };
    },
  };
}

test("the Velero Backup's location: its BSL read when a backup is located, and said in the log", async (t) => {
  const calls: string[] = [];
  const logs: string[] = [];
  const locator = new VeleroBackupLocator({
    cluster: async () => fakeCluster(calls),
    timeoutMs: 5000,
    deadlineMs: 60_000,
    logger: jsonLogger({ level: 'info', timestamp: false, write: (line) => logs.push(line) }),
  });
  t.deepEqual(calls, [], 'nothing is read before a backup is located');
  t.is((await locator.locate('b1')).description, 's3://velero-backups/tkg/backups/b1/b1.tar.gz');
  t.deepEqual(calls, ['Backup b1', 'BSL minio']);
  t.regex(logs.join(''), /"@message":"storage location read","backup":"b1","storageLocation":"minio","bucket":"velero-backups","prefix":"tkg"/);
});

test("the Velero Backup's location: an unreachable cluster is named with the door's hint; a file stands for the cluster", async (t) => {
  const logger = jsonLogger({ level: 'error', write: () => {} });
  const unreachable = new VeleroBackupLocator({
    cluster: () => Promise.reject(new Error('no KUBECONFIG')),
    timeoutMs: 5000,
    deadlineMs: 60_000,
    logger,
    unreachableHint: 'outside a cluster, set THE_FILE',
  });
  await t.throwsAsync(unreachable.locate('b1'), {
    message: 'cannot find the storage location of backup b1: no KUBECONFIG (outside a cluster, set THE_FILE)',
  });

  const file = join(await tempDir('drift-locator-'), 'bsl.yaml');
  await writeFile(file, 'bucket: from-file\nprefix: p\n');
  const fromFile = new VeleroBackupLocator({
    file,
    cluster: () => Promise.reject(new Error('not asked')),
    timeoutMs: 5000,
    deadlineMs: 60_000,
    logger,
  });
  t.is((await fromFile.locate('b3')).description, 's3://from-file/p/backups/b3/b3.tar.gz');
});
