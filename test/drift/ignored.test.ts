/**
 * docs/drift-rules.md §4, the ignore file in the analysis: a VM it matches is out of scope and
 * counted as ignored, unless the VM is a Ghost of a backed-up cluster, which stays a Ghost with a
 * warning naming the file, line, pattern and VM.
 */
import test from 'ava';
import { parseIgnoreRules } from '../../src/drift/ignore.js';
import { run, uuid, vm, wc1VMs } from './fixtures.js';

const rules = (text: string) => parseIgnoreRules(text, '.driftignore');
const infra = () => [vm('wc9-control-plane-xxxxx', 90), vm('wc9-md-0-yyyyy', 91)];
const jumpbox = () => vm('jumpbox', 92, { folder: '/DC0/vm/tools', capvMetadata: false });

test('infrastructure machines matched by inventory path are out of scope: counted as ignored, not listed', (t) => {
  const ignore = rules('/DC0/vm/tkg/wc9-control-plane-xxxxx\n/DC0/vm/tkg/wc9-md-0-yyyyy\n');
  const report = run({ vms: [...wc1VMs(), ...infra(), jumpbox()], ignore });
  t.deepEqual(report.infraMachines, []);
  t.is(report.summary.status, 'Healthy');
  t.is(report.summary.infraMachinesNeedFurtherConfirmation, 0);
  t.is(report.summary.ignoredVMs, 2);
  t.is(report.summary.outOfScopeVMs, 1, 'the jumpbox no pattern names stays out of scope, not ignored');
  t.deepEqual(report.errors, []);
});

test('a VM that would be out of scope anyway is counted as ignored when a pattern names it, and once only', (t) => {
  const report = run({ vms: [...wc1VMs(), jumpbox()], ignore: rules('/DC0/vm/tools/\njumpbox') });
  t.is(report.summary.ignoredVMs, 1);
  t.is(report.summary.outOfScopeVMs, 0);
});

test('a ! pattern brings a VM back into scope', (t) => {
  const report = run({ vms: [...wc1VMs(), ...infra()], ignore: rules('wc9-*\n!wc9-md-*') });
  t.deepEqual(
    report.infraMachines.map((m) => m.name),
    ['wc9-md-0-yyyyy'],
  );
  t.is(report.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.is(report.summary.ignoredVMs, 1);
});

test('a Ghost of a backed-up cluster is never ignored: it stays a Ghost, with a warning naming the pattern, line and VM', (t) => {
  const ghost = vm('wc1-md-0-abc-zzzzz', 50);
  const report = run({ vms: [...wc1VMs(), ghost], ignore: rules('# known\n\nwc1-md-0-*\n') });
  t.is(report.summary.status, 'ManualRemediationRequired');
  t.is(report.summary.ignoredVMs, 0);
  t.true(report.clusters[0]!.workers.machines.some((m) => m.name === ghost.name && m.status === 'Ghost'));
  t.deepEqual(report.errors, [
    {
      scope: 'cluster:default/wc1',
      message:
        '.driftignore line 3: pattern "wc1-md-0-*" matches wc1-md-0-abc-zzzzz, a Ghost of this cluster; a Ghost of a backed-up cluster is never ignored',
      severity: 'warning',
    },
  ]);
  t.false(report.summary.hasErrors, 'a warning, not an error');
});

test('a Ghost seen only as a Node is never ignored either', (t) => {
  const report = run({
    ignore: rules('**'),
    workloads: [
      {
        namespace: 'default',
        cluster: 'wc1',
        reached: true,
        nodes: [{ name: 'wc1-md-0-abc-elsewhere', providerID: `vsphere://${uuid(77)}`, controlPlane: false }],
      },
    ],
  });
  t.is(report.summary.status, 'ManualRemediationRequired');
  t.regex(report.errors[0]!.message, /line 1: pattern "\*\*" matches wc1-md-0-abc-elsewhere, a Ghost/);
});

test("a backed-up machine's VM is matched before any pattern: a pattern cannot hide it, and it is not counted", (t) => {
  const report = run({ ignore: rules('*') });
  t.is(report.summary.status, 'Healthy');
  t.is(report.summary.ignoredVMs, 0);
  t.true(report.clusters[0]!.controlPlane.machines.every((m) => m.status === 'Healthy'));
});

test('without an ignore file nothing is ignored', (t) => {
  const report = run({ vms: [...wc1VMs(), ...infra()] });
  t.is(report.summary.ignoredVMs, 0);
  t.is(report.infraMachines.length, 2);
});
