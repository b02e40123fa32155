/**
 * The admission webhook over HTTPS, as kube-apiserver calls it: AdmissionReview v1 requests, a
 * client that trusts only the CA bundle, the service's real analysis cache behind it (with a
 * detection the test controls).
 */
import test from 'ava';
import { createHash, X509Certificate } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { assertGolden } from '../helpers/golden.js';
import { cluster, machine, report, standardReport } from '../grpc/helpers.js';
import { makePki, type Pki } from '../grpc/pki.js';
import { startFakeKube } from '../plugin/fake-kube.js';
import { clusterScheduleBackups } from '../../src/kube/schedule-backups.js';
import { admissionReview, post, responseOf, restoreObject, startTestWebhook, type TestWebhook } from './helpers.js';

let pki: Pki;
let ca: Buffer;

test.before(async () => {
  pki = await makePki();
  ca = await readFile(pki.caCert);
});

test.after.always(async () => {
  await pki?.remove();
});

async function withWebhook(
  options: Omit<Parameters<typeof startTestWebhook>[0], 'tls'>,
  run: (w: TestWebhook) => Promise<void>,
): Promise<void> {
  const w = await startTestWebhook({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey }, ...options });
  try {
    await run(w);
  } finally {
    await w.stop();
  }
}

const review = (shape: Parameters<typeof restoreObject>[0], operation?: string) => admissionReview(restoreObject(shape), operation);

test('a Restore of a drifted backup is denied with 403, the clusters and the override commands', async (t) => {
  await withWebhook({}, async (w) => {
    // The unconfirmed cluster's machine is on a vCenter that could not be listed: the denial says why, once.
    const drifted = standardReport('b1');
    const unknown = drifted.clusters.find((c) => c.name === 'wc-unknown')!.controlPlane.machines[0]!;
    unknown.vcenter = 'vc02.example.com';
    drifted.errors.push({
      scope: 'vcenter:vc02.example.com',
      message: 'cannot resolve host vc02.example.com (ENOTFOUND); check the server name and DNS',
      severity: 'error',
    });
    w.detection.reports.set('b1', drifted);
    const answer = await post(w.webhook.port, ca, review({ backupName: 'b1' }));
    t.is(answer.status, 200);
    const response = responseOf(answer);
    t.is(response.uid, '0df28fbd-5f5f-4d23-8b8e-7c3f9e1d2a41');
    t.false(response.allowed);
    t.is(response.status?.code, 403);
    await assertGolden(t, 'webhook/denial.txt', `${response.status!.message}\n\nwarnings:\n${(response.warnings ?? []).join('\n')}\n`);
    t.true(w.logs.some((l) => l.includes('restore denied')));
  });
});

test('a Restore from a schedule is judged against the newest Completed backup of that schedule, read from the API server', async (t) => {
  const kube = await startFakeKube();
  t.teardown(() => kube.stop());
  const backup = (name: string, schedule: string, phase: string, started: string) =>
    kube.put(`/apis/velero.io/v1/namespaces/velero/backups/${name}`, {
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: { name, namespace: 'velero', labels: { 'velero.io/schedule-name': schedule }, creationTimestamp: started } as never,
      status: { phase, startTimestamp: started },
    });
  backup('daily-20260101', 'daily', 'Completed', '2026-01-01T00:00:00Z');
  backup('daily-20260102', 'daily', 'Completed', '2026-01-02T00:00:00Z');
  backup('daily-20260103', 'daily', 'InProgress', '2026-01-03T00:00:00Z');
  backup('weekly-20260104', 'weekly', 'Completed', '2026-01-04T00:00:00Z');
  const schedules = { apiServer: clusterScheduleBackups({ loadConfig: () => Promise.resolve(kube.kubeConfig) }) };
  await withWebhook({ schedules }, async (w) => {
    w.detection.reports.set('daily-20260101', report('daily-20260101', cluster('default', 'wc-ok', [machine('cp', 'Healthy')])));
    w.detection.reports.set('daily-20260102', standardReport('daily-20260102'));
    const response = responseOf(await post(w.webhook.port, ca, review({ scheduleName: 'daily' })));
    t.false(response.allowed);
    t.regex(response.status!.message, /backup daily-20260102 \(newest of schedule daily\)/);
    t.regex(response.status!.message, /velero restore create --from-schedule daily --labels driftdetector\.dev\/override=<ticket>/);
    const listed = kube.requests.find((r) => r.path === '/apis/velero.io/v1/namespaces/velero/backups');
    t.is(listed?.query.get('labelSelector'), 'velero.io/schedule-name=daily');
    // A schedule without a completed backup: Velero refuses the Restore itself; nothing to judge.
    t.true(responseOf(await post(w.webhook.port, ca, review({ scheduleName: 'hourly' }))).allowed);
  });
});

