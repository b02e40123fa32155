/**
 * What `remediate --apply` reads and changes, behind three small interfaces: a fresh detection, one
 * vCenter session, one workload cluster. The live ones read the backup again, log in to the
 * vCenters the backup names and use the kubeconfigs it holds; tests put recorded ones in their
 * place to try many tampered reports quickly.
 */
import { readBackup } from '../backup/reader.js';
import type { BackupSource } from '../backup/source.js';
import { vcenterTargetsOf } from '../backup/vcenter-targets.js';
import { vmClaims } from '../backup/vm-claims.js';
import { kubeconfigOf } from '../backup/workload-clusters.js';
import type { DriftReport } from '../model/report.js';
import type { MachinePlan } from '../remediate/plan.js';
import { vcenterKey } from '../model/vcenter.js';
import type { WorkloadNodeListing } from '../model/workload.js';
import type { MoRef } from '../vsphere/wire.js';
import type { VMState } from '../vsphere/vm-tasks.js';
import { detectDriftOf, withCredentials, type DetectOptions } from './detect.js';

/** What decides and records, whichever peers are acted on. */
export interface ApplyRules {
  /** Control-plane Ghosts (by name) whose etcd member the operator has removed. */
  etcdMemberRemoved: ReadonlySet<string>;
  /** Asked once per VM before anything is done to it; false skips it. */
  confirm: (entry: MachinePlan) => Promise<boolean>;
  /** One line per check and action, with the state before and after. */
  log: (line: string) => void;
}

/** A Ghost as the fresh detection sees it: every field an action uses comes from here, none from the report. */
export interface VerifiedGhost {
  machine: string;
  /** `<namespace>/<name>` of the cluster it is a Ghost of. */
  cluster: string;
  vcenter: string;
  biosUUID: string;
  instanceUUID: string;
  /** Where the fresh detection puts it: the backup's KubeadmControlPlane name, or its Node's role. */
  controlPlane: boolean;
  /** The Node the report names for it: compared with the one that carries its BIOS UUID, never used to find it. */
  reportedNode?: string;
}

/** One session on one vCenter. */
export interface GhostVCenter {
  /** The VM vCenter's SearchIndex finds by this BIOS or instance UUID, if any. */
  findVM(uuid: string, instance: boolean): Promise<MoRef | undefined>;
  state(vm: MoRef): Promise<VMState | undefined>;
  powerOff(vm: MoRef): Promise<void>;
  destroy(vm: MoRef): Promise<void>;
}

/** One workload cluster, through the kubeconfig its backup holds. */
export interface GhostCluster {
  /** `<namespace>/<name>`, for messages. */
  id: string;
  /** Its Nodes now, or why they could not be read (never throws). */
  nodes(): Promise<WorkloadNodeListing>;
  /** The Nodes an etcd Pod runs on. */
  etcdNodes(): Promise<Set<string>>;
  deleteNode(node: { name: string; uid?: string }): Promise<'deleted' | 'absent'>;
}

/** What the backup and vCenter say now. */
export interface FreshView {
  /** The backup read again and its vCenters walked once: what is a Ghost now, and where. */
  report: DriftReport;
  /** The object of the backup that claims the VM with this BIOS or instance UUID (lower-case), if any. */
  claimedBy(uuid: string): string | undefined;
}

export interface RemediationPeers {
  detect(): Promise<FreshView>;
  /** Runs `work` in a session on the vCenter of this key; undefined when there are no credentials for it. */
  withVCenter<T>(vcenter: string, work: (vc: GhostVCenter) => Promise<T>): Promise<T> | undefined;
  /** The workload cluster `<namespace>/<name>`; undefined when it is not to be contacted or the backup holds no kubeconfig for it. */
  cluster(id: string): GhostCluster | undefined;
}

export interface LivePeerOptions extends DetectOptions {
  taskTimeoutMs?: number;
  taskPollMs?: number;
}

/** The real ones: the backup from `source`, the vCenters and workload clusters it names. */
export async function livePeers(source: BackupSource, options: LivePeerOptions): Promise<RemediationPeers> {
  const objects = await readBackup(source, { signal: options.signal });
  const { ready } = withCredentials(vcenterTargetsOf(objects), options.credentials, options.words);
  const vim = await import('../vsphere/vm-tasks.js');
  const { withVimSession } = await import('../vsphere/session.js');
  const sessionOptions = { insecureSkipVerify: options.insecureSkipVerify, timeoutMs: options.vcenterTimeoutMs, signal: options.signal };
  const task = { timeoutMs: options.taskTimeoutMs, pollMs: options.taskPollMs };
  const kube = { timeoutMs: options.apiserverTimeoutMs, insecureSkipVerify: options.insecureSkipVerify, signal: options.signal };
  return {
    async detect() {
      const claims = vmClaims(objects);
      return { report: await detectDriftOf(objects, source.description, options), claimedBy: (uuid) => claims.get(uuid) };
    },
    withVCenter(vcenter, work) {
      const target = ready.find((t) => vcenterKey(t.server) === vcenter);
      if (!target) return undefined;
      return withVimSession(target, sessionOptions, (session) =>
        work({
          findVM: (uuid, instance) => vim.findVMByUuid(session, uuid, instance),
          state: (vm) => vim.readVMState(session, vm),
          powerOff: (vm) => vim.powerOffVM(session, vm, task),
          destroy: (vm) => vim.destroyVM(session, vm, task),
        }),
      );
    },
    cluster(id) {
      const [namespace, cluster] = id.split('/');
      if (options.skipAccessApiServer || !namespace || !cluster) return undefined;
      const kubeconfig = kubeconfigOf(objects, namespace, cluster);
      if (!kubeconfig) return undefined;
      const request = { namespace, cluster, kubeconfig };
      return {
        id,
        nodes: async () => (await import('../workload/nodes.js')).listWorkloadNodes(request, kube),
        etcdNodes: async () => (await import('../workload/node-admin.js')).etcdMemberNodes(request, kube),
        deleteNode: async (node) => (await import('../workload/node-admin.js')).deleteWorkloadNode(request, node, kube),
      };
    },
  };
}
