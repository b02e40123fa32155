import test from 'ava';
import { mkdtemp, readdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeDrift } from '../../src/drift/analyze.js';
import type { DriftReport } from '../../src/model/report.js';
import { renderConsole } from '../../src/report/console.js';
import { withoutHealthy } from '../../src/report/filter.js';
import { renderJson, writeJsonReport } from '../../src/report/json.js';
import * as reportHelpers from '../helpers/reports.js';

const VC = 'vc.example.com';
const uuid = (n: number) => `00000000-0000-0000-0000-${n.toString().padStart(12, '0')}`;

function sample(): DriftReport {
  const machine = (name: string, n: number, controlPlane = false) => ({
    namespace: 'default',
    name,
    cluster: name.split('-')[0]!,
    controlPlane,
    biosUuid: uuid(n),
    vmName: name,
    placement: { vcenter: VC, datacenter: 'DC0' },
  });
  const vm = (name: string, n: number) => ({
    moref: `vm-${n}`,
    name,
    biosUuid: uuid(n),
    template: false,
    powerState: 'poweredOn',
    datacenter: 'DC0',
    capvMetadata: true,
  });
  return analyzeDrift({
    clusters: [
      { namespace: 'default', name: 'wc1', placement: { vcenter: VC }, machines: [machine('wc1-cp-a', 1, true), machine('wc1-md-a', 2)] },
      { namespace: 'default', name: 'wc2', placement: { vcenter: VC }, machines: [machine('wc2-md-a', 3)] },
    ],
    vcenters: [{ ok: true, vcenter: VC, vms: [vm('wc1-cp-a', 1), vm('wc1-md-a', 2), vm('wc1-md-b', 4)] }],
  });
}

test('console report colours statuses on a TTY', (t) => {
  t.true(renderConsole(sample(), { color: true }).includes('\u001b[31mManualRemediationRequired\u001b[0m'));
});

test('--ignore-healthy-resources drops Healthy machines and clusters but keeps the summary whole', (t) => {
  const full = sample();
  const shown = withoutHealthy(full);
  t.deepEqual(shown.summary, full.summary);
  const wc1 = shown.clusters.find((c) => c.name === 'wc1')!;
  t.deepEqual(wc1.controlPlane.machines, []);
  t.deepEqual(
    wc1.workers.machines.map((m) => m.status),
    ['Ghost'],
  );
  const healthyOnly = analyzeDrift({ clusters: [], vcenters: [] });
  t.deepEqual(withoutHealthy({ ...healthyOnly, clusters: full.clusters.map((c) => ({ ...c, status: 'Healthy' as const })) }).clusters, []);
});

// The report's field names and layout: the golden files (report.golden.test.ts).
test('the JSON report is written atomically, as renderJson renders it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-'));
  const path = join(dir, 'report.json');
  await writeJsonReport(path, sample());
  t.is(await readFile(path, 'utf8'), renderJson(sample()));
  t.deepEqual(await readdir(dir), ['report.json']);
});

test('a report that cannot be written leaves the old one whole and no temp file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-'));
  const path = join(dir, 'report.json');
  await writeFile(path, 'previous');
  await chmod(dir, 0o500);
  try {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; write through a path whose parent is a file instead.
      await t.throwsAsync(writeJsonReport(join(path, 'nested.json'), sample()));
    } else {
      await t.throwsAsync(writeJsonReport(path, sample()));
    }
  } finally {
    await chmod(dir, 0o700);
  }
  t.is(await readFile(path, 'utf8'), 'previous');
  t.deepEqual(await readdir(dir), ['report.json']);
});

test('console: names, reasons and findings from vSphere are shown escaped: no raw newline, terminal escape or U+202E', (t) => {
  const { cluster, machine, report } = reportHelpers;
  const forged = 'wc1-md-x\n  Cluster default/ok: Healthy\u001b[2J\u202e';
  const r = report('b1', cluster('default', 'wc1', [machine('wc1-cp', 'Healthy')], [machine(forged, 'Ghost')]));
  r.infraMachines.push({ name: 'jump\u202ebox', vcenter: 'vc', biosUUID: 'u', reason: 'no owner\nforged line' });
  r.errors.push({ scope: 'vcenter:vc', message: 'VM jump\u2066box: odd', severity: 'warning' });
  const text = renderConsole(r, { color: true });
  t.true(text.includes('wc1-md-x\\u{a}  Cluster default/ok: Healthy\\u{1b}[2J\\u{202e}'));
  t.true(text.includes('VM jump\\u{202e}box on vc (BIOS UUID u): no owner\\u{a}forged line'));
  t.true(text.includes('vcenter:vc: VM jump\\u{2066}box: odd'));
  t.false(text.includes('\u001b[2J') || /[\u202e\u2066]|\nforged/.test(text));
});
