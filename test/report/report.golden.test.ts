/**
 * What `drift-detector detect` shows people, whole: the JSON report and the console output (plain:
 * stdout is not a terminal), run as a user runs it, against an inventory snapshot so no vCenter is
 * needed. Golden files under test/golden/report/; `npm run test:golden:update` rewrites them.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InventorySnapshot, InventoryVM } from '../../src/model/inventory.js';
import type { DriftReport } from '../../src/model/report.js';
import { buildBackup, type FixtureCluster, type FixtureMachineResult } from '../fixtures/builder.js';
import { assertGolden } from '../helpers/golden.js';
import { runCli, tempDir } from '../helpers/scenario.js';
import { capvVM } from '../helpers/vms.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Runs `detect` writing the report into a new directory; compares the report and stdout with `<name>.json` and `<name>.console.txt`. */
async function detectGolden(t: ExecutionContext, name: string, args: string[], dir?: string): Promise<{ report: string; stdout: string }> {
  const out = await tempDir('drift-golden-');
  const output = join(out, 'report.json');
  const result = await runCli(['detect', ...args, '-o', output]);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '', 'nothing on stderr without -D');
  const report = await readFile(output, 'utf8');
  const paths = { '<out>': out, ...(dir ? { '<tmp>': dir } : {}), '<repo>': root };
  await assertGolden(t, `report/${name}.json`, report, { paths });
  await assertGolden(t, `report/${name}.console.txt`, result.stdout, { paths });
  return { report, stdout: result.stdout };
}

test('the bundled example, as the README runs it: report and console', async (t) => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // `npm run example`'s own command line, without its -o (the report goes to a temporary directory).
  const args = pkg.scripts['example']!.split('&&').pop()!.trim().split(/\s+/).slice(3, -2);
  t.deepEqual(args.slice(0, 1), ['--backup'], 'the example script still runs `detect --backup ... -o report.json`');
  const { report, stdout } = await detectGolden(t, 'example', args);
  t.false(
    report.includes('example-only') || stdout.includes('example-only'),
    'the vCenter password in the example backup never reaches the report',
  );
});

// ---------------------------------------------------------------------------------------------
// A drifted management cluster: every kind of finding at once.

const VC_A = 'vc-a.example.com';
const VC_B = 'vc-b.example.com';
const placement = (server: string) => ({
  server,
  datacenter: '/DC0',
  folder: '/DC0/vm/tkg',
  resourcePool: '/DC0/host/DC0_C0/Resources/tkg',
  username: 'tkg@vsphere.local',
  password: 'golden-secret',
});
const cluster = (name: string, extra: Partial<FixtureCluster> = {}): FixtureCluster => ({
  name,
  vcenter: placement(VC_A),
  controlPlane: 1,
  workers: 2,
  ...extra,
});

const uuid = (n: number) => `4200${n.toString(16).padStart(4, '0')}-0000-4000-8000-${n.toString().padStart(12, '0')}`;

function vm(n: number, name: string, extra: Partial<InventoryVM> = {}): InventoryVM {
  return capvVM({ moref: `vm-${n}`, name, biosUuid: uuid(n), instanceUuid: uuid(1000 + n) }, extra);
}

function vmOf(machine: FixtureMachineResult, n: number): InventoryVM {
  return vm(n, machine.name, { biosUuid: machine.biosUuid, instanceUuid: machine.instanceUuid });
}

/**
 * After the backup: wc-ghost scaled out (a Ghost worker), wc-stale lost a worker (Stale), a VM of
 * wc-unknown was cloned (a duplicate BIOS UUID: Unknown), wc-elsewhere's vCenter is not in the
 * snapshot (an error; its machines Unknown), a new cluster's VMs appeared (infrastructure machines),
 * with an unrelated VM (out of scope) and a template; the old management cluster is a warning.
 */
async function driftedScenario(dir: string): Promise<{ backup: string; inventory: string }> {
  const backup = await buildBackup(
    {
      seed: 'golden-drift',
      clusters: [
        cluster('wc-ghost'),
        cluster('wc-stale'),
        cluster('wc-unknown', { namespace: 'tkg' }),
        cluster('wc-healthy', { workers: 1, classBased: true }),
        cluster('wc-elsewhere', { vcenter: placement(VC_B), workers: 1 }),
      ],
      managementCluster: true,
    },
    { path: join(dir, 'backup.tar.gz') },
  );
  const machines = (name: string) => backup.clusters.find((c) => c.name === name)!.machines;
  const vms: InventoryVM[] = [];
  let n = 1;
  for (const c of ['wc-ghost', 'wc-stale', 'wc-unknown', 'wc-healthy']) {
    const all = machines(c);
    const kept = c === 'wc-stale' ? all.filter((m) => m !== all.find((x) => !x.controlPlane)) : all;
    for (const m of kept) vms.push(vmOf(m, n++));
  }
  const ghostMd = backup.clusters.find((c) => c.name === 'wc-ghost')!.machineDeploymentName;
  vms.push(vm(101, `${ghostMd}-7f9c8d-zzzzz`));
  const cloned = vms.find((v) => v.name === machines('wc-unknown').find((m) => !m.controlPlane)!.name)!;
  cloned.instanceUuid = uuid(2000);
  vms.push(vm(102, 'copy-of-a-worker', { biosUuid: cloned.biosUuid }));
  vms.push(vm(103, 'wc-new-control-plane-aaaaa'), vm(104, 'wc-new-md-0-5d6f7-bbbbb'));
  vms.push(vm(105, 'database-01', { folder: '/DC0/vm/apps', resourcePool: '/DC0/host/DC0_C0/Resources', capvMetadata: false }));
  vms.push(vm(106, 'ubuntu-2204-template', { template: true, powerState: 'poweredOff', resourcePool: undefined, capvMetadata: false }));
  const snapshot: InventorySnapshot = {
    kind: 'DriftDetectorInventory',
    version: 1,
    takenAt: '2026-01-02T03:04:05.000Z',
    vcenters: [{ vcenter: VC_A, vms }],
  };
  const inventory = join(dir, 'inventory.json');
  await writeFile(inventory, `${JSON.stringify(snapshot, null, 2)}\n`);
  return { backup: backup.path, inventory };
}

