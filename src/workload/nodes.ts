/**
 * Lists the Nodes of backed-up workload clusters through the kubeconfig stored in the backup, to
 * confirm ghosts by providerID and control-plane role (docs/drift-rules.md). A cluster that cannot
 * be read yields `reached: false` with a plain-words reason; it never throws.
 */
import https from 'node:https';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import type { WorkloadNode, WorkloadNodeListing } from '../model/workload.js';
import { boundedKubeCall, type KubeRequestOptions } from '../kube/call.js';
import { MAX_LIST_PAGES } from '../kube/client.js';
import { redacted } from '../util/redact.js';
import { describeFailure } from './failure.js';
import { WorkloadKubeconfigError, clientCertificateValidity, parseWorkloadKubeconfig, type WorkloadCredentials } from './kubeconfig.js';
import { mapWithConcurrency } from '../util/concurrency.js';

export interface WorkloadNodeRequest {
  namespace: string;
  cluster: string;
  /** YAML text of `<cluster>-kubeconfig` key `value`. */
  kubeconfig: string;
}

export interface WorkloadNodeOptions {
  /** Bound on the whole listing of one cluster (all pages), in ms; default DEFAULTS.apiserver.timeoutMs. */
  timeoutMs?: number;
  /** Do not verify the API server's certificate. */
  insecureSkipVerify?: boolean;
  /** Nodes per page (`limit`); default DEFAULTS.apiserver.pageSize. */
  pageSize?: number;
  /** Bytes of one page at most; default DEFAULTS.kube.maxResponseBytes. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** One line per step; never carries a credential. */
  debug?: (msg: string) => void;
}

export interface AllWorkloadNodeOptions extends WorkloadNodeOptions {
  /** Clusters listed at the same time; default DEFAULTS.apiserver.concurrency. */
  concurrency?: number;
}

const CONTROL_PLANE_LABELS = ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'];

type Debug = (msg: string) => void;

export async function listWorkloadNodes(request: WorkloadNodeRequest, options: WorkloadNodeOptions = {}): Promise<WorkloadNodeListing> {
  const { namespace, cluster } = request;
  const secretName = `${cluster}-kubeconfig`;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.apiserver.timeoutMs;
  const debug: Debug = (msg) => options.debug?.(`workload ${namespace}/${cluster}: ${msg}`);
  const unreached = (reason: string): WorkloadNodeListing => {
    const error = redacted(reason, { max: 1000 });
    debug(`not reached: ${error}`);
    return { namespace, cluster, reached: false, nodes: [], error };
  };

  let server: string | undefined;
  try {
    let credentials: WorkloadCredentials;
    try {
      credentials = parseWorkloadKubeconfig(request.kubeconfig, `${namespace}/${secretName}`);
    } catch (err) {
      if (err instanceof WorkloadKubeconfigError) return unreached(err.message);
      throw err;
    }
    server = credentials.server;
    debug(`kubeconfig read: server ${server}, user ${credentials.userEntry}`);
    const unusable = certificateProblem(credentials, secretName, cluster, debug);
    if (unusable) return unreached(unusable);
    const nodes = await readNodes(credentials, { ...options, timeoutMs }, debug);
    debug(`done: ${nodes.length} Nodes`);
    return { namespace, cluster, reached: true, nodes };
  } catch (err) {
    return unreached(describeFailure(err, { secretName, server, timeoutMs }));
  }
}

/** Lists many clusters, at most `concurrency` at once; results follow the order of `requests`. */
export async function listAllWorkloadNodes(
  requests: readonly WorkloadNodeRequest[],
  options: AllWorkloadNodeOptions = {},
): Promise<WorkloadNodeListing[]> {
  const { concurrency = DEFAULTS.apiserver.concurrency, ...perCluster } = options;
  return mapWithConcurrency(requests, concurrency, (request) => listWorkloadNodes(request, perCluster));
}

export function toWorkloadNode(node: V1Node): WorkloadNode {
  const labels = node.metadata?.labels ?? {};
  const providerID = node.spec?.providerID;
  const uid = node.metadata?.uid;
  const systemUUID = node.status?.nodeInfo?.systemUUID;
  return {
    name: node.metadata?.name ?? '',
    ...(providerID ? { providerID } : {}),
    controlPlane: CONTROL_PLANE_LABELS.some((label) => label in labels),
    ...(uid ? { uid } : {}),
    ...(systemUUID ? { systemUUID } : {}),
  };
}

