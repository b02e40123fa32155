/** The detection words a missing credential in the problem's terms; the calling door adds how to fix it. */
import test from 'ava';
import { withCredentials, type DoorWords } from '../../src/app/detect.js';
import type { VCenterTarget } from '../../src/backup/vcenter-targets.js';

const target: VCenterTarget = {
  vcenter: 'vc01.example.com',
  server: 'https://vc01.example.com',
  credentialsProblem: 'secret default/wc1 is not in the backup',
};
const PLUGIN: DoorWords = {
  overridesFrom: "the plugin's vSphere credentials Secret",
  credentialsHint: "set vsphereCredentialsSecret in the plugin's ConfigMap",
  trustHint: (vcenter) => `add ${vcenter} to the key trustedHosts`,
};

test("no credentials: the problem, then the door's own hint, and no other door's flags", (t) => {
  const { ready, missing } = withCredentials([target], {}, PLUGIN);
  t.deepEqual(ready, []);
  const reason = missing[0]!.ok ? '' : missing[0]!.reason;
  t.is(reason, "no vSphere credentials (secret default/wc1 is not in the backup): set vsphereCredentialsSecret in the plugin's ConfigMap");
  t.false(reason.includes('--vsphere'));
  const bare = withCredentials([target], {}).missing[0]!;
  t.is(bare.ok ? '' : bare.reason, 'no vSphere credentials (secret default/wc1 is not in the backup)');
});

test('overrides are credited to where the door says they came from', (t) => {
  const { ready } = withCredentials([target], { username: 'u', password: 'p' }, PLUGIN);
  t.is(ready[0]!.credentialsFrom, "the plugin's vSphere credentials Secret");
  t.is(ready[0]!.username, 'u');
});

test("the operator's password goes only where the operator trusts; the backup's thumbprint vouches for the backup's own", (t) => {
  const pinned = { ...target, thumbprint: 'AA:BB', credentials: { username: 'b', password: 'backup-pw' } };
  const [fromBackup] = withCredentials([pinned], {}, PLUGIN).ready;
  t.like(fromBackup, { thumbprint: 'AA:BB', password: 'backup-pw' });
  t.false('untrustedHint' in fromBackup!);
  t.false('untrustedHint' in withCredentials([pinned], { username: 'operator' }, PLUGIN).ready[0]!, 'a user name alone is no secret');

  const [untrusted] = withCredentials([pinned], { password: 'operator-pw' }, PLUGIN).ready;
  t.is(untrusted!.untrustedHint, 'add vc01.example.com to the key trustedHosts');
  t.false('thumbprint' in untrusted!, "the backup's thumbprint is not used for the operator's password");

  const [listed] = withCredentials([pinned], { password: 'operator-pw', trust: { hosts: ['vc01.example.com'] } }, PLUGIN).ready;
  t.like(listed, { thumbprint: 'AA:BB', password: 'operator-pw' });
  t.false('untrustedHint' in listed!);

  const trust = { thumbprints: { 'vc01.example.com': 'CC:DD' }, ca: 'PEM' };
  const [pinnedByOperator] = withCredentials(
    [pinned],
    { byServer: { 'https://VC01.example.com/sdk': { password: 'pw' } }, trust },
    PLUGIN,
  ).ready;
  t.like(pinnedByOperator, { thumbprint: 'CC:DD', ca: 'PEM' });
  t.false('untrustedHint' in pinnedByOperator!);
});
