/**
 * The KubeClient's reads and writes of Cluster API and CAPV objects and the listing of Secrets
 * (the unpause forecast's), each one bounded call of the client.
 */
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from '../model/kube.js';
import type { ApiResource } from './capi-resources.js';
import type { KubeRequestOptions, KubeVerb } from './call.js';
import { listPages, versionedPages } from './pages.js';

/** The client's bounded call (KubeClient.call), as these methods use it. */
type Call = <T>(
  object: string,
  verb: KubeVerb,
  run: (apis: { core: CoreV1Api; custom: CustomObjectsApi }, options: KubeRequestOptions) => Promise<T>,
  signal?: AbortSignal,
) => Promise<T>;

export interface ClusterApiCalls {
  /**
   * Every object of a custom resource (in `namespace`, else in all namespaces) matching the label
   * selector, not checked; paged as listVeleroObjects.
   */
  listObjects(resource: ApiResource, query?: { namespace?: string; labelSelector?: string }, signal?: AbortSignal): Promise<unknown[]>;
  /** listObjects, with the listing's resourceVersion: where a watch of the same objects starts. */
  listObjectsAt(
    resource: ApiResource,
    query?: { namespace?: string; labelSelector?: string },
    signal?: AbortSignal,
  ): Promise<{ items: unknown[]; resourceVersion?: string }>;
  /** Merge-patches one object of a custom resource. */
  patchObject(resource: ApiResource, namespace: string, name: string, patch: object, signal?: AbortSignal): Promise<void>;
  /**
   * Every Secret (in `namespace`, else in all namespaces), paged, as name and namespace only,
   * except those `keepData` names: their `data` stays (still base64). Values of the others are
   * dropped page by page, never kept.
   */
  listSecrets(
    query: { namespace?: string; keepData: (namespace: string, name: string) => boolean },
    signal?: AbortSignal,
  ): Promise<KubeObject[]>;
}

const plural = (r: ApiResource, namespace?: string) =>
  `${r.plural}${namespace ? ` in ${namespace}` : r.clusterScoped ? '' : ' in all namespaces'}`;

export function clusterApiMethods(call: Call, k8s: typeof import('@kubernetes/client-node'), self: () => ClusterApiCalls): ClusterApiCalls {
  return {
    listObjects: async (resource, query, signal) => (await self().listObjectsAt(resource, query, signal)).items,
    listObjectsAt: (resource, query = {}, signal) =>
      call(
        `${plural(resource, query.namespace)}${query.labelSelector ? ` (${query.labelSelector})` : ''}`,
        'list',
        ({ custom }, o) =>
          versionedPages((page) => {
            const base = { group: resource.group, version: resource.version, plural: resource.plural, ...page };
            const selector = query.labelSelector ? { labelSelector: query.labelSelector } : {};
            return query.namespace
              ? custom.listNamespacedCustomObject({ ...base, ...selector, namespace: query.namespace }, o)
              : custom.listClusterCustomObject({ ...base, ...selector }, o);
          }),
        signal,
      ),
    async patchObject(resource, namespace, name, patch, signal) {
      await call(
        `${resource.kind} ${namespace}/${name}`,
        'patch',
        ({ custom }, o) =>
          custom.patchNamespacedCustomObject(
            { group: resource.group, version: resource.version, plural: resource.plural, namespace, name, body: patch },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch, o),
          ),
        signal,
      );
    },
    listSecrets: ({ namespace, keepData }, signal) =>
      call(
        `secrets${namespace ? ` in ${namespace}` : ' in all namespaces'}`,
        'list',
        async ({ core }, o) => {
          const kept: KubeObject[] = [];
          await listPages(async (page) => {
            const list = namespace
              ? await core.listNamespacedSecret({ namespace, ...page }, o)
              : await core.listSecretForAllNamespaces(page, o);
            for (const secret of list.items) kept.push(slimSecret(secret, keepData));
            return { metadata: { continue: list.metadata?._continue } };
          });
          return kept;
        },
        signal,
      ),
  };
}

/** A listed Secret as its name, with its data only when the caller keeps it. */
function slimSecret(
  secret: { metadata?: { name?: string; namespace?: string }; data?: Record<string, string> },
  keepData: (namespace: string, name: string) => boolean,
): KubeObject {
  const name = secret.metadata?.name ?? '';
  const namespace = secret.metadata?.namespace ?? '';
  const data = keepData(namespace, name) ? secret.data : undefined;
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, ...(data ? { data: { ...data } } : {}) };
}
