/**
 * The operator's baseline against a real vSphere simulator: detect, `baseline` of today's
 * infrastructure machines, detect with that ignore file (nothing to confirm); a machine made later
 * is flagged again, and a pattern that matches a Ghost leaves it a Ghost, with a warning.
 */
import test from 'ava';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport } from '../../src/model/report.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';

test('detect -> baseline -> detect --ignore-file: Healthy with N ignored; a new machine and a Ghost are flagged again', async (t) => {
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      // After the backup: a cluster made on purpose and a tool VM in the clusters' dedicated folder.
      mutate: (dcs) =>
        dcs[0]!.vms.push(capvVM('wc9-control-plane-aaaaa'), capvVM('wc9-md-0-5d6f7-bbbbb'), capvVM('grafana', { extraConfig: {} })),
    },
  );
  const dir = await tempDir('drift-ignore-');
  const reportPath = join(dir, 'report.json');
  const ignoreFile = join(dir, '.driftignore');
  const detect = async (...flags: string[]) => {
    const result = await runCli(['detect', '--backup', s.backup.path, '-o', reportPath, '--skip-access-apiserver', '--exit-code', ...flags]);
    t.is(result.stderr, '');
    return { code: result.code, stdout: result.stdout, report: JSON.parse(await readFile(reportPath, 'utf8')) as DriftReport };
  };

  const first = await detect();
  t.is(first.code, 1);
  t.is(first.report.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.is(first.report.infraMachines.length, 3);

  const baseline = await runCli(['baseline', '--report', reportPath]);
  t.is(baseline.code, 0, baseline.stderr);
  const patterns = baseline.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
  t.deepEqual(patterns, ['/DC0/vm/tkg/grafana', '/DC0/vm/tkg/wc9-control-plane-aaaaa', '/DC0/vm/tkg/wc9-md-0-5d6f7-bbbbb']);
  t.regex(baseline.stdout, new RegExp(`^# Backup: ${s.backup.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  t.regex(baseline.stdout, new RegExp(`^# Report generated: ${first.report.metadata!.generatedAt}$`, 'm'));
  await writeFile(ignoreFile, baseline.stdout);

  const known = await detect('--ignore-file', ignoreFile);
  t.is(known.code, 0, 'nothing to do: every infrastructure machine is known');
  t.is(known.report.summary.status, 'Healthy');
  t.is(known.report.summary.ignoredVMs, 3);
  t.deepEqual(known.report.infraMachines, []);
  t.is(known.report.metadata!.ignoreFile, ignoreFile);
  t.regex(known.stdout, /^ {2}VMs ignored: +3 \(by .*\.driftignore\)$/m);

  // vSphere changes after the baseline: a machine nobody knows appears.
  await s.vcsim.addVM(s.seed.datacenters[0]!.name, capvVM('wc10-md-0-6c7d8-ccccc'));
  const later = await detect('--ignore-file', ignoreFile);
  t.is(later.code, 1);
  t.is(later.report.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.deepEqual(
    later.report.infraMachines.map((m) => m.name),
    ['wc10-md-0-6c7d8-ccccc'],
  );
  t.is(later.report.summary.ignoredVMs, 3);

  // wc1 scales out after the backup, and someone adds a pattern that would hide its new VM.
  const ghost = `${s.backup.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`;
  await s.vcsim.addVM(s.seed.datacenters[0]!.name, capvVM(ghost));
  const lines = baseline.stdout.split('\n').length; // the file ends with a newline: the next line is this one
  await appendFile(ignoreFile, 'wc1-*\n');
  const ghosted = await detect('--ignore-file', ignoreFile);
  t.is(ghosted.report.summary.status, 'ManualRemediationRequired');
  t.true(ghosted.report.clusters[0]!.workers.machines.some((m) => m.name === ghost && m.status === 'Ghost'));
  t.is(ghosted.report.summary.ignoredVMs, 3);
  t.deepEqual(ghosted.report.errors, [
    {
      scope: 'cluster:default/wc1',
      message: `${ignoreFile} line ${lines}: pattern "wc1-*" matches ${ghost}, a Ghost of this cluster; a Ghost of a backed-up cluster is never ignored`,
      severity: 'warning',
    },
  ]);
  t.regex(ghosted.stdout, /Warnings\n.*pattern "wc1-\*" matches/);
});
