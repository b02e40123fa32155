/**
 * A workload cluster's Nodes (with their Ready condition) and etcd members, for the unpause
 * forecast (docs/unpause-forecast.md): the members are the Nodes of the kube-system Pods labelled
 * `component=etcd`, one static Pod per control-plane Node as kubeadm runs it. Reached through the
 * `<cluster>-kubeconfig` Secret, with the same credential rules as the Node listing of `detect`.
 * Never throws: a cluster that cannot be read is `reached: false` with the reason.
 */
import type { V1Node } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import type { ReadyNode, WorkloadMembers } from '../model/workload.js';
import { boundedKubeCall } from '../kube/call.js';
import { typedPages } from '../kube/pages.js';
import { etcdMemberNodes } from './node-admin.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { redacted } from '../util/redact.js';
import { describeFailure } from './failure.js';
import { WorkloadKubeconfigError, parseWorkloadKubeconfig } from './kubeconfig.js';
import { agentFor, apiFor, certificateProblem, toWorkloadNode, type WorkloadNodeOptions, type WorkloadNodeRequest } from './nodes.js';

export async function readWorkloadMembers(request: WorkloadNodeRequest, options: WorkloadNodeOptions = {}): Promise<WorkloadMembers> {
  const { namespace, cluster } = request;
  const secretName = `${cluster}-kubeconfig`;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.apiserver.timeoutMs;
  const debug = (msg: string) => options.debug?.(`workload ${namespace}/${cluster}: ${msg}`);
  const unreached = (reason: string): WorkloadMembers => {
    const why = redacted(reason, { max: 1000 });
    debug(`not reached: ${why}`);
    return { namespace, cluster, reached: false, reason: why };
  };
  let server: string | undefined;
  try {
    const credentials = parseWorkloadKubeconfig(request.kubeconfig, `${namespace}/${secretName}`);
    server = credentials.server;
    const unusable = certificateProblem(credentials, secretName, cluster, debug);
    if (unusable) return unreached(unusable);
    const agent = agentFor(credentials, options.insecureSkipVerify === true || credentials.insecureSkipTLSVerify);
    try {
      const api = apiFor(credentials);
      const call = { server: credentials.server, timeoutMs, agent, ...(options.signal ? { signal: options.signal } : {}) };
      const pageSize = options.pageSize ?? DEFAULTS.apiserver.pageSize;
      const nodes = await boundedKubeCall({ ...call, object: `Nodes of ${credentials.server}`, verb: 'list' }, (o) =>
        typedPages('Node', pageSize, (page) => api.listNode(page, o)),
      );
      const members = [...(await etcdMemberNodes(request, { ...options, timeoutMs }))].sort();
      debug(`${nodes.length} Nodes, ${members.length} etcd members`);
      return { namespace, cluster, reached: true, nodes: nodes.map(forecastNode), etcdMembers: members };
    } finally {
      agent.destroy();
    }
  } catch (err) {
    if (err instanceof WorkloadKubeconfigError) return unreached(err.message);
    return unreached(describeFailure(err, { secretName, ...(server ? { server } : {}), timeoutMs }));
  }
}

/** Several clusters, at most `concurrency` at once; results in the order of `requests`. */
export async function readAllWorkloadMembers(
  requests: readonly WorkloadNodeRequest[],
  options: WorkloadNodeOptions & { concurrency?: number } = {},
): Promise<WorkloadMembers[]> {
  const { concurrency = DEFAULTS.apiserver.concurrency, ...perCluster } = options;
  return mapWithConcurrency(requests, concurrency, (request) => readWorkloadMembers(request, perCluster));
}

/** A Node as the forecast reads it: the listing's view, and whether its Ready condition is True. */
export function forecastNode(node: V1Node): ReadyNode {
  const ready = (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  return { ...toWorkloadNode(node), ready };
}
