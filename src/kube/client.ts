/**
 * The detector's access to one cluster: every request runs as a boundedKubeCall with the same
 * timeout and access hint. The reads Velero's objects need (velero.io/v1 objects, Secrets) are
 * here so that the plugin and the storage-location reader ask for them the same way.
 */
import https, { type Agent } from 'node:https';
import type { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { boundedKubeCall, type KubeRequestOptions, type KubeVerb } from './call.js';
import { apiServerOf } from './config.js';
import { clusterApiMethods, type ClusterApiCalls } from './cluster-api-calls.js';
import { listPages } from './pages.js';
import { DEFAULTS } from '../config/defaults.js';

export { MAX_LIST_PAGES } from './pages.js';

export interface KubeApis {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** The client module itself, for request helpers such as setHeaderOptions. */
  k8s: typeof import('@kubernetes/client-node');
}

export interface KubeClientOptions {
  /** Bound on each call, in ms. */
  timeoutMs: number;
  /** Said after a 401 or 403: what to check. */
  accessHint?: string;
  /**
   * Keep connections open between calls (one agent for the client's life) instead of a TLS
   * handshake per call: for a client that answers admissions from the API server's objects.
   */
  keepAlive?: boolean;
}

/** The Velero kinds the detector reads or writes, by their plural resource name. */
const VELERO_PLURALS = {
  Backup: 'backups',
  BackupStorageLocation: 'backupstoragelocations',
  Restore: 'restores',
} as const;

export type VeleroKind = keyof typeof VELERO_PLURALS;

export interface KubeClient extends ClusterApiCalls {
  readonly server: string;
  /** One bounded call; `object` names what it reads or writes in errors. */
  call<T>(object: string, verb: KubeVerb, run: (apis: KubeApis, options: KubeRequestOptions) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** A velero.io/v1 object as the API returns it (not checked). */
  readVeleroObject(kind: VeleroKind, namespace: string, name: string, signal?: AbortSignal): Promise<unknown>;
  /**
   * The velero.io/v1 objects of `kind` in `namespace` that match the label selector ('' for all),
   * not checked; read in pages of DEFAULTS.kube.pageSize (limit/continue) under one deadline.
   */
  listVeleroObjects(kind: VeleroKind, namespace: string, labelSelector: string, signal?: AbortSignal): Promise<unknown[]>;
  /** Merge-patches a velero.io/v1 object. */
  patchVeleroObject(kind: VeleroKind, namespace: string, name: string, patch: object): Promise<void>;
  /**
   * The Secret's `data`, still base64 (decode only the keys you use: decodeSecretValue). `object`
   * names it in errors; default `Secret <namespace>/<name>`. Holds secrets: never log it.
   */
  readSecretData(namespace: string, name: string, options?: { signal?: AbortSignal; object?: string }): Promise<Record<string, string>>;
  /** The loaded kubeconfig, for a watch (its TLS material and credentials). */
  readonly config: KubeConfig;
}

export async function kubeClient(kc: KubeConfig, options: KubeClientOptions): Promise<KubeClient> {
  const k8s = await import('@kubernetes/client-node');
  const apis: KubeApis = { core: kc.makeApiClient(k8s.CoreV1Api), custom: kc.makeApiClient(k8s.CustomObjectsApi), k8s };
  const server = apiServerOf(kc);
  const sharedAgent = options.keepAlive ? await keepAliveAgent(kc) : undefined;
  const call: KubeClient['call'] = (object, verb, run, signal) =>
    boundedKubeCall(
      {
        object,
        verb,
        server,
        timeoutMs: options.timeoutMs,
        ...(signal ? { signal } : {}),
        ...(options.accessHint ? { accessHint: options.accessHint } : {}),
        ...(sharedAgent ? { sharedAgent } : {}),
      },
      (requestOptions) => run(apis, requestOptions),
    );
  const veleroList = (kind: VeleroKind, namespace: string, labelSelector: string) =>
    ({ group: 'velero.io', version: 'v1', namespace, plural: VELERO_PLURALS[kind], ...(labelSelector ? { labelSelector } : {}) }) as const;
  const veleroObject = (kind: VeleroKind, namespace: string, name: string) =>
    ({ group: 'velero.io', version: 'v1', namespace, plural: VELERO_PLURALS[kind], name }) as const;
  const client: KubeClient = {
    server,
    call,
    config: kc,
    ...clusterApiMethods(call, k8s, () => client),
    readVeleroObject: (kind, namespace, name, signal) =>
      call(
        `${kind} ${namespace}/${name}`,
        'read',
        ({ custom }, o) => custom.getNamespacedCustomObject(veleroObject(kind, namespace, name), o),
        signal,
      ),
    listVeleroObjects: (kind, namespace, labelSelector, signal) =>
      call(
        `${VELERO_PLURALS[kind]} in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`,
        'list',
        ({ custom }, o) =>
          listPages((page) => custom.listNamespacedCustomObject({ ...veleroList(kind, namespace, labelSelector), ...page }, o)),
        signal,
      ),
    async patchVeleroObject(kind, namespace, name, patch) {
      await call(`${kind} ${namespace}/${name}`, 'patch', ({ custom }, o) =>
        custom.patchNamespacedCustomObject(
          { ...veleroObject(kind, namespace, name), body: patch },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, o),
        ),
      );
    },
    async readSecretData(namespace, name, { signal, object } = {}) {
      const secret = await call(
        object ?? `Secret ${namespace}/${name}`,
        'read',
        ({ core }, o) => core.readNamespacedSecret({ name, namespace }, o),
        signal,
      );
      return { ...(secret.data ?? {}) };
    },
  };
  return client;
}

/**
 * A client made on first use, from a kubeconfig loaded then: a door that never needs the cluster
 * never looks for one. A failed load is the caller's failure and is tried again on the next use.
 */
export function lazyKubeClient(loadConfig: () => Promise<KubeConfig>, options: KubeClientOptions): () => Promise<KubeClient> {
  let client: Promise<KubeClient> | undefined;
  return () =>
    (client ??= loadConfig()
      .then((kc) => kubeClient(kc, options))
      .catch((err: unknown) => {
        client = undefined;
        throw err;
      }));
}

/** An agent with the kubeconfig's TLS material that keeps its connections; none through a proxy (client-node's own agent then). */
async function keepAliveAgent(kc: KubeConfig): Promise<Agent | undefined> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server.startsWith('https:') || cluster.proxyUrl) return undefined;
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  return new https.Agent({
    keepAlive: true,
    timeout: DEFAULTS.kube.idleConnectionMs,
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  });
}

/** A Secret value as text. */
export function decodeSecretValue(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf8');
}
