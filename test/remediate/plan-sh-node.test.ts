/**
 * The sh plan run by bash with the real kubectl against the workload API stand-in: the Node it
 * drains and deletes is the one that carries the Ghost VM's BIOS UUID, whatever name the report
 * gives. govc (the VM side, checked elsewhere) is a shim that passes vm_guard and records the rest.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { kubeconfigInBackup, remediationPlan } from '../../src/remediate/plan.js';
import { renderPlanSh } from '../../src/remediate/render.js';
import { startApiServer, type ApiServer, type NodeSpec, type PodSpec } from '../helpers/apiserver.js';
import { cluster, report } from '../helpers/reports.js';
import { tempDir } from '../helpers/scenario.js';

const run = promisify(execFile);
const BIOS = '42000003-0000-4000-8000-000000000003';
const OTHER = '42000007-0000-4000-8000-000000000007';

const ghost = (nodeName: string, controlPlane = false): DriftReport => {
  const m: MachineReport = {
    name: 'wc1-md-0-ghost',
    status: 'Ghost',
    reason: 'VM wc1-md-0-ghost has no Machine in the backup',
    source: 'vm',
    vcenter: 'vc-a.example.com',
    datacenter: 'DC0',
    vmName: 'wc1-md-0-ghost',
    biosUUID: BIOS,
    instanceUUID: '52000003-0000-4000-8000-000000000003',
    nodeName,
  };
  return report('backup.tar.gz', controlPlane ? cluster('default', 'wc1', [m]) : cluster('default', 'wc1', [], [m]));
};

const NODES = (): NodeSpec[] => [
  { name: 'wc1-md-0-ghost', providerID: `vsphere://${BIOS}` },
  { name: 'wc1-md-0-healthy', providerID: `vsphere://${OTHER}` },
  { name: 'wc1-control-plane-aaaaa', providerID: 'vsphere://42000001-0000-4000-8000-000000000001', controlPlane: true },
];

const etcdPod = (nodeName: string): PodSpec => ({
  name: `etcd-${nodeName}`,
  namespace: 'kube-system',
  nodeName,
  labels: { component: 'etcd' },
});

/** Writes the plan, a backup holding the stand-in's kubeconfig Secret, and the govc shim; runs the plan. */
async function runPlan(api: ApiServer, r: DriftReport): Promise<{ code: number; stderr: string; govc: string }> {
  const dir = await tempDir('drift-plan-sh-');
  const secret = join(dir, 'tree', kubeconfigInBackup('default', 'wc1'));
  await mkdir(join(secret, '..'), { recursive: true });
  await writeFile(secret, JSON.stringify({ kind: 'Secret', data: { value: Buffer.from(api.kubeconfig()).toString('base64') } }));
  await run('tar', ['-czf', join(dir, 'backup.tar.gz'), '-C', join(dir, 'tree'), 'resources']);
  await mkdir(join(dir, 'bin'));
  // govc: one VM for vm_guard's finds; every other call recorded, nothing done.
  const shim = `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >>${join(dir, 'govc.log')}\n[ "$1" = find ] && echo /DC0/vm/wc1-md-0-ghost\nexit 0\n`;
  await writeFile(join(dir, 'bin', 'govc'), shim);
  await chmod(join(dir, 'bin', 'govc'), 0o755);
  await writeFile(join(dir, 'govc.log'), '');
  await writeFile(join(dir, 'plan.sh'), renderPlanSh(remediationPlan(r)));
  const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, BACKUP: join(dir, 'backup.tar.gz') };
  const outcome = await run('bash', [join(dir, 'plan.sh')], { env, timeout: 300_000 }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (err: { code?: number; stderr?: string }) => ({ code: err.code ?? -1, stderr: err.stderr ?? '' }),
  );
  return { ...outcome, govc: await readFile(join(dir, 'govc.log'), 'utf8') };
}

const names = (nodes: NodeSpec[]) => nodes.map((n) => n.name);

test('the report names the Node that carries the BIOS UUID: drained, deleted, then the VM', async (t) => {
  const nodes = NODES();
  const api = await startApiServer({ nodes, pods: [etcdPod('wc1-control-plane-aaaaa')] });
  t.teardown(() => api.stop());
  const out = await runPlan(api, ghost('wc1-md-0-ghost'));
  t.is(out.code, 0, out.stderr);
  t.deepEqual(names(nodes), ['wc1-md-0-healthy', 'wc1-control-plane-aaaaa']);
  t.regex(out.govc, new RegExp(`vm\\.destroy -dc=/DC0 -vm\\.uuid=${BIOS}`));
});

test('a swapped nodeName (a healthy Node) is refused before any drain, naming the Node and the UUID', async (t) => {
  const nodes = NODES();
  const api = await startApiServer({ nodes });
  t.teardown(() => api.stop());
  const out = await runPlan(api, ghost('wc1-md-0-healthy'));
  t.not(out.code, 0);
  t.regex(out.stderr, new RegExp(`refusing: the plan names Node wc1-md-0-healthy, but Node wc1-md-0-ghost carries BIOS UUID ${BIOS}`));
  t.deepEqual(names(nodes), ['wc1-md-0-ghost', 'wc1-md-0-healthy', 'wc1-control-plane-aaaaa']);
  t.false(
    nodes.some((n) => n.unschedulable),
    'nothing cordoned',
  );
  t.notRegex(out.govc, /vm\.(power|destroy)/);
});

test('a nodeName of a Node that carries no BIOS UUID of the Ghost, when none carries it, is refused', async (t) => {
  const nodes = NODES().filter((n) => n.name !== 'wc1-md-0-ghost');
  const api = await startApiServer({ nodes });
  t.teardown(() => api.stop());
  const out = await runPlan(api, ghost('wc1-md-0-healthy'));
  t.not(out.code, 0);
  t.regex(out.stderr, new RegExp(`the plan names Node wc1-md-0-healthy, but no Node carries BIOS UUID ${BIOS}`));
  t.is(nodes.length, 2);
});

test('a worker Ghost whose Node (its providerID in upper case) carries the control-plane label is refused', async (t) => {
  const nodes: NodeSpec[] = [
    { name: 'wc1-md-0-ghost', providerID: `vsphere://${BIOS.toUpperCase()}`, controlPlane: true },
    ...NODES().slice(1),
  ];
  const api = await startApiServer({ nodes });
  t.teardown(() => api.stop());
  const out = await runPlan(api, ghost('wc1-md-0-ghost'));
  t.not(out.code, 0);
  t.regex(out.stderr, new RegExp(`refusing: Node wc1-md-0-ghost \\(BIOS UUID ${BIOS}\\) carries the control-plane role label: not a worker`));
  t.is(nodes.length, 3);
  t.false(nodes.some((n) => n.unschedulable));
});

test('a worker Ghost whose Node runs an etcd Pod is refused', async (t) => {
  const nodes = NODES();
  const api = await startApiServer({ nodes, pods: [etcdPod('wc1-md-0-ghost')] });
  t.teardown(() => api.stop());
  const out = await runPlan(api, ghost('wc1-md-0-ghost'));
  t.not(out.code, 0);
  t.regex(out.stderr, new RegExp(`refusing: an etcd Pod runs on Node wc1-md-0-ghost \\(BIOS UUID ${BIOS}\\): not a worker`));
  t.is(nodes.length, 3);
  t.false(nodes.some((n) => n.unschedulable));
  t.notRegex(out.govc, /vm\.(power|destroy)/);
});
