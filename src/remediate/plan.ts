/**
 * The remediation plan: from a drift report, what an operator does, in order, per machine
 * (docs/drift-rules.md §4-6). Pure: it reads the report only. Commands are argument vectors, never
 * shell text, because every name in them comes from a report that may have been tampered with;
 * the renderers quote them.
 */
import type { ClusterReport, DriftReport, MachineReport } from '../model/report.js';

/** Where kubeadm (and so TKG) puts the etcd client certificates on a control-plane node. */
export const ETCD_PKI = {
  cacert: '/etc/kubernetes/pki/etcd/ca.crt',
  cert: '/etc/kubernetes/pki/etcd/server.crt',
  key: '/etc/kubernetes/pki/etcd/server.key',
} as const;

export type StepKind = 'etcd-member-list' | 'etcd-member-remove' | 'node-drain' | 'node-delete' | 'vm-power-off' | 'vm-destroy';

export interface PlanStep {
  kind: StepKind;
  /** What the step does, in words. */
  description: string;
  /** The command, one argument per element; `<member-id>` stands for the ID the previous step printed. */
  command: string[];
}

export type PlanAction = 'remediate' | 'none' | 'check';

export interface MachinePlan {
  /** `<namespace>/<name>` of the backed-up cluster; absent for infrastructure machines. */
  cluster?: string;
  machine: string;
  role: 'control-plane' | 'worker' | 'infrastructure';
  status: MachineReport['status'] | 'InfraMachine';
  action: PlanAction;
  /** Why this action (or none). */
  why: string;
  vcenter?: string;
  datacenter?: string;
  biosUUID?: string;
  instanceUUID?: string;
  nodeName?: string;
  /** The kubeconfig file the kubectl steps use (extracted from the backup, see `kubeconfigFrom`). */
  kubeconfig?: string;
  /** For a control-plane Ghost: the healthy control-plane node the etcd steps run on. */
  etcdNode?: string;
  steps: PlanStep[];
  /** What to look at before anything is done (Unknown, infrastructure machines, missing facts). */
  checks: string[];
}

export interface RemediationPlan {
  backup?: string;
  reportGeneratedAt?: string;
  /** Ghosts to remediate; the machines of `entries` with action `remediate`. */
  ghosts: number;
  entries: MachinePlan[];
}

/** The kubeconfig Secret of a workload cluster inside a Velero backup tarball. */
export function kubeconfigInBackup(namespace: string, cluster: string): string {
  return `resources/secrets/namespaces/${namespace}/${cluster}-kubeconfig.json`;
}

/** The file name a plan uses for a workload cluster's kubeconfig. */
export function kubeconfigFile(namespace: string, cluster: string): string {
  return `${namespace}-${cluster}.kubeconfig`;
}

export function remediationPlan(report: DriftReport): RemediationPlan {
  const entries: MachinePlan[] = [];
  for (const cluster of report.clusters) {
    for (const m of cluster.controlPlane.machines) entries.push(machinePlan(cluster, m, true));
    for (const m of cluster.workers.machines) entries.push(machinePlan(cluster, m, false));
  }
  for (const vm of report.infraMachines) {
    entries.push({
      machine: vm.name,
      role: 'infrastructure',
      status: 'InfraMachine',
      action: 'check',
      why: vm.reason,
      vcenter: vm.vcenter,
      ...(vm.datacenter ? { datacenter: datacenterPath(vm.datacenter) } : {}),
      ...(vm.biosUUID ? { biosUUID: vm.biosUUID } : {}),
      steps: [],
      checks: [
        'find who created it: its guestinfo.metadata, folder, resource pool, creation event in vCenter',
        'if it belongs to a cluster that is not in this backup, leave it; if it is a leftover of a deleted cluster, delete it by hand',
        'if it is known and wanted, add its name to the ignore file (drift-detector baseline)',
      ],
    });
  }
  const plan: RemediationPlan = {
    ...(report.metadata ? { backup: report.metadata.backup, reportGeneratedAt: report.metadata.generatedAt } : {}),
    ghosts: entries.filter((e) => e.action === 'remediate').length,
    entries: entries.filter((e) => e.status !== 'Healthy'),
  };
  return plan;
}

function machinePlan(cluster: ClusterReport, m: MachineReport, controlPlane: boolean): MachinePlan {
  const base: MachinePlan = {
    cluster: `${cluster.namespace}/${cluster.name}`,
    machine: m.name,
    role: controlPlane ? 'control-plane' : 'worker',
    status: m.status,
    action: 'none',
    why: m.reason,
    ...(m.vcenter ? { vcenter: m.vcenter } : {}),
    ...(m.datacenter ? { datacenter: datacenterPath(m.datacenter) } : {}),
    ...(m.biosUUID ? { biosUUID: m.biosUUID } : {}),
    ...(m.instanceUUID ? { instanceUUID: m.instanceUUID } : {}),
    ...(m.nodeName ? { nodeName: m.nodeName } : {}),
    steps: [],
    checks: [],
  };
  switch (m.status) {
    case 'Healthy':
      return base;
    case 'Stale':
      return { ...base, why: 'the backed-up Machine has no VM: Cluster API replaces it after the restore; nothing to do before it' };
    case 'Unknown':
      return { ...base, action: 'check', why: m.reason, checks: unknownChecks(m) };
    case 'Ghost':
      return ghostPlan(cluster, base, controlPlane);
  }
}

