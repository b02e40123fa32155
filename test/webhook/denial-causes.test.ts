/**
 * Say why in the denial (docs/restore-gate.md §3): the real detection of a TKG backup read from
 * s3rver, against vcsim refusing the backup's credentials or presenting a certificate nobody
 * pinned, and a vCenter on a closed port. The webhook's denial names each vCenter behind the
 * unconfirmed clusters once, with its fix in the service's configuration keys.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile } from 'node:fs/promises';
import { startTestService, testConfig } from '../grpc/helpers.js';
import { makePki } from '../grpc/pki.js';
import { startS3 } from '../helpers/s3.js';
import { scenario, tkgCluster, type ScenarioOptions } from '../helpers/scenario.js';
import { admissionReview, post, responseOf, restoreObject, startWebhookOn } from './helpers.js';

/** The denial of `--from-backup b1` for a backup of `clusters` (their vCenter set by `options`). */
async function denial(t: ExecutionContext, clusters: ReturnType<typeof tkgCluster>[], options: ScenarioOptions): Promise<string> {
  const s = await scenario(t, { clusters }, options);
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup('velero', 'tkg', 'b1', s.backup.path);
  const pki = await makePki();
  t.teardown(() => pki.remove());
  const location = {
    name: 'default',
    bucket: 'velero',
    prefix: 'tkg',
    s3Url: s3.endpoint,
    s3ForcePathStyle: true,
    region: 'us-east-1',
    credentialsFile: s3.credentialsFile,
    profile: s3.profile,
  };
  const service = await startTestService({
    config: { ...testConfig(), storageLocations: [{ name: 'default', isDefault: true, location, timeoutMs: 5000, deadlineMs: 60_000 }] },
  });
  const w = await startWebhookOn(service, { tls: { certFile: pki.serverCert, keyFile: pki.serverKey }, deadlineMs: 60_000 });
  t.teardown(() => w.stop());
  const answer = responseOf(await post(w.webhook.port, await readFile(pki.caCert), admissionReview(restoreObject({ backupName: 'b1' }))));
  t.false(answer.allowed, JSON.stringify(answer));
  return answer.status!.message;
}

const count = (text: string, what: RegExp) => text.split('\n').filter((line) => what.test(line)).length;

test('credentials the vCenter refuses, and a vCenter nobody answers on: each named once, with where the credentials came from and what to set', async (t) => {
  const elsewhere = { server: '127.0.0.1:1', datacenter: '/DC0', folder: '/DC0/vm/tkg', resourcePool: '/DC0/host/DC0_C0/Resources/tkg' };
  const message = await denial(t, [tkgCluster('wc-a'), tkgCluster('wc-b'), tkgCluster('wc-c', { vcenter: elsewhere })], {
    login: { username: 'someone-else', password: 'not-the-backups' },
  });
  t.log(message);
  for (const name of ['wc-a', 'wc-b', 'wc-c']) t.regex(message, new RegExp(`- Cluster default/${name}: NeedFurtherConfirmation`));
  t.regex(message, /Machines could not be confirmed because these vCenters could not be listed:/);
  // wc-a and wc-b share the vCenter: its failure is said once.
  t.is(count(message, /^- vCenter 127\.0\.0\.1:\d+: login of user "administrator@vsphere\.local" refused/), 1);
  t.regex(
    message,
    /refused \([^)]*\); check the vSphere credentials; they came from [^:]+: to give others, set vsphere\.username and vsphere\.passwordFile/,
  );
  t.is(count(message, /^- vCenter 127\.0\.0\.1:1: connection refused by 127\.0\.0\.1:1 \(ECONNREFUSED\); check the address and port/), 1);
  t.false(message.includes('not-the-backups'));
});

test("a certificate nobody pinned or trusts: named with the keys that trust it in the service's configuration", async (t) => {
  const message = await denial(t, [tkgCluster('wc-a')], { thumbprint: 'none' });
  t.log(message);
  t.is(count(message, /^- vCenter 127\.0\.0\.1:\d+: .*certificate/), 1);
  t.regex(message, /NODE_EXTRA_CA_CERTS=ca\.pem\), or pin its thumbprint in the backup's VSphereCluster spec\.thumbprint/);
});