test('filters that leave the drifted clusters out are allowed, with the findings that remain as warnings', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('b1', standardReport('b1'));
    const byNamespace = responseOf(await post(w.webhook.port, ca, review({ backupName: 'b1', spec: { includedNamespaces: ['tkg'] } })));
    t.true(byNamespace.allowed);
    t.deepEqual(byNamespace.warnings, ['cluster tkg/wc-stale: stale machines wc-stale-md-0-a (Cluster API replaces them)']);
    const noCapi = responseOf(
      await post(w.webhook.port, ca, review({ backupName: 'b1', spec: { includedResources: ['secrets', 'configmaps'] } })),
    );
    t.true(noCapi.allowed);
    t.is(noCapi.warnings, undefined);
    // namespaceMapping moves objects, it does not change which are judged.
    const mapped = responseOf(
      await post(w.webhook.port, ca, review({ backupName: 'b1', spec: { namespaceMapping: { default: 'elsewhere' } } })),
    );
    t.false(mapped.allowed);
  });
});

test('a report with no cluster is allowed silently; a backup its bucket does not hold yet is allowed with a warning', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('apps', report('apps'));
    const apps = responseOf(await post(w.webhook.port, ca, review({ backupName: 'apps' })));
    t.true(apps.allowed);
    t.is(apps.status, undefined);
    t.is(apps.warnings, undefined);
    const missing = responseOf(await post(w.webhook.port, ca, review({ backupName: 'not-synced-yet' })));
    t.true(missing.allowed);
    t.deepEqual(missing.warnings, [
      "drift-detector did not check this restore: backup not-synced-yet is not in storage location default (the bucket answered; Velero's backup sync may not have run yet)",
    ]);
  });
});

test('the old management cluster, left out of the analysis on purpose, does not deny the Restore', async (t) => {
  await withWebhook({}, async (w) => {
    const mgmt = report('mgmt', cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')], []));
    mgmt.errors.push({
      scope: 'cluster:tkg-system/tkg-mgmt',
      message: 'tkg-system/tkg-mgmt is the old management cluster',
      severity: 'warning',
    });
    w.detection.reports.set('mgmt', mgmt);
    t.true(responseOf(await post(w.webhook.port, ca, review({ backupName: 'mgmt' }))).allowed);
    // A cluster the analysis could not judge still counts.
    const broken = report('broken', cluster('default', 'wc-ok', [machine('wc-ok-cp-a', 'Healthy')], []));
    broken.errors.push({ scope: 'cluster:default/wc-bad', message: 'unusable objects', severity: 'error' });
    w.detection.reports.set('broken', broken);
    t.false(responseOf(await post(w.webhook.port, ca, review({ backupName: 'broken' }))).allowed);
  });
});

test('the override by label (every Velero) and by annotation (Velero >= 1.16) lets the Restore in, with a warning', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('b1', standardReport('b1'));
    const byLabel = responseOf(
      await post(w.webhook.port, ca, review({ backupName: 'b1', labels: { 'driftdetector.dev/override': 'OPS-1234' } })),
    );
    t.true(byLabel.allowed);
    t.true(byLabel.warnings!.some((x) => x.includes('cluster default/wc-ghost') && x.includes('restored by override: OPS-1234')));
    const byAnnotation = responseOf(
      await post(w.webhook.port, ca, review({ backupName: 'b1', annotations: { 'driftdetector.dev/override': 'ghosts deleted by hand' } })),
    );
    t.true(byAnnotation.allowed);
    t.true(byAnnotation.warnings!.some((x) => x.includes('restored by override: ghosts deleted by hand')));
    const blank = responseOf(await post(w.webhook.port, ca, review({ backupName: 'b1', labels: { 'driftdetector.dev/override': '' } })));
    t.false(blank.allowed);
    const narrowed = responseOf(
      await post(
        w.webhook.port,
        ca,
        review({
          backupName: 'b1',
          labels: { 'driftdetector.dev/override': 'OPS-1' },
          annotations: { 'driftdetector.dev/override-clusters': 'default/wc-ghost' },
        }),
      ),
    );
    // wc-unknown (NeedFurtherConfirmation, failurePolicy Fail) is not covered.
    t.false(narrowed.allowed);
    t.regex(narrowed.status!.message, /Cluster default\/wc-unknown/);
    t.notRegex(narrowed.status!.message, /Cluster default\/wc-ghost/);
  });
});

test('an override narrowed by a blank or malformed override-clusters covers no cluster: denied, saying why', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('b1', standardReport('b1'));
    for (const [scope, why] of [
      ['   ', /driftdetector\.dev\/override-clusters is blank, so the override covers no cluster/],
      ['default/wc-ghost,wc-unknown', /override-clusters is malformed \(entries not of the form namespace\/name: "wc-unknown"\)/],
    ] as const) {
      const response = responseOf(
        await post(
          w.webhook.port,
          ca,
          review({
            backupName: 'b1',
            annotations: { 'driftdetector.dev/override': 'INC-1', 'driftdetector.dev/override-clusters': scope },
          }),
        ),
      );
      t.false(response.allowed, scope);
      t.regex(response.status!.message, /- Cluster default\/wc-ghost: ManualRemediationRequired/);
      t.regex(response.status!.message, why);
    }
  });
});

