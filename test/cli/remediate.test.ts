/** `drift-detector remediate --apply` against a real vSphere simulator: exactly the Ghosts go, nothing else. */
import test, { type ExecutionContext } from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { listVCenter } from '../../src/vsphere/inventory.js';
import { withVimSession } from '../../src/vsphere/session.js';
import { findVMByUuid, waitForTask } from '../../src/vsphere/vm-tasks.js';
import { startApiServer, type NodeSpec } from '../helpers/apiserver.js';
import type { SeedVM } from '../helpers/seed.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster, type Scenario } from '../helpers/scenario.js';

const CP_GHOST = 'wc1-control-plane-qqqqq';

/** wc1 with a worker Ghost and a control-plane Ghost, a cluster created later (infrastructure machines) and an unrelated VM. */
async function drifted(t: ExecutionContext): Promise<Scenario & { reportPath: string; report: DriftReport; dir: string }> {
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { controlPlane: 3 })] },
    {
      mutate: (dcs, b) => {
        const c = b.clusters[0]!;
        dcs[0]!.vms.push(capvVM(`${c.machineDeploymentName}-7f9c8d-zzzzz`), capvVM(CP_GHOST), capvVM('wc9-md-0-5d6f7-bbbbb'));
        dcs[0]!.vms.push(capvVM('jumpbox', { folder: undefined, resourcePool: undefined, extraConfig: {} }));
      },
    },
  );
  const dir = await tempDir('drift-remediate-');
  const reportPath = join(dir, 'report.json');
  const detect = await runCli(['detect', '--backup', s.backup.path, '-o', reportPath, '--skip-access-apiserver']);
  t.is(detect.code, 0, detect.stderr);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as DriftReport;
  return { ...s, reportPath, report, dir };
}

const target = (s: Scenario) => ({ server: s.vcsim.server, username: 'user', password: 'pass', thumbprint: s.vcsim.thumbprint });

async function vmNames(s: Scenario): Promise<string[]> {
  const listing = await listVCenter(target(s));
  if (!listing.ok) throw new Error(listing.reason);
  return listing.vms.map((vm) => vm.name).sort();
}

const ghosts = (r: DriftReport): MachineReport[] =>
  r.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]).filter((m) => m.status === 'Ghost');

const apply = (s: { backup: { path: string }; reportPath: string }, ...flags: string[]) =>
  runCli(['remediate', '--report', s.reportPath, '--apply', '--skip-access-apiserver', ...flags]);

test('apply: exactly the Ghost VMs disappear, every other VM stays, and detect then finds no Ghost', async (t) => {
  const s = await drifted(t);
  t.deepEqual(
    ghosts(s.report)
      .map((g) => g.name)
      .sort(),
    [CP_GHOST, s.backup.clusters[0]!.machineDeploymentName + '-7f9c8d-zzzzz'].sort(),
  );
  const before = await vmNames(s);
  const dry = await runCli(['remediate', '--report', s.reportPath]);
  t.is(dry.code, 0);
  t.deepEqual(await vmNames(s), before, 'no --apply, nothing done');

  const result = await apply(s, '--yes', '--etcd-member-removed', CP_GHOST);
  t.is(result.code, 0, result.stderr + result.stdout);
  t.regex(result.stderr, /VM before: .*poweredOn/);
  t.regex(result.stderr, /VM after: destroyed/);
  const gone = new Set(ghosts(s.report).map((g) => g.name));
  t.deepEqual(
    await vmNames(s),
    before.filter((n) => !gone.has(n)),
  );

  const again = join(s.dir, 'again.json');
  t.is((await runCli(['detect', '--backup', s.backup.path, '-o', again, '--skip-access-apiserver'])).code, 0);
  t.deepEqual(ghosts(JSON.parse(await readFile(again, 'utf8')) as DriftReport), []);
});

test('apply: a control-plane Ghost without --etcd-member-removed is refused, the worker goes: exit 1', async (t) => {
  const s = await drifted(t);
  const result = await apply(s, '--yes');
  t.is(result.code, 1, result.stderr);
  t.regex(result.stdout, new RegExp(`refused\\t[^\\t]*\\t${CP_GHOST}\\t.*etcd member`));
  t.true((await vmNames(s)).includes(CP_GHOST));
});

test('apply with the vCenter down: every Ghost refused with the cause (connection refused), not "not a Ghost any more"', async (t) => {
  const s = await drifted(t);
  await s.vcsim.stop();
  const result = await apply(s, '--yes', '--etcd-member-removed', CP_GHOST);
  t.is(result.code, 2, result.stderr);
  const lines = result.stdout.trim().split('\n');
  t.is(lines.length, 2);
  for (const line of lines) {
    t.regex(
      line,
      new RegExp(`^refused\\t.*\\tvCenter ${s.vcsim.server} could not be listed, so the Ghost cannot be re-verified: connection refused by`),
    );
  }
  t.notRegex(result.stdout, /any more/);
});

