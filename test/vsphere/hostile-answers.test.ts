/**
 * vCenters that answer badly on purpose (loopback fakes, test/vsphere/fake-vim.ts): a Login fault
 * that quotes the password back in every encoding, answers with a DOCTYPE or an undefined entity.
 * Each gives a clear reason naming the vCenter, and the password appears in no output.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import { listVCenter } from '../../src/vsphere/inventory.js';
import { buildBackup } from '../fixtures/builder.js';
import { runCli, tempDir, tkgCluster } from '../helpers/scenario.js';
import { ENCODINGS, hexEntities, numericEntities, xml } from '../helpers/secret-encodings.js';
import { startFakeVim, vimEnvelope, vimFault, type FakeVim } from './fake-vim.js';

const PASSWORD = `p<a&s"sw>o rd-%41-\\n-é-${randomUUID()}`;

/** The faultstring of each fake's Login fault: the password in one encoding, as the XML text carries it. */
const QUOTES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(ENCODINGS).map(([name, encode]) => [name, xml(encode(PASSWORD))])),
  'numeric entities, as XML': numericEntities(PASSWORD),
  'hex entities, as XML': hexEntities(PASSWORD),
};

test('a Login fault quoting the password in any encoding: the password is in no output, the fault type is', async (t) => {
  const fakes: Array<[string, FakeVim]> = [];
  for (const [name, quote] of Object.entries(QUOTES)) {
    const faultstring = `Cannot complete login for &lt;Login&gt;&lt;password&gt;${quote}&lt;/password&gt;&lt;/Login&gt;`;
    const fake = await startFakeVim({ vms: [], pageSize: 0, answers: { Login: { status: 500, body: vimFault('InvalidLogin', faultstring) } } });
    t.teardown(() => fake.stop());
    fakes.push([name, fake]);
  }
  const backup = await buildBackup({
    clusters: fakes.map(([, fake], i) =>
      tkgCluster(`wc${i}`, { vcenter: { server: fake.server, thumbprint: fake.thumbprint, datacenter: '/DC1', password: PASSWORD } }),
    ),
  });
  const output = join(await tempDir(), 'report.json');
  const result = await runCli(['detect', '--backup', backup.path, '-o', output, '--skip-access-apiserver', '-D']);
  t.is(result.code, 0, result.stderr);
  const report = await readFile(output, 'utf8');
  const errors = (JSON.parse(report) as DriftReport).errors;
  for (const [name, fake] of fakes) {
    t.true(
      fake.calls.some((c) => c.method === 'Login' && c.body.includes(xml(PASSWORD))),
      `${name}: the backup's password went to the vCenter its thumbprint pins`,
    );
    const error = errors.find((e) => e.scope === `vcenter:${fake.server}`);
    t.regex(error?.message ?? '', /login of user "administrator@vsphere\.local" refused \(InvalidLogin: Cannot complete login for/, name);
  }
  const secretCore = PASSWORD.slice(PASSWORD.indexOf('-é-') + 3);
  for (const [where, text] of Object.entries({ stdout: result.stdout, stderr: result.stderr, report })) {
    t.false(text.includes(secretCore), `${where} holds the password`);
    for (const [name, encode] of Object.entries(ENCODINGS)) t.false(text.includes(encode(PASSWORD)), `${where} holds it ${name}`);
  }
});

const prologue = (body: string) => body.replace(/^<\?xml[^>]*>\n/, '');
const HOSTILE: Record<string, { method: string; body: string; reason: RegExp }> = {
  'a DOCTYPE with entities (billion laughs)': {
    method: 'RetrieveServiceContent',
    body:
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>' +
      prologue(vimEnvelope('<RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>&lol2;</returnval></RetrieveServiceContentResponse>')),
    reason:
      /^the answer to RetrieveServiceContent is not a vim25 response \(it carries a DOCTYPE\); is 127\.0\.0\.1:\d+ a vSphere SDK endpoint\?$/,
  },
  'a DOCTYPE on a Login answer': {
    method: 'Login',
    body:
      '<!DOCTYPE x [<!ENTITY a "a">]>' + prologue(vimEnvelope('<LoginResponse xmlns="urn:vim25"><returnval>&a;</returnval></LoginResponse>')),
    reason: /^the answer to Login is not a vim25 response \(it carries a DOCTYPE\); is 127\.0\.0\.1:\d+/,
  },
  'an undefined entity': {
    method: 'CreateContainerView',
    body: vimEnvelope(
      '<CreateContainerViewResponse xmlns="urn:vim25"><returnval type="ContainerView">&nope;</returnval></CreateContainerViewResponse>',
    ),
    reason: /^the answer to CreateContainerView is not a vim25 response \(it uses the undefined entity &nope;\); is 127\.0\.0\.1:\d+/,
  },
  'a DOCTYPE on a property-collector page': {
    method: 'RetrievePropertiesEx',
    body:
      '<!DOCTYPE x [<!ENTITY a "a">]>' +
      prologue(vimEnvelope('<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>&a;</returnval></RetrievePropertiesExResponse>')),
    reason: /^listing the VMs failed: |^the answer to RetrievePropertiesEx is not a vim25 response \(it carries a DOCTYPE\)/,
  },
};

for (const [name, { method, body, reason }] of Object.entries(HOSTILE)) {
  test(`an answer with ${name} is refused, naming the vCenter`, async (t) => {
    const fake = await startFakeVim({ vms: [], pageSize: 0, answers: { [method]: { status: 200, body } } });
    t.teardown(() => fake.stop());
    const listing = await listVCenter({ server: fake.server, username: 'u', password: 'p4ssword', thumbprint: fake.thumbprint });
    t.false(listing.ok);
    t.regex(listing.ok ? '' : listing.reason, reason);
  });
}
