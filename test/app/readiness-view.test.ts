/**
 * The readiness a replica that does not run the watch answers (GetReadiness, WatchReadiness): the
 * newest Completed Backup of each location whose verdict this service signed, read from a loopback
 * HTTPS API server; a verdict nobody signed is passed over; a new verdict reaches a follower's
 * stream at its next reading; a refused listing is each location's error, with its cause. The
 * two-replica case through `serve` is test/webhook/replicas.test.ts's.
 */
import test from 'ava';
import { BackupVerdicts } from '../../src/app/backup-verdicts.js';
import { ReadinessView } from '../../src/app/readiness-view.js';
import { ReadinessWatch, type LocationReadiness } from '../../src/app/readiness.js';
import { kubeClient } from '../../src/kube/client.js';
import { recentCompleted } from '../../src/storage/backup-records.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { FakeDetection, pollUntil } from '../grpc/helpers.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';

const NS = 'velero';
const KEY = Buffer.alloc(32, 7);

function backupObject(name: string, completed: string, storageLocation: string, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'velero.io/v1',
    kind: 'Backup',
    metadata: { name, namespace: NS, labels },
    spec: { storageLocation },
    status: { phase: 'Completed', startTimestamp: completed, completionTimestamp: completed },
  };
}

async function setup(api: KubeApi) {
  const logger = jsonLogger({ level: 'error', write: () => {} });
  const client = await kubeClient(api.kubeConfig, { timeoutMs: 5_000 });
  const objects = {
    read: (name: string, signal?: AbortSignal) => client.readVeleroObject('Backup', NS, name, signal),
    list: (selector: string, signal?: AbortSignal) => client.listVeleroObjects('Backup', NS, selector, signal),
    patch: (name: string, patch: object) => client.patchVeleroObject('Backup', NS, name, patch),
  };
  const verdicts = new BackupVerdicts(objects, async () => KEY, logger);
  const service = new FakeDetection().service(logger);
  const catalog = { recentCompleted: async (depth: number, notAfter: number) => recentCompleted([], depth, notAfter) };
  // Never started: this is the replica that does not lead.
  const watch = new ReadinessWatch({
    service,
    catalogs: new Map([
      ['default', catalog],
      ['second', catalog],
    ]),
    intervalMs: 50,
    logger,
  });
  const view = new ReadinessView({ watch, verdicts, clockSkewMs: 60_000 });
  return { verdicts, view, close: () => service.close() };
}

const at = (iso: string) => Date.parse(iso);

test('a follower shows the newest signed verdict of each location; unsigned labels and other locations are passed over', async (t) => {
  const api = await startKubeApi();
  t.teardown(() => api.stop());
  const { verdicts, view, close } = await setup(api);
  t.teardown(close);
  api.put(backupObject('b1', '2026-12-05T09:00:00Z', 'default'));
  api.put(backupObject('b2', '2026-12-05T10:00:00Z', 'default'));
  api.put(backupObject('s1', '2026-12-05T08:00:00Z', 'second'));
  // Newer, labelled Restorable by someone without the key.
  api.put(backupObject('b3', '2026-12-05T11:00:00Z', 'default', { 'driftdetector.dev/restore-verdict': 'Restorable' }));
  t.deepEqual(await view.snapshot(), [{ location: 'default' }, { location: 'second' }], 'no verdict yet: nothing known');

  const analyzedAt = at('2026-12-05T12:00:00Z');
  await verdicts.record('b1', { verdict: 'Restorable', summary: '1 cluster would restore cleanly', analyzedAt });
  await verdicts.record('b2', { verdict: 'Blocked', summary: '1 cluster blocked: default/wc (1 ghost)', analyzedAt });
  await verdicts.record('s1', { verdict: 'Failed', summary: 'analysis failed: bucket gone', analyzedAt });
  const [primary, second] = await view.snapshot();
  t.deepEqual(primary, {
    location: 'default',
    backup: { name: 'b2', completedAt: at('2026-12-05T10:00:00Z') },
    analyzedAt,
    verdict: { verdict: 'Blocked', summary: '1 cluster blocked: default/wc (1 ghost)', analyzedAt },
  });
  t.like(second, { location: 'second', backup: { name: 's1' }, error: 'analysis failed: bucket gone' });
  t.is(second!.analyzedAt, undefined);
  t.true(
    api.requests.some((r) => r.query.get('labelSelector') === 'driftdetector.dev/restore-verdict'),
    'only labelled Backups are listed',
  );
});

test("a follower's stream sends a new verdict at its next reading; a refused listing is each location's error", async (t) => {
  const api = await startKubeApi();
  t.teardown(() => api.stop());
  const { verdicts, view, close } = await setup(api);
  t.teardown(close);
  api.put(backupObject('b1', '2026-12-05T09:00:00Z', 'default'));
  await verdicts.record('b1', { verdict: 'Blocked', summary: '1 cluster blocked: default/wc (1 ghost)', analyzedAt: Date.now() });
  const sent: LocationReadiness[][] = [];
  const controller = new AbortController();
  const following = view.follow(new Set(['default']), (states) => sent.push(states), controller.signal);
  await pollUntil(
    async () => sent.length,
    (n) => n >= 1,
    10_000,
    'first answer',
  );
  t.deepEqual(
    sent[0]!.map((s) => [s.location, s.backup?.name, s.verdict?.verdict]),
    [['default', 'b1', 'Blocked']],
  );

  api.put(backupObject('b2', '2026-12-05T10:00:00Z', 'default'));
  await verdicts.record('b2', { verdict: 'Restorable', summary: '1 cluster would restore cleanly', analyzedAt: Date.now() });
  await pollUntil(
    async () => sent.at(-1)!,
    (s) => s[0]?.backup?.name === 'b2',
    10_000,
    'the new verdict',
  );
  t.is(sent.at(-1)![0]!.verdict?.verdict, 'Restorable');
  t.true(
    sent.every((s) => s.every((l) => l.location === 'default')),
    'only the location asked for',
  );

  api.fail('/apis/velero.io/v1/namespaces/velero/backups', 403);
  const refused = await pollUntil(
    async () => sent.at(-1)!,
    (s) => s[0]?.error !== undefined,
    10_000,
    'the refusal',
  );
  t.regex(
    refused[0]!.error!,
    /^this replica does not run the readiness watch and cannot read the verdicts on the Backups: .*forbidden \(403\)/,
  );
  controller.abort();
  await following;
});
