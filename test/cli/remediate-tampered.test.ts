/**
 * `remediate --apply` given tampered reports, against a real vSphere simulator and the workload API
 * stand-in: whatever the report says, nothing but a re-verified Ghost is touched. The Node to
 * delete is the one that carries the VM's BIOS UUID; control-plane-ness comes from the backup, the
 * Node's role label and the etcd Pods; a report with a field of the wrong type is refused whole.
 */
import test, { type ExecutionContext } from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { listVCenter } from '../../src/vsphere/inventory.js';
import { startApiServer, type NodeSpec, type PodSpec } from '../helpers/apiserver.js';
import type { VeleroItem } from '../fixtures/tarball.js';
import type { SeedVM } from '../helpers/seed.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster, type Scenario } from '../helpers/scenario.js';

const CP_GHOST = 'wc1-control-plane-qqqqq';

interface World extends Scenario {
  nodes: NodeSpec[];
  reportPath: string;
  report: DriftReport;
  worker: SeedVM;
  controlPlane: SeedVM;
  /** A Ghost named like a worker whose Node runs an etcd Pod (no role label). */
  hiddenEtcd: SeedVM;
}

const etcdPod = (node: string): PodSpec => ({ name: `etcd-${node}`, namespace: 'kube-system', nodeName: node, labels: { component: 'etcd' } });

/** wc1 (one control-plane machine, two workers) with three Ghost VMs, their Nodes and the etcd Pods; the report from detect. */
async function world(t: ExecutionContext, options: { workerNode?: boolean; claimedWorker?: boolean } = {}): Promise<World> {
  const nodes: NodeSpec[] = [];
  const pods: PodSpec[] = [];
  const api = await startApiServer({ nodes, pods });
  t.teardown(() => api.stop());
  const ghosts = [capvVM('wc1-md-0-7f9c8d-zzzzz'), capvVM(CP_GHOST), capvVM('wc1-md-0-7f9c8d-eeeee')];
  const [worker, controlPlane, hiddenEtcd] = ghosts as [SeedVM, SeedVM, SeedVM];
  const s = await scenario(
    t,
    {
      clusters: [tkgCluster('wc1', { kubeconfig: api.kubeconfig({ clusterName: 'wc1' }) })],
      ...(options.claimedWorker ? { extra: [orphanVSphereVM(worker)] } : {}),
    },
    { mutate: (dcs) => void dcs[0]!.vms.push(...ghosts) },
  );
  for (const m of s.backup.clusters[0]!.machines) {
    nodes.push({ name: m.name, providerID: `vsphere://${m.biosUuid}`, controlPlane: m.controlPlane });
    if (m.controlPlane) pods.push(etcdPod(m.name));
  }
  if (options.workerNode !== false) nodes.push({ name: worker.name, providerID: `vsphere://${worker.uuid}` });
  nodes.push({ name: controlPlane.name, providerID: `vsphere://${controlPlane.uuid}`, controlPlane: true });
  nodes.push({ name: hiddenEtcd.name, providerID: `vsphere://${hiddenEtcd.uuid}` });
  pods.push(etcdPod(controlPlane.name), etcdPod(hiddenEtcd.name));
  const dir = await tempDir('drift-remediate-');
  const reportPath = join(dir, 'report.json');
  const detect = await runCli(['detect', '--backup', s.backup.path, '-o', reportPath]);
  t.is(detect.code, 0, detect.stderr);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as DriftReport;
  return { ...s, nodes, reportPath, report, worker, controlPlane, hiddenEtcd };
}

/** A VSphereVM left in the backup without its Machine: it claims the VM, which the analysis still calls a Ghost. */
function orphanVSphereVM(vm: SeedVM): VeleroItem {
  return {
    resource: 'vspherevms.infrastructure.cluster.x-k8s.io',
    object: {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
      kind: 'VSphereVM',
      metadata: { name: vm.name, namespace: 'default', uid: vm.instanceUuid, labels: { 'cluster.x-k8s.io/cluster-name': 'wc1' } },
      spec: { biosUUID: vm.uuid, datacenter: '/DC0' },
    },
  };
}

async function vmNames(s: Scenario): Promise<string[]> {
  const listing = await listVCenter({ server: s.vcsim.server, username: 'u', password: 'p', thumbprint: s.vcsim.thumbprint });
  if (!listing.ok) throw new Error(listing.reason);
  return listing.vms.map((vm) => vm.name).sort();
}

const nodeNames = (w: World) => w.nodes.map((n) => n.name).sort();

/** The report's entry for this machine name, wherever it is listed. */
function entryOf(report: DriftReport, name: string): MachineReport {
  const all = report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]);
  return all.find((m) => m.name === name)!;
}

async function applyTampered(w: World, tamper: (r: DriftReport) => void, ...flags: string[]) {
  const tampered = structuredClone(w.report);
  tamper(tampered);
  await writeFile(w.reportPath, JSON.stringify(tampered));
  return runCli(['remediate', '--report', w.reportPath, '--apply', '--yes', ...flags]);
}