function unknownChecks(m: MachineReport): string[] {
  const checks = [`find out why: ${m.reason}`];
  if (m.biosUUID)
    checks.push(`list the VMs that carry BIOS UUID ${m.biosUUID} on ${m.vcenter ?? 'its vCenter'} and compare their instance UUIDs`);
  if (m.instanceUUID) checks.push(`the VM that belongs to the backup has instance UUID ${m.instanceUUID}; any other is a copy`);
  checks.push('run detect again once the cause is fixed; do not restore while the machine is Unknown');
  return checks;
}

function ghostPlan(cluster: ClusterReport, base: MachinePlan, controlPlane: boolean): MachinePlan {
  const node = base.nodeName ?? base.machine;
  const kubeconfig = kubeconfigFile(cluster.namespace, cluster.name);
  const kubectl = ['kubectl', '--kubeconfig', kubeconfig];
  const steps: PlanStep[] = [];
  const checks: string[] = [];
  let etcdNode: string | undefined;
  if (controlPlane) {
    etcdNode = healthyControlPlaneNode(cluster);
    const on = etcdNode ?? '<healthy-control-plane-node>';
    if (!etcdNode) checks.push('no Healthy control-plane machine in the report: pick a control-plane node that is up and in the etcd quorum');
    const etcdctl = [
      ...kubectl,
      '-n',
      'kube-system',
      'exec',
      `etcd-${on}`,
      '--',
      'etcdctl',
      '--endpoints=https://127.0.0.1:2379',
      `--cacert=${ETCD_PKI.cacert}`,
      `--cert=${ETCD_PKI.cert}`,
      `--key=${ETCD_PKI.key}`,
    ];
    steps.push(
      {
        kind: 'etcd-member-list',
        description: `on control-plane node ${on}, list the etcd members; the member ID is the first column of the row named ${node}`,
        command: [...etcdctl, 'member', 'list'],
      },
      {
        kind: 'etcd-member-remove',
        description: `remove etcd member ${node} before its VM goes, so that the quorum does not count a dead member`,
        command: [...etcdctl, 'member', 'remove', '<member-id>'],
      },
    );
  } else {
    steps.push({
      kind: 'node-drain',
      description: `move the workloads off Node ${node}`,
      command: [...kubectl, 'drain', node, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=300s'],
    });
  }
  steps.push({
    kind: 'node-delete',
    description: `delete Node ${node} from the workload cluster`,
    command: [...kubectl, 'delete', 'node', node, '--ignore-not-found'],
  });
  if (base.biosUUID && base.instanceUUID && base.vcenter) {
    const dc = base.datacenter;
    const govc = ['govc'];
    const dcFlag = dc ? [`-dc=${dc}`] : [];
    steps.push(
      {
        kind: 'vm-power-off',
        description: `power off the VM with BIOS UUID ${base.biosUUID} (instance UUID ${base.instanceUUID}) on ${base.vcenter}`,
        command: [...govc, 'vm.power', ...dcFlag, '-off', '-force', `-vm.uuid=${base.biosUUID}`],
      },
      {
        kind: 'vm-destroy',
        description: `destroy that VM`,
        command: [...govc, 'vm.destroy', ...dcFlag, `-vm.uuid=${base.biosUUID}`],
      },
    );
  } else {
    checks.push('the report does not give the VM by BIOS UUID, instance UUID and vCenter: find the VM by hand (its Node is the only evidence)');
  }
  const why = controlPlane
    ? 'a control-plane VM without a Machine in the backup: after the restore Cluster API would not know it, while etcd still counts it'
    : 'a worker VM without a Machine in the backup: after the restore nothing would manage it, and its Node would stay in the cluster';
  return { ...base, action: 'remediate', why, kubeconfig, ...(etcdNode ? { etcdNode } : {}), steps, checks };
}

/** The first Healthy control-plane machine of the cluster (Node name = Machine name in TKG). */
function healthyControlPlaneNode(cluster: ClusterReport): string | undefined {
  const m = cluster.controlPlane.machines.find((x) => x.status === 'Healthy');
  return m ? (m.nodeName ?? m.vmName ?? m.name) : undefined;
}

/**
 * `DC0` (as vCenter names it) or `/DC0` (as TKG writes it in a VSphereVM) as one inventory path,
 * the way govc's `-dc` takes it, so a plan names a datacenter one way whichever side saw it.
 */
function datacenterPath(datacenter: string): string {
  return datacenter.startsWith('/') ? datacenter : `/${datacenter}`;
}
