/** The remediation plan in its three formats, from a report with every kind of finding and a hostile name. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderPlanJson, renderPlanSh, renderPlanText } from '../../src/remediate/render.js';
import { assertGolden } from '../helpers/golden.js';
import { driftedReport, HOSTILE } from '../helpers/remediate-report.js';
import { runCli, tempDir } from '../helpers/scenario.js';

test('text plan: etcd first for the control-plane ghost, drain for the worker, nothing for Stale, checks for Unknown', async (t) => {
  const text = renderPlanText(remediationPlan(driftedReport()));
  t.false(text.includes('\n$(reboot)'), 'a newline in a name cannot start a line');
  const cp = text.indexOf('etcd member wc1-control-plane-qqqqq');
  t.true(cp > 0 && cp < text.indexOf('delete Node wc1-control-plane-qqqqq'));
  await assertGolden(t, 'remediate/plan.txt', text);
});

test('json plan: one entry per finding, the Ghosts counted', async (t) => {
  const plan = remediationPlan(driftedReport());
  t.is(plan.ghosts, 3);
  t.deepEqual(
    plan.entries.map((e) => [e.machine, e.action]),
    [
      ['wc1-control-plane-qqqqq', 'remediate'],
      [HOSTILE, 'remediate'],
      ['wc1-md-0-gone', 'none'],
      ['wc2-md-0-nodeonly', 'remediate'],
      ['wc2-md-0-dup', 'check'],
      ['wc9-control-plane-zzzzz', 'check'],
    ],
  );
  t.deepEqual(
    plan.entries[0]!.steps.map((s) => s.kind),
    ['etcd-member-list', 'etcd-member-remove', 'node-delete', 'vm-power-off', 'vm-destroy'],
  );
  t.deepEqual(
    plan.entries[1]!.steps.map((s) => s.kind),
    ['node-drain', 'node-delete', 'vm-power-off', 'vm-destroy'],
  );
  await assertGolden(t, 'remediate/plan.json', renderPlanJson(plan));
});

test('sh plan: valid bash, hostile names quoted, VMs by BIOS UUID behind the instance-UUID guard', async (t) => {
  const sh = renderPlanSh(remediationPlan(driftedReport()));
  const dir = await tempDir('drift-remediate-');
  const file = join(dir, 'plan.sh');
  await writeFile(file, sh);
  await promisify(execFile)('bash', ['-n', file]);
  t.true(
    sh.includes(`$'wc1-md-0-x\\'; rm -rf / #\\x0a$(reboot)<script>alert(1)</script>'`),
    'the name is one ANSI-C quoted word, its newline escaped',
  );
  t.false(sh.includes('\n$(reboot)'), 'a newline in a name cannot start a line');
  t.regex(sh, /^set -euo pipefail$/m);
  t.regex(sh, /vm_guard \/DC0 42000002-0000-4000-8000-000000000002 52000002-0000-4000-8000-000000000002\n/);
  t.regex(sh, /govc vm\.destroy -dc=\/DC0 -vm\.uuid=42000002-0000-4000-8000-000000000002/);
  t.notRegex(sh, /govc vm\.destroy [^\n]*wc1-control-plane/, 'never by name');
  await assertGolden(t, 'remediate/plan.sh', sh);
});

test('remediate command: reads the report file, text by default; a file that is no report is refused', async (t) => {
  const dir = await tempDir('drift-remediate-');
  const path = join(dir, 'report.json');
  await writeFile(path, JSON.stringify(driftedReport()));
  const text = await runCli(['remediate', '--report', path]);
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout, renderPlanText(remediationPlan(driftedReport())));
  const json = await runCli(['remediate', '--report', path, '--format', 'json']);
  t.is((JSON.parse(json.stdout) as { ghosts: number }).ghosts, 3);
  await writeFile(join(dir, 'bad.json'), '{"clusters": 1}');
  const bad = await runCli(['remediate', '--report', join(dir, 'bad.json')]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /is not a drift report/);
});
