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