test('a Restore whose filters cannot be judged is denied as malformed, before its backup is analysed', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('b1', report('b1'));
    const many = { backupName: 'b1', spec: { includedNamespaces: Array.from({ length: 1001 }, (_, i) => `ns-${i}`) } };
    const response = responseOf(await post(w.webhook.port, ca, review(many)));
    t.false(response.allowed);
    t.is(
      response.status?.message,
      'drift-detector denied this restore as malformed: its namespace and resource lists hold 1001 entries, more than 1000',
    );
    t.is(w.detection.calls.length, 0);
  });
});

test('UPDATE and DELETE are allowed without judging', async (t) => {
  await withWebhook({}, async (w) => {
    w.detection.reports.set('b1', standardReport('b1'));
    for (const operation of ['UPDATE', 'DELETE']) {
      const response = responseOf(await post(w.webhook.port, ca, review({ backupName: 'b1' }, operation)));
      t.true(response.allowed, operation);
    }
    t.is(w.detection.calls.length, 0);
  });
});

test('a malformed AdmissionReview is HTTP 400; other paths 404; a body over the bound 413', async (t) => {
  await withWebhook({}, async (w) => {
    t.is((await post(w.webhook.port, ca, '{not json')).status, 400);
    t.is(
      (await post(w.webhook.port, ca, { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } })).status,
      400,
    );
    t.is((await post(w.webhook.port, ca, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} })).status, 400);
    const noObject = review({ backupName: 'b1' }) as { request: Record<string, unknown> };
    noObject.request['object'] = null;
    t.is((await post(w.webhook.port, ca, noObject)).status, 400);
    t.is((await post(w.webhook.port, ca, review({ backupName: 'b1' }), '/validate/other')).status, 404);
    const huge = await post(w.webhook.port, ca, 'x'.repeat(2 * 1024 * 1024)).catch((err: Error) => err);
    t.true(huge instanceof Error || huge.status === 413);
  });
});

for (const failurePolicy of ['Fail', 'Ignore'] as const) {
  test(`a deadline miss under failurePolicy ${failurePolicy}; the analysis finishes into the cache and the retry is judged`, async (t) => {
    await withWebhook({ deadlineMs: 200, config: { gate: { mode: 'block', failurePolicy, pauseOnDrift: false } } }, async (w) => {
      w.detection.reports.set('b1', standardReport('b1'));
      w.detection.delayMs = 1500;
      const late = responseOf(await post(w.webhook.port, ca, review({ backupName: 'b1' })));
      if (failurePolicy === 'Fail') {
        t.false(late.allowed);
        t.is(late.status?.message, 'drift-detector: analysis of backup b1 still running, retry in a minute');
      } else {
        t.true(late.allowed);
        t.deepEqual(late.warnings, ['drift-detector did not check this restore: analysis of backup b1 still running, retry in a minute']);
      }
      // The analysis went on without a waiter: the retry finds it in the cache.
      await w.service.running.service.analyze('b1');
      w.detection.delayMs = 0;
      const retry = responseOf(await post(w.webhook.port, ca, review({ backupName: 'b1' })));
      t.false(retry.allowed);
      t.is(w.detection.calls.length, 1);
    });
  });
}

test('a rotated certificate is presented on the next handshake, without a restart', async (t) => {
  const other = await makePki();
  const dir = pki.dir;
  const certFile = join(dir, 'rotating.crt');
  const keyFile = join(dir, 'rotating.key');
  await copyFile(pki.serverCert, certFile);
  await copyFile(pki.serverKey, keyFile);
  const fingerprintOf = async (file: string) =>
    createHash('sha256')
      .update(new X509Certificate(await readFile(file)).raw)
      .digest('hex');
  const w = await startTestWebhook({ tls: { certFile, keyFile }, certPollMs: 50 });
  try {
    w.detection.reports.set('apps', report('apps'));
    const before = await post(w.webhook.port, ca, review({ backupName: 'apps' }));
    t.is(before.fingerprint, await fingerprintOf(pki.serverCert));
    // cert-manager writes the renewed pair in place (here: from another CA, so only the new bundle verifies).
    await copyFile(other.serverKey, keyFile);
    await copyFile(other.serverCert, certFile);
    const newCa = await readFile(other.caCert);
    let after: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 200 && !after; i++) {
      after = await post(w.webhook.port, newCa, review({ backupName: 'apps' })).catch(() => undefined);
      if (!after) await new Promise((r) => setTimeout(r, 50));
    }
    t.truthy(after, 'the new certificate was never presented');
    t.is(after!.fingerprint, await fingerprintOf(other.serverCert));
    t.true(responseOf(after!).allowed);
    // The old bundle no longer verifies the server.
    await t.throwsAsync(post(w.webhook.port, ca, review({ backupName: 'apps' })));
  } finally {
    await w.stop();
    await other.remove();
  }
});
