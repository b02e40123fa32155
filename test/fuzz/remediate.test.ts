/**
 * Property: any mutation of a valid report fed to `remediate` is refused, or touches only the Ghosts
 * that the fresh detection, vCenter and the workload cluster re-verify. The use case runs in
 * process against recorded peers (a detection, a vCenter, two workload clusters kept in memory) so
 * that many reports are tried; test/cli/remediate-tampered.test.ts runs the same rules against
 * vcsim and the API server stand-in.
 */
import test from 'ava';
import fc from 'fast-check';
import { applyWith, checkReportUsable } from '../../src/app/remediate.js';
import type { GhostCluster, RemediationPeers } from '../../src/app/remediate-peers.js';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderPlanSh, renderPlanText } from '../../src/remediate/render.js';
import { checkReportFields, ReportFieldError } from '../../src/report/validate.js';
import type { WorkloadNode } from '../../src/model/workload.js';
import { cluster, report } from '../helpers/reports.js';
import { check, isRawError, mutationsOf, pathsOf } from './fuzz.js';

const VC = 'vc.example.com';
const BACKUP = '/backups/b1.tar.gz';
const uuid = (n: number, kind: 4 | 5) => `${kind}2000000-0000-4000-8000-00000000000${n}`;

function vm(name: string, n: number, status: MachineReport['status'], nodeName?: string): MachineReport {
  return {
    name,
    status,
    reason: `${status} in the test`,
    source: status === 'Ghost' ? 'vm' : 'backup',
    vcenter: VC,
    datacenter: '/DC0',
    vmName: name,
    biosUUID: uuid(n, 4),
    instanceUUID: uuid(n, 5),
    ...(nodeName ? { nodeName } : {}),
  };
}

/** What a detection finds now: the report a fresh `detect` writes, and what `--apply` re-derives from. */
function truth(): DriftReport {
  const r = report(
    BACKUP,
    cluster(
      'default',
      'wc1',
      [vm('wc1-cp-a', 1, 'Healthy', 'wc1-cp-a'), vm('wc1-control-plane-q', 2, 'Ghost', 'wc1-control-plane-q')],
      [
        vm('wc1-md-a', 3, 'Healthy', 'wc1-md-a'),
        vm('wc1-md-z', 5, 'Ghost', 'wc1-md-z'),
        // Listed as a worker (its name, no role label), yet an etcd Pod runs on its Node.
        vm('wc1-md-e', 6, 'Ghost', 'wc1-md-e'),
        { ...vm('wc1-md-gone', 8, 'Stale'), source: 'backup' },
      ],
    ),
    cluster('default', 'wc2', [vm('wc2-cp-a', 9, 'Healthy', 'wc2-cp-a')], [vm('wc2-md-y', 7, 'Ghost')]),
  );
  r.infraMachines = [{ name: 'wc9-md-x', vcenter: VC, biosUUID: uuid(4, 4), reason: 'carries CAPV guestinfo.metadata' }];
  r.metadata!.generatedAt = new Date().toISOString();
  return r;
}

/** The Ghosts `--apply` may destroy, by name: the worker Ghosts, and the control-plane one once its etcd member is removed. */
const MAY_GO = new Set(['wc1-md-z', 'wc2-md-y']);

interface Recorded {
  peers: RemediationPeers;
  destroyed: string[];
  deletedNodes: string[];
}

/** A vCenter and two workload clusters in memory, built from the truth: every VM with its UUIDs, every Node with its providerID. */
function recordedPeers(): Recorded {
  const fresh = truth();
  const machines = fresh.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]).filter((m) => m.status !== 'Stale');
  const vms = [
    ...machines.map((m) => ({ name: m.name, bios: m.biosUUID!, instance: m.instanceUUID! })),
    { name: 'wc9-md-x', bios: uuid(4, 4), instance: uuid(4, 5) },
  ];
  const live = new Map(vms.map((v, i) => [`vm-${i}`, { ...v, power: 'poweredOn' }]));
  const destroyed: string[] = [];
  const deletedNodes: string[] = [];
  // What the backup's objects claim: every backed-up machine's UUIDs (the Ghosts have none).
  const claimed = new Set(machines.filter((m) => m.source === 'backup').flatMap((m) => [m.biosUUID!, m.instanceUUID!]));
  const nodesOf = (c: string): WorkloadNode[] =>
    machines
      .filter((m) => m.nodeName && m.name.startsWith(`${c}-`))
      .map((m) => ({
        name: m.nodeName!,
        uid: `uid-${m.nodeName}`,
        providerID: `vsphere://${m.biosUUID}`,
        controlPlane: m.name.includes('-cp-') || m.name.includes('control-plane'),
      }));
  const nodes = new Map([
    ['default/wc1', nodesOf('wc1')],
    ['default/wc2', nodesOf('wc2')],
  ]);
  const etcd = new Set(['wc1-cp-a', 'wc1-control-plane-q', 'wc1-md-e', 'wc2-cp-a']);
  const clusterPeer = (id: string): GhostCluster | undefined => {
    const list = nodes.get(id);
    if (!list) return undefined;
    return {
      id,
      nodes: async () => ({ namespace: 'default', cluster: id.split('/')[1]!, reached: true, nodes: structuredClone(list) }),
      etcdNodes: async () => new Set([...etcd].filter((n) => list.some((node) => node.name === n))),
      deleteNode: async ({ name, uid }) => {
        const at = list.findIndex((n) => n.name === name);
        if (at < 0) return 'absent';
        if (uid && list[at]!.uid !== uid) throw new Error(`Node ${name}: precondition failed (409)`);
        list.splice(at, 1);
        deletedNodes.push(`${id}:${name}`);
        return 'deleted';
      },
    };
  };
  const peers: RemediationPeers = {
    detect: async () => ({ report: structuredClone(fresh), claimedBy: (u) => (claimed.has(u) ? `Machine default/${u}` : undefined) }),
    withVCenter: (vcenter, work) =>
      vcenter !== VC
        ? undefined
        : work({
            findVM: async (u, instance) => {
              const found = [...live].find(([, v]) => (instance ? v.instance : v.bios) === u.toLowerCase());
              return found ? { type: 'VirtualMachine', value: found[0] } : undefined;
            },
            state: async ({ value }) => {
              const v = live.get(value);
              return v && { moref: value, name: v.name, biosUuid: v.bios, instanceUuid: v.instance, powerState: v.power };
            },
            powerOff: async ({ value }) => void (live.get(value)!.power = 'poweredOff'),
            destroy: async ({ value }) => {
              destroyed.push(live.get(value)!.name);
              live.delete(value);
            },
          }),
    cluster: clusterPeer,
  };
  return { peers, destroyed, deletedNodes };
}