test('a drifted backup: Ghost, Stale, Unknown, infrastructure machines, errors and warnings', async (t) => {
  const dir = await tempDir('drift-golden-');
  const { backup, inventory } = await driftedScenario(dir);
  const { report, stdout } = await detectGolden(t, 'drifted', ['--backup', backup, '--inventory', inventory, '--skip-access-apiserver'], dir);
  for (const text of [report, stdout]) t.false(text.includes('golden-secret'), 'no vCenter password in the outputs');
});

test('a drifted backup with --ignore-healthy-resources: only what needs attention is listed', async (t) => {
  const dir = await tempDir('drift-golden-');
  const { backup, inventory } = await driftedScenario(dir);
  await detectGolden(
    t,
    'drifted-ignore-healthy',
    ['--backup', backup, '--inventory', inventory, '--skip-access-apiserver', '--ignore-healthy-resources'],
    dir,
  );
});

test('a backup with no drift: no errors or warnings to show', async (t) => {
  const dir = await tempDir('drift-golden-');
  const backup = await buildBackup({ seed: 'golden-healthy', clusters: [cluster('wc1')] }, { path: join(dir, 'backup.tar.gz') });
  const vms = backup.clusters[0]!.machines.map((m, i) => vmOf(m, i + 1));
  const inventory = join(dir, 'inventory.json');
  const snapshot: InventorySnapshot = {
    kind: 'DriftDetectorInventory',
    version: 1,
    takenAt: '2026-01-02T03:04:05.000Z',
    vcenters: [{ vcenter: VC_A, vms }],
  };
  await writeFile(inventory, JSON.stringify(snapshot));
  await detectGolden(t, 'healthy', ['--backup', backup.path, '--inventory', inventory, '--skip-access-apiserver'], dir);
});

const IGNORE_FILE = `# VMs this team knows
/DC0/vm/tkg/wc-new-control-plane-aaaaa
wc-new-md-*
/DC0/vm/apps/

# a pattern that would hide a Ghost: the Ghost stays, with a warning
wc-ghost-md-*
`;

test('a drifted backup with --ignore-file: known VMs counted as ignored, a Ghost kept with a warning', async (t) => {
  const dir = await tempDir('drift-golden-');
  const { backup, inventory } = await driftedScenario(dir);
  const ignoreFile = join(dir, '.driftignore');
  await writeFile(ignoreFile, IGNORE_FILE);
  const { report } = await detectGolden(
    t,
    'drifted-ignore-file',
    ['--backup', backup, '--inventory', inventory, '--skip-access-apiserver', '--ignore-file', ignoreFile],
    dir,
  );
  const parsed = JSON.parse(report) as DriftReport;
  t.is(parsed.summary.ignoredVMs, 3);
  t.deepEqual(parsed.infraMachines, []);
});

test('baseline: the ignore file of a drifted report, then detect with it flags no infrastructure machine', async (t) => {
  const dir = await tempDir('drift-golden-');
  const { backup, inventory } = await driftedScenario(dir);
  const { report } = await detectGolden(t, 'drifted', ['--backup', backup, '--inventory', inventory, '--skip-access-apiserver'], dir);
  const reportPath = join(dir, 'report.json');
  await writeFile(reportPath, report);
  const baseline = await runCli(['baseline', '--report', reportPath]);
  t.is(baseline.code, 0, baseline.stderr);
  t.is(baseline.stderr, '');
  await assertGolden(t, 'report/drifted.baseline.txt', baseline.stdout, { paths: { '<tmp>': dir, '<repo>': root } });

  const ignoreFile = join(dir, '.driftignore');
  await writeFile(ignoreFile, baseline.stdout);
  const out = join(dir, 'again.json');
  const again = await runCli([
    'detect',
    '--backup',
    backup,
    '--inventory',
    inventory,
    '--skip-access-apiserver',
    '--ignore-file',
    ignoreFile,
    '-o',
    out,
  ]);
  t.is(again.code, 0, again.stderr);
  const next = JSON.parse(await readFile(out, 'utf8')) as DriftReport;
  t.deepEqual(next.infraMachines, []);
  t.is(next.summary.ignoredVMs, 2);
  t.is(next.summary.status, 'ManualRemediationRequired', 'the Ghost and the rest stay as they were');
});
