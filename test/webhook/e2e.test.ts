/**
 * `drift-detector serve` as a process with its admission webhook, against its real peers: a TKG
 * backup in s3rver, vcsim holding the VMs as they are now, the real detection. The API server's
 * AdmissionReview for `velero restore create --from-backup b1` is denied, naming the drifted cluster,
 * and so is `--from-schedule daily`, its backup found in the bucket (serve has no API server here).
 */
import test from 'ava';
import { readFile } from 'node:fs/promises';
import { makePki } from '../grpc/pki.js';
import { capvVM, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { completedBackup, startS3, storageLocationYaml } from '../helpers/s3.js';
import { admissionReview, post, responseOf, restoreObject, spawnServe } from './helpers.js';

test('serve with webhook.listen: a Restore of a drifted backup in the bucket is denied up front; a filtered one is allowed', async (t) => {
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc-clean'), tkgCluster('wc-drift')] },
    { mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters.find((c) => c.name === 'wc-drift')!.machineDeploymentName}-7f9c8d-zzzzz`)) },
  );
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup('velero', 'tkg', 'b1', s.backup.path);
  // A backup of schedule daily, which this serve (no API server access) finds only in the bucket.
  const scheduled = completedBackup('daily-20240501100000') as { metadata: { labels: Record<string, string> } };
  scheduled.metadata.labels['velero.io/schedule-name'] = 'daily';
  await s3.putBackup('velero', 'tkg', 'daily-20240501100000', s.backup.path, scheduled);
  const pki = await makePki();
  t.teardown(() => pki.remove());
  const dir = await tempDir('drift-webhook-');
  // No kubeconfig, not in a pod: the service has no API server to list a schedule's Backups in.
  const {
    child,
    port,
    stderr: logs,
  } = await spawnServe(dir, [
    'listen: 127.0.0.1:0',
    ...storageLocationYaml(s3),
    'gate: { mode: block, failurePolicy: Fail }',
    'analysis: { skipAccessApiServer: true }',
    // Long enough for a cold analysis on a loaded machine: this test is about the answer, not the deadline.
    `webhook: { listen: 127.0.0.1:0, tls: { certFile: ${pki.serverCert}, keyFile: ${pki.serverKey} }, deadline: 60s }`,
  ]);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ca = await readFile(pki.caCert);

  const denied = responseOf(await post(port, ca, admissionReview(restoreObject({ backupName: 'b1' }))));
  t.false(denied.allowed, logs());
  t.is(denied.status?.code, 403);
  t.regex(denied.status!.message, /- Cluster default\/wc-drift: ManualRemediationRequired; ghost machines .*-7f9c8d-zzzzz/);
  t.notRegex(denied.status!.message, /wc-clean/);

  const filtered = responseOf(
    await post(
      port,
      ca,
      admissionReview(
        restoreObject({ backupName: 'b1', spec: { labelSelector: { matchLabels: { 'tkg.tanzu.vmware.com/cluster-name': 'wc-clean' } } } }),
      ),
    ),
  );
  t.true(filtered.allowed, JSON.stringify(filtered));
  // The same selector on the drifted cluster's label: the labels come from the backed-up Cluster.
  const selected = responseOf(
    await post(
      port,
      ca,
      admissionReview(
        restoreObject({ backupName: 'b1', spec: { labelSelector: { matchLabels: { 'tkg.tanzu.vmware.com/cluster-name': 'wc-drift' } } } }),
      ),
    ),
  );
  t.false(selected.allowed);

  const judge = async (spec: Record<string, unknown>) =>
    responseOf(await post(port, ca, admissionReview(restoreObject({ backupName: 'b1', spec }))));
  // The CRDs' short names, as Velero resolves them through discovery.
  const shortNames = await judge({ includedResources: ['cl', 'ma', 'md', 'kcp'] });
  t.false(shortNames.allowed);
  t.regex(shortNames.status!.message, /- Cluster default\/wc-drift: ManualRemediationRequired/);
  // A selector on a label only the drifted cluster's Machines and MachineDeployment carry (not its Cluster).
  const byMachines = await judge({ labelSelector: { matchLabels: { 'cluster.x-k8s.io/cluster-name': 'wc-drift' } } });
  t.false(byMachines.allowed);
  t.true((await judge({ includedResources: ['ma'], labelSelector: { matchLabels: { 'cluster.x-k8s.io/cluster-name': 'wc-clean' } } })).allowed);
  // Six patterns of 32 stars and a letter no namespace of the backup ends with: judged like any other.
  const stars = await judge({ includedNamespaces: ['x', 'y', 'z', 'q', 'j', 'k'].map((c) => `${'*'.repeat(32)}${c}`) });
  t.true(stars.allowed, JSON.stringify(stars));

  const fromSchedule = responseOf(await post(port, ca, admissionReview(restoreObject({ scheduleName: 'daily' }))));
  t.false(fromSchedule.allowed, JSON.stringify(fromSchedule));
  t.regex(fromSchedule.status!.message, /backup daily-20240501100000 \(newest of schedule daily\)/);
  t.regex(fromSchedule.status!.message, /- Cluster default\/wc-drift: ManualRemediationRequired/);

  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
});
