/**
 * A restored management cluster on real peers, for the `unpause` end-to-end tests: the objects of
 * a forecast Scenario in the loopback Kubernetes API (as Velero leaves them), its VMs in vcsim,
 * and each workload cluster's Nodes and etcd Pods in its own API-server stand-in, reached through
 * the `<cluster>-kubeconfig` Secret.
 */
import type { ExecutionContext } from 'ava';
import { startApiServer, type ApiServer, type EtcdPodSpec, type NodeSpec } from '../helpers/apiserver.js';
import { startKubeApi, type KubeApi, type KubeObject } from '../helpers/kube-api.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { runCli, tempDir, type CliResult } from '../helpers/scenario.js';
import { VCENTER, type Scenario } from '../forecast/scenario.js';

export interface World {
  api: KubeApi;
  vcsim: Vcsim;
  kubeconfig: string;
  /** Per workload cluster (`namespace/name`): its stand-in and the arrays it serves (tests may change them). */
  workloads: Map<string, { server: ApiServer; nodes: NodeSpec[]; etcdPods: EtcdPodSpec[] }>;
  /** `drift-detector unpause --kubeconfig ... <args>`. */
  unpause(...args: string[]): Promise<CliResult>;
}

const LISTS = [
  'clusters',
  'vsphereClusters',
  'machines',
  'machineSets',
  'machineDeployments',
  'kubeadmControlPlanes',
  'machineHealthChecks',
  'vsphereMachines',
  'vsphereVMs',
  'vsphereMachineTemplates',
] as const;

export async function startWorld(t: ExecutionContext, scenario: Scenario): Promise<World> {
  const vcsim = await startVcsim({ datacenters: scenario.seedDatacenters() });
  t.teardown(() => vcsim.stop());
  const api = await startKubeApi({ pageLimitMax: 3 });
  t.teardown(() => api.stop());
  const workloads: World['workloads'] = new Map();
  for (const [key, w] of scenario.workloads) {
    const nodes: NodeSpec[] = w.nodes.map((n) => ({
      name: n.name,
      controlPlane: n.controlPlane,
      ready: n.ready,
      ...(n.providerID ? { providerID: n.providerID } : {}),
    }));
    const etcdPods: EtcdPodSpec[] = w.etcdMembers.map((nodeName) => ({ nodeName }));
    const server = await startApiServer({ nodes, etcdPods });
    t.teardown(() => server.stop());
    workloads.set(key, { server, nodes, etcdPods });
  }
  for (const list of LISTS) for (const object of scenario.live[list]) api.put(pointedAtVcsim(object, vcsim));
  for (const { metadata } of scenario.live.secrets) {
    const workload = metadata.name.endsWith('-kubeconfig')
      ? workloads.get(`${metadata.namespace}/${metadata.name.replace(/-kubeconfig$/, '')}`)
      : undefined;
    const data = workload ? { value: Buffer.from(workload.server.kubeconfig()).toString('base64') } : { 'tls.crt': 'Y2VydA==' };
    api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { ...metadata }, data });
  }
  const credentials = 'username: administrator@vsphere.local\npassword: secret-of-the-capv-account\n';
  api.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: 'capv-system', name: 'capv-manager-bootstrap-credentials' },
    data: { 'credentials.yaml': Buffer.from(credentials).toString('base64') },
  });
  const kubeconfig = await api.writeKubeconfig(await tempDir('unpause-world-'));
  return { api, vcsim, kubeconfig, workloads, unpause: (...args) => runCli(['unpause', '--kubeconfig', kubeconfig, ...args]) };
}

/** The scenario's vCenter replaced by vcsim's address, its thumbprint pinned on the VSphereClusters. */
function pointedAtVcsim(object: unknown, vcsim: Vcsim): KubeObject {
  const copy = JSON.parse(JSON.stringify(object).split(VCENTER).join(vcsim.server)) as KubeObject;
  if (copy.kind === 'VSphereCluster') (copy.spec as Record<string, unknown>)['thumbprint'] = vcsim.thumbprint;
  return copy;
}

/** The stored Cluster's `spec.paused`. */
export function pausedIn(api: KubeApi, namespace: string, name: string): unknown {
  return (api.get('cluster.x-k8s.io/v1beta1', 'Cluster', namespace, name)?.spec as Record<string, unknown> | undefined)?.['paused'];
}