/**
 * Why the client certificate cannot be used now, if it cannot: connecting with a certificate we
 * know has expired only earns a 401 that says less.
 */
export function certificateProblem(credentials: WorkloadCredentials, secretName: string, cluster: string, debug: Debug): string | undefined {
  const validity = clientCertificateValidity(credentials);
  if (!validity) return undefined;
  const now = new Date();
  if (validity.notAfter.getTime() <= now.getTime()) {
    return (
      `the client certificate in ${secretName} expired on ${formatDate(validity.notAfter)}; ` +
      `Cluster API issues them for one year, so old backups often hold expired ones. ` +
      `Nodes were not read; get a current kubeconfig for ${cluster} to confirm ghosts by Node.`
    );
  }
  if (validity.notBefore.getTime() > now.getTime()) {
    return `the client certificate in ${secretName} is not valid before ${formatDate(validity.notBefore)}; check this machine's clock.`;
  }
  debug(`client certificate ${validity.subject} valid until ${formatDate(validity.notAfter)}`);
  return undefined;
}

/** Every page of the Node list, under one deadline for the whole listing. */
async function readNodes(
  credentials: WorkloadCredentials,
  options: WorkloadNodeOptions & { timeoutMs: number },
  debug: Debug,
): Promise<WorkloadNode[]> {
  const insecure = options.insecureSkipVerify === true || credentials.insecureSkipTLSVerify;
  if (insecure) debug('server certificate will not be verified');
  // Our agent replaces the one client-node builds per request: it carries the TLS material, keeps
  // one connection across pages, and is destroyed when the deadline passes.
  const agent = agentFor(credentials, insecure);
  try {
    return await boundedKubeCall(
      {
        object: `Nodes of ${credentials.server}`,
        verb: 'list',
        server: credentials.server,
        timeoutMs: options.timeoutMs,
        agent,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}),
      },
      (requestOptions) => readAllPages(apiFor(credentials), requestOptions, options.pageSize ?? DEFAULTS.apiserver.pageSize, debug),
    );
  } finally {
    agent.destroy();
  }
}

async function readAllPages(api: CoreV1Api, requestOptions: KubeRequestOptions, pageSize: number, debug: Debug): Promise<WorkloadNode[]> {
  const nodes: WorkloadNode[] = [];
  let continueToken: string | undefined;
  let page = 0;
  do {
    if (page === MAX_LIST_PAGES) throw new Error(`the Node listing goes on beyond ${MAX_LIST_PAGES} pages`);
    page += 1;
    debug(`GET /api/v1/nodes page ${page} (limit ${pageSize})`);
    const list = await api.listNode({ limit: pageSize, ...(continueToken ? { _continue: continueToken } : {}) }, requestOptions);
    nodes.push(...list.items.map(toWorkloadNode));
    continueToken = list.metadata?._continue || undefined;
    debug(`page ${page}: ${list.items.length} Nodes${continueToken ? ', more to come' : ''}`);
  } while (continueToken);
  return nodes;
}

export function apiFor(credentials: WorkloadCredentials): CoreV1Api {
  const kc = new KubeConfig();
  // Only the address and header credentials go to client-node; the TLS material stays in our agent
  // so that client-node never reads files or runs plugins on behalf of a backup.
  kc.loadFromClusterAndUser(
    { name: credentials.clusterEntry, server: credentials.server, skipTLSVerify: false },
    {
      name: credentials.userEntry,
      ...(credentials.token ? { token: credentials.token } : {}),
      ...(credentials.username ? { username: credentials.username, password: credentials.password ?? '' } : {}),
    },
  );
  return kc.makeApiClient(CoreV1Api);
}

export function agentFor(credentials: WorkloadCredentials, insecure: boolean): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets: 1,
    rejectUnauthorized: !insecure,
    ...(credentials.caPem ? { ca: credentials.caPem } : {}),
    ...(credentials.clientCertPem ? { cert: credentials.clientCertPem, key: credentials.clientKeyPem } : {}),
    ...(credentials.tlsServerName ? { servername: credentials.tlsServerName } : {}),
  });
}

function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
