/**
 * The readiness watch's Events: a change of restorability becomes one Event on the
 * BackupStorageLocation (a loopback API server records it); without a cluster, none and no error.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readinessEvents } from '../../src/app/readiness-events.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { tempDir } from '../helpers/scenario.js';
import { startFakeKube } from '../plugin/fake-kube.js';

test('a backup that turns unrestorable: a Warning Event on its BackupStorageLocation; back: a Normal one', async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  const file = join(await tempDir('drift-kubeconfig-'), 'config');
  await writeFile(file, kube.kubeConfig.exportConfig());
  const logs: string[] = [];
  const announce = readinessEvents(jsonLogger({ level: 'debug', write: (l) => logs.push(l) }), { KUBECONFIG: file });
  await announce({ location: 'default', backup: 'b2', restorable: false, message: 'the newest backup would not restore' });
  await announce({ location: 'default', backup: 'b2', restorable: true, message: 'the newest backup would restore cleanly' });
  t.is(kube.events.length, 2);
  const [down, up] = kube.events;
  t.like(down, {
    involvedObject: { apiVersion: 'velero.io/v1', kind: 'BackupStorageLocation', namespace: 'velero', name: 'default' },
    type: 'Warning',
    reason: 'BackupNotRestorable',
    message: 'the newest backup would not restore: backup b2',
  });
  t.like(up, { type: 'Normal', reason: 'BackupRestorable' });
  t.deepEqual(logs, []);
});

test('no cluster: no Event, one log line, no failure', async (t) => {
  const logs: string[] = [];
  const announce = readinessEvents(jsonLogger({ level: 'debug', write: (l) => logs.push(l) }), {});
  await announce({ location: 'default', backup: 'b1', restorable: false, message: 'x' });
  await announce({ location: 'default', backup: 'b1', restorable: true, message: 'y' });
  t.is(logs.length, 1);
  t.regex(logs[0]!, /readiness events off: no cluster/);
});