test('apply: a VM renamed since the report is refused, and stays', async (t) => {
  const s = await drifted(t);
  const worker = ghosts(s.report).find((g) => g.name !== CP_GHOST)!;
  await withVimSession(target(s), {}, async (session) => {
    const vm = await findVMByUuid(session, worker.biosUUID!, false);
    const [task] = await session.callMethod('Rename_Task', vm!, [['newName', 'renamed-by-someone']]);
    await waitForTask(session, task!, 'Rename_Task');
  });
  const result = await apply(s, '--yes', '--etcd-member-removed', CP_GHOST);
  t.is(result.code, 1, result.stderr);
  t.regex(result.stdout, /refused\t.*renamed since the report/);
  t.true((await vmNames(s)).includes('renamed-by-someone'));
  t.false((await vmNames(s)).includes(CP_GHOST));
});

test('apply: a VM re-created since the report (another instance UUID) is refused; a Healthy machine a report calls Ghost is never touched', async (t) => {
  const s = await drifted(t);
  const tampered = structuredClone(s.report);
  const wc1 = tampered.clusters[0]!;
  const worker = wc1.workers.machines.find((m) => m.status === 'Ghost')!;
  worker.instanceUUID = '11111111-2222-4333-8444-555555555555';
  const healthy = wc1.workers.machines.find((m) => m.status === 'Healthy')!;
  Object.assign(healthy, { status: 'Ghost', source: 'vm' });
  wc1.controlPlane.machines = wc1.controlPlane.machines.filter((m) => m.status !== 'Ghost');
  await writeFile(s.reportPath, JSON.stringify(tampered));
  const before = await vmNames(s);
  const result = await apply(s, '--yes');
  t.is(result.code, 2, result.stderr);
  t.regex(result.stdout, /refused\t.*re-created since the report/);
  t.regex(result.stdout, /refused\t.*the backup now has Machine/);
  t.deepEqual(await vmNames(s), before);
});

test('apply: refused without --yes off a terminal, for an old report, and for another backup', async (t) => {
  const s = await drifted(t);
  const noYes = await apply(s);
  t.is(noYes.code, 2);
  t.regex(noYes.stderr, /give --yes/);
  const old = structuredClone(s.report);
  old.metadata!.generatedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
  await writeFile(s.reportPath, JSON.stringify(old));
  const tooOld = await apply(s, '--yes');
  t.is(tooOld.code, 2);
  t.regex(tooOld.stderr, /min old, more than 60 min/);
  await writeFile(s.reportPath, JSON.stringify(s.report));
  const other = await apply(s, '--yes', '--backup', join(s.dir, 'other.tar.gz'));
  t.is(other.code, 2);
  t.regex(other.stderr, /the report is of backup .*, not of/);
});

test('apply with the workload API server: the Ghost worker Node is deleted with the kubeconfig from the backup, the other Nodes stay', async (t) => {
  const nodes: NodeSpec[] = [];
  const api = await startApiServer({ nodes });
  t.teardown(() => api.stop());
  let ghostVM: SeedVM | undefined;
  const s = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { kubeconfig: api.kubeconfig({ clusterName: 'wc1' }) })] },
    {
      mutate: (dcs, b) => {
        ghostVM = capvVM(`${b.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`);
        dcs[0]!.vms.push(ghostVM);
      },
    },
  );
  nodes.push(
    ...s.backup.clusters[0]!.machines.map((m) => ({ name: m.name, providerID: `vsphere://${m.biosUuid}`, controlPlane: m.controlPlane })),
    { name: ghostVM!.name, providerID: `vsphere://${ghostVM!.uuid}` },
  );
  const dir = await tempDir('drift-remediate-');
  const reportPath = join(dir, 'report.json');
  t.is((await runCli(['detect', '--backup', s.backup.path, '-o', reportPath])).code, 0);
  const kept = nodes.filter((n) => n.name !== ghostVM!.name).map((n) => n.name);
  const result = await runCli(['remediate', '--report', reportPath, '--apply', '--yes']);
  t.is(result.code, 0, result.stderr + result.stdout);
  t.regex(result.stderr, /Node [^:]+-zzzzz: present -> deleted/);
  t.deepEqual(
    nodes.map((n) => n.name),
    kept,
  );
  t.false((await vmNames(s)).includes(ghostVM!.name));
});
