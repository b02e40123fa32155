/**
 * What `remediate --apply` asks of a workload cluster besides its Node list: on which Nodes an etcd
 * member runs (kubeadm's static Pods carry `component=etcd` in kube-system), and the deletion of
 * one Node, named by name and uid so that a Node re-created under the same name is not the one
 * that goes. Calls are bounded like the Node listing (boundedKubeCall, the byte bound included).
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import { boundedKubeCall, type KubeRequestOptions, type KubeVerb } from '../kube/call.js';
import { typedPages } from '../kube/pages.js';
import { parseWorkloadKubeconfig } from './kubeconfig.js';
import { agentFor, apiFor, type WorkloadNodeOptions, type WorkloadNodeRequest } from './nodes.js';

const ETCD_NAMESPACE = 'kube-system';
const ETCD_SELECTOR = 'component=etcd';

/** One bounded call to the workload cluster's API with the kubeconfig from the backup. */
async function workloadCall<T>(
  request: WorkloadNodeRequest,
  object: string,
  verb: KubeVerb,
  options: WorkloadNodeOptions,
  run: (api: CoreV1Api, requestOptions: KubeRequestOptions) => Promise<T>,
): Promise<T> {
  const credentials = parseWorkloadKubeconfig(request.kubeconfig, `${request.namespace}/${request.cluster}-kubeconfig`);
  const agent = agentFor(credentials, options.insecureSkipVerify === true || credentials.insecureSkipTLSVerify);
  try {
    return await boundedKubeCall(
      {
        object: `${object} of ${request.namespace}/${request.cluster}`,
        verb,
        server: credentials.server,
        timeoutMs: options.timeoutMs ?? DEFAULTS.apiserver.timeoutMs,
        agent,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (requestOptions) => run(apiFor(credentials), requestOptions),
    );
  } finally {
    agent.destroy();
  }
}

/** The names of the Nodes an etcd Pod runs on (`spec.nodeName` of the Pods labelled component=etcd in kube-system). */
export async function etcdMemberNodes(request: WorkloadNodeRequest, options: WorkloadNodeOptions = {}): Promise<Set<string>> {
  return workloadCall(request, `Pods labelled ${ETCD_SELECTOR} in ${ETCD_NAMESPACE}`, 'list', options, async (api, requestOptions) => {
    const pods = await typedPages('etcd Pod', options.pageSize ?? DEFAULTS.apiserver.pageSize, (page) =>
      api.listNamespacedPod({ namespace: ETCD_NAMESPACE, labelSelector: ETCD_SELECTOR, ...page }, requestOptions),
    );
    return new Set(pods.flatMap((pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : [])));
  });
}

/**
 * Deletes one Node, with its uid as precondition when known (the API server answers 409 if the
 * Node of that name is another one by now). `absent` when there is no Node of that name.
 */
export async function deleteWorkloadNode(
  request: WorkloadNodeRequest,
  node: { name: string; uid?: string },
  options: WorkloadNodeOptions = {},
): Promise<'deleted' | 'absent'> {
  return workloadCall(request, `Node ${node.name}`, 'delete', options, async (api, requestOptions) => {
    try {
      const body = node.uid ? { preconditions: { uid: node.uid } } : undefined;
      await api.deleteNode({ name: node.name, ...(body ? { body } : {}) }, requestOptions);
      return 'deleted' as const;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return 'absent' as const;
      throw err;
    }
  });
}
