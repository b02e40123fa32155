/**
 * A restored management cluster on real peers, for the `unpause` end-to-end tests: the objects of
 * a forecast Scenario in the loopback Kubernetes API (as Velero leaves them), its VMs in vcsim,
 * and each workload cluster's Nodes and etcd Pods in its own API-server stand-in, reached through
 * the `<cluster>-kubeconfig` Secret.
 */
import type { ExecutionContext } from 'ava';
import { startApiServer, type ApiServer, type NodeSpec, type PodSpec } from '../helpers/apiserver.js';
import { startKubeApi, type KubeApi, type KubeObject } from '../helpers/kube-api.js';
import { startVcsim, type Vcsim } from '../helpers/vcsim.js';
import { runCli, tempDir, type CliResult } from '../helpers/scenario.js';
import { VCENTER, type Scenario } from '../forecast/scenario.js';

export interface World {
  api: KubeApi;
  vcsim: Vcsim;
  kubeconfig: string;
  /** Per workload cluster (`namespace/name`): its stand-in and the arrays it serves (tests may change them). */
  workloads: Map<string, { server: ApiServer; nodes: NodeSpec[]; pods: PodSpec[] }>;
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
    // kubeadm's static etcd Pods, one per member, named after its Node.
    const pods: PodSpec[] = w.etcdMembers.map((nodeName) => ({
      name: `etcd-${nodeName}`,
      namespace: 'kube-system',
      nodeName,
      labels: { component: 'etcd', tier: 'control-plane' },
    }));
    const server = await startApiServer({ nodes, pods });
    t.teardown(() => server.stop());
    workloads.set(key, { server, nodes, pods });
  }
  storeScenario(api, scenario, {
    server: vcsim.server,
    thumbprint: vcsim.thumbprint,
    kubeconfigOf: (namespace, cluster) => workloads.get(`${namespace}/${cluster}`)?.server.kubeconfig(),
  });
  const kubeconfig = await api.writeKubeconfig(await tempDir('unpause-world-'));
  return { api, vcsim, kubeconfig, workloads, unpause: (...args) => runCli(['unpause', '--kubeconfig', kubeconfig, ...args]) };
}

export interface StoreOptions {
  /** Where the scenario's vCenter is (`host:port`). */
  server: string;
  /** Pinned on the VSphereClusters. */
  thumbprint?: string;
  /** The kubeconfig text of a workload cluster's `<cluster>-kubeconfig` Secret. */
  kubeconfigOf: (namespace: string, cluster: string) => string | undefined;
}

/**
 * The scenario's objects in the API as Velero restores them, its vCenter at `server`; the
 * `<cluster>-kubeconfig` Secrets hold what `kubeconfigOf` gives, the other Secrets a dummy value;
 * CAPV's credentials Secret in capv-system.
 */
export function storeScenario(api: KubeApi, scenario: Scenario, options: StoreOptions): void {
  for (const list of LISTS) for (const object of scenario.live[list]) api.put(pointedAt(object, options));
  for (const { metadata } of scenario.live.secrets) {
    const kubeconfig = metadata.name.endsWith('-kubeconfig')
      ? options.kubeconfigOf(metadata.namespace ?? '', metadata.name.replace(/-kubeconfig$/, ''))
      : undefined;
    const data = kubeconfig ? { value: Buffer.from(kubeconfig).toString('base64') } : { 'tls.crt': 'Y2VydA==' };
    api.put({ apiVersion: 'v1', kind: 'Secret', metadata: { ...metadata }, data });
  }
  const credentials = 'username: administrator@vsphere.local\npassword: secret-of-the-capv-account\n';
  api.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace: 'capv-system', name: 'capv-manager-bootstrap-credentials' },
    data: { 'credentials.yaml': Buffer.from(credentials).toString('base64') },
  });
}

/** The scenario's vCenter replaced by the given address, its thumbprint pinned on the VSphereClusters. */
function pointedAt(object: unknown, options: StoreOptions): KubeObject {
  const copy = JSON.parse(JSON.stringify(object).split(VCENTER).join(options.server)) as KubeObject;
  if (copy.kind === 'VSphereCluster' && options.thumbprint) (copy.spec as Record<string, unknown>)['thumbprint'] = options.thumbprint;
  return copy;
}

/** The stored Cluster's `spec.paused`. */
export function pausedIn(api: KubeApi, namespace: string, name: string): unknown {
  return (api.get('cluster.x-k8s.io/v1beta1', 'Cluster', namespace, name)?.spec as Record<string, unknown> | undefined)?.['paused'];
}