const swappedNode = [
  { title: 'a worker Ghost whose nodeName names a healthy Node', workerNode: true, found: (w: World) => `its Node is ${w.worker.name}` },
  // The fresh detection has no Node for it either: the live lookup by BIOS UUID refuses.
  {
    title: 'a Ghost without a Node whose report names a healthy one (the name is never looked up)',
    workerNode: false,
    found: () => 'no Node carries its BIOS UUID',
  },
];

for (const c of swappedNode) {
  test(`${c.title} is refused: every Node and VM stays`, async (t) => {
    const w = await world(t, { workerNode: c.workerNode });
    const healthy = w.report.clusters[0]!.workers.machines.find((m) => m.status === 'Healthy')!;
    t.is(entryOf(w.report, w.worker.name).nodeName, c.workerNode ? w.worker.name : undefined);
    const [vms, nodes] = [await vmNames(w), nodeNames(w)];
    const result = await applyTampered(w, (r) => {
      entryOf(r, w.worker.name).nodeName = healthy.name;
    });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stdout, new RegExp(`refused\\t[^\\t]*\\t${w.worker.name}\\t.*report names Node ${healthy.name} for it, but ${c.found(w)}`));
    t.deepEqual(nodeNames(w), nodes);
    t.deepEqual(await vmNames(w), vms);
  });
}

test('a control-plane Ghost moved into workers is refused without --etcd-member-removed, with and without the API server', async (t) => {
  const w = await world(t);
  const moved = (r: DriftReport) => {
    const c = r.clusters[0]!;
    const cp = c.controlPlane.machines.find((m) => m.name === CP_GHOST)!;
    c.controlPlane.machines = c.controlPlane.machines.filter((m) => m !== cp);
    c.workers.machines.push(cp);
  };
  const skipped = await applyTampered(w, moved, '--skip-access-apiserver');
  t.regex(skipped.stdout, new RegExp(`refused\\t[^\\t]*\\t${CP_GHOST}\\t.*lists it as a worker machine, but it is a control-plane Ghost`));
  const result = await applyTampered(w, moved);
  t.regex(result.stdout, new RegExp(`refused\\t[^\\t]*\\t${CP_GHOST}\\t.*lists it as a worker machine, but it is a control-plane Ghost`));
  t.true((await vmNames(w)).includes(CP_GHOST));
  t.true(nodeNames(w).includes(CP_GHOST));
});

test('a Ghost named like a worker whose Node runs an etcd Pod is refused as a worker: VM and Node stay', async (t) => {
  const w = await world(t);
  t.truthy(
    w.report.clusters[0]!.workers.machines.find((m) => m.name === w.hiddenEtcd.name),
    'detect lists it among the workers',
  );
  const result = await runCli(['remediate', '--report', w.reportPath, '--apply', '--yes']);
  t.is(result.code, 1, result.stderr);
  t.regex(
    result.stdout,
    new RegExp(`refused\\t[^\\t]*\\t${w.hiddenEtcd.name}\\t.*an etcd Pod runs on Node ${w.hiddenEtcd.name}: not a worker`),
  );
  t.regex(result.stdout, new RegExp(`done\\t[^\\t]*\\t${w.worker.name}\\t`));
  t.true((await vmNames(w)).includes(w.hiddenEtcd.name));
  t.true(nodeNames(w).includes(w.hiddenEtcd.name));
  t.false((await vmNames(w)).includes(w.worker.name), 'the real worker Ghost goes');
  t.false(nodeNames(w).includes(w.worker.name));
});

test('a Ghost whose VM an object of the backup still claims (a VSphereVM without its Machine) is refused', async (t) => {
  const w = await world(t, { claimedWorker: true });
  t.is(entryOf(w.report, w.worker.name).status, 'Ghost', 'the analysis calls it a Ghost');
  const [vms, nodes] = [await vmNames(w), nodeNames(w)];
  const result = await runCli(['remediate', '--report', w.reportPath, '--apply', '--yes']);
  t.regex(
    result.stdout,
    new RegExp(`refused\\t[^\\t]*\\t${w.worker.name}\\t.*the backup holds VSphereVM default/${w.worker.name} for this VM`),
  );
  t.deepEqual(nodeNames(w), nodes);
  t.deepEqual(await vmNames(w), vms);
});

test('a machine name that is a number is refused naming the field, for the plan and for --apply; nothing is touched', async (t) => {
  const w = await world(t);
  const [vms, nodes] = [await vmNames(w), nodeNames(w)];
  const result = await applyTampered(w, (r) => {
    (entryOf(r, w.worker.name) as unknown as { name: number }).name = 12345;
  });
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /report\.json: clusters\[0\]\.workers\.machines\[\d+\]\.name is a number, not a string\n/);
  t.notRegex(result.stderr, /is not a function/);
  const plan = await runCli(['remediate', '--report', w.reportPath]);
  t.is(plan.code, 2);
  t.regex(plan.stderr, /machines\[\d+\]\.name is a number, not a string/);
  t.deepEqual(nodeNames(w), nodes);
  t.deepEqual(await vmNames(w), vms);
});