/** The whole path of a report file through `remediate`: read, plan, render, check, apply. */
async function remediate(value: unknown, etcdMemberRemoved: Set<string>): Promise<Recorded | 'refused'> {
  let r: DriftReport;
  try {
    r = checkReportFields(JSON.parse(JSON.stringify(value)));
    renderPlanText(remediationPlan(r));
    renderPlanSh(remediationPlan(r));
    checkReportUsable(r, BACKUP, new Date());
  } catch (err) {
    if (err instanceof ReportFieldError || (!isRawError(err) && (err as Error).name === 'DomainError')) return 'refused';
    throw err;
  }
  const recorded = recordedPeers();
  await applyWith(r, recorded.peers, { etcdMemberRemoved, confirm: async () => true, log: () => {} });
  return recorded;
}

/** Every string of the report, to swap into another field: the tampering that looks plausible. */
const strings = (r: DriftReport) =>
  pathsOf(r)
    .map((p) => p.reduce<unknown>((at, k) => (at as Record<string, unknown>)[k], r))
    .filter((v): v is string => typeof v === 'string');

/** The valid report changed once or thrice: any value anywhere, a string of the report elsewhere, a machine moved. */
function tampered(): fc.Arbitrary<unknown> {
  const valid = truth();
  const one = fc.oneof(
    { arbitrary: mutationsOf(valid), weight: 1 },
    { arbitrary: mutationsOf(valid, fc.constantFrom(...strings(valid))), weight: 3 },
    { arbitrary: moved(valid), weight: 2 },
  );
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((reports) => {
    // Several mutations of one report: each of its listings from one of them.
    const result = structuredClone(reports[0]) as DriftReport;
    for (const r of reports.slice(1) as DriftReport[]) {
      if (Array.isArray(r?.clusters)) result.clusters = r.clusters;
    }
    return result;
  });
}

/** A machine taken out of its listing and put into another (control plane to workers, one cluster to another). */
function moved(valid: DriftReport): fc.Arbitrary<DriftReport> {
  const listings = valid.clusters.flatMap((_, c) => [`${c}.controlPlane`, `${c}.workers`]);
  return fc.tuple(fc.constantFrom(...listings), fc.constantFrom(...listings), fc.nat()).map(([from, to, i]) => {
    const r = structuredClone(valid);
    const listing = (at: string) => {
      const [c, side] = at.split('.') as [string, 'controlPlane' | 'workers'];
      return r.clusters[Number(c)]![side].machines;
    };
    const source = listing(from);
    if (source.length === 0) return r;
    const [m] = source.splice(i % source.length, 1);
    listing(to).push(m!);
    return r;
  });
}

test('the valid report: exactly the re-verified Ghosts go (the control-plane one with --etcd-member-removed), never the etcd one', async (t) => {
  const plain = await remediate(truth(), new Set());
  t.not(plain, 'refused');
  t.deepEqual((plain as Recorded).destroyed.sort(), ['wc1-md-z', 'wc2-md-y']);
  t.deepEqual((plain as Recorded).deletedNodes, ['default/wc1:wc1-md-z']);
  const all = await remediate(truth(), new Set(['wc1-control-plane-q', 'wc1-md-e']));
  t.deepEqual((all as Recorded).destroyed.sort(), ['wc1-control-plane-q', 'wc1-md-z', 'wc2-md-y']);
});

test('any mutation of a valid report is refused, or touches only re-verified Ghosts and their own Nodes', async (t) => {
  const etcdFlags = fc.subarray(['wc1-control-plane-q', 'wc1-md-e', 'wc1-md-a', 'wc1-cp-a']);
  await check(
    t,
    fc.asyncProperty(tampered(), etcdFlags, async (value, flags) => {
      const etcdMemberRemoved = new Set(flags);
      const outcome = await remediate(value, etcdMemberRemoved);
      if (outcome === 'refused') return;
      const allowed = new Set([...MAY_GO, ...(etcdMemberRemoved.has('wc1-control-plane-q') ? ['wc1-control-plane-q'] : [])]);
      for (const name of outcome.destroyed) if (!allowed.has(name)) throw new Error(`VM ${name} was destroyed`);
      for (const node of outcome.deletedNodes) {
        const [, name] = node.split(':');
        if (!outcome.destroyed.includes(name!) || !allowed.has(name!)) throw new Error(`Node ${node} was deleted`);
      }
    }),
    400,
    5000,
  );
});
