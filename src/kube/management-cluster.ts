/**
 * Reads a live management cluster's Cluster API and CAPV objects, as the unpause forecast needs
 * them (docs/unpause-forecast.md, "Where the facts come from"): one paged, bounded listing per
 * resource across all namespaces. Secrets are kept as names, except the few whose values the
 * forecast needs (vCenter credentials, `<cluster>-kubeconfig`), which the caller drops once used.
 */
import type { BackupObjects } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { isMap } from '../util/values.js';
import { CAPI_RESOURCES, type CapiResourceName } from './capi-resources.js';
import { KubeCallError } from './call.js';
import type { KubeClient } from './client.js';

/** A management cluster's objects: the kinds a backup holds, plus health checks and machine templates. */
export type ManagementObjects = BackupObjects & {
  machineHealthChecks: KubeObject[];
  vsphereMachineTemplates: KubeObject[];
};

/** The kinds read. */
const LISTED: readonly CapiResourceName[] = [
  'clusters',
  'kubeadmControlPlanes',
  'machineDeployments',
  'machineSets',
  'machines',
  'machineHealthChecks',
  'vsphereClusters',
  'vsphereMachines',
  'vsphereVMs',
  'vsphereMachineTemplates',
  'vsphereClusterIdentities',
];

export type ListedObjects = Record<CapiResourceName, KubeObject[]>;

export interface ReadManagementOptions {
  /** Which Secrets keep their values (still base64), given the objects listed; the others are names. */
  keepSecretData: (objects: ListedObjects) => (namespace: string, name: string) => boolean;
  /** Checks the fields read of each object (`what` names it); throws naming the object and field. */
  check?: (name: CapiResourceName, object: Record<string, unknown>, what: string) => void;
  signal?: AbortSignal;
  debug?: (message: string) => void;
}

export async function readManagementCluster(client: KubeClient, options: ReadManagementOptions): Promise<ManagementObjects> {
  const { signal } = options;
  const lists = await Promise.all(
    LISTED.map(async (name) => {
      const items = await listOrAbsent(client, name, signal);
      return [name, items.map((item, i) => checked(client.server, name, item, i, options.check))] as const;
    }),
  );
  const objects = Object.fromEntries(lists) as ListedObjects;
  const secrets = await client.listSecrets({ keepData: options.keepSecretData(objects) }, signal);
  options.debug?.(
    `management cluster ${client.server}: ${LISTED.map((name) => `${objects[name].length} ${name}`).join(', ')}, ${secrets.length} secrets`,
  );
  return { source: client.server, ...objects, secrets };
}

/**
 * One listing. VSphereClusterIdentities are optional (a CAPV without them serves no such
 * resource): their absence is an empty list; any other resource missing is an error.
 */
async function listOrAbsent(client: KubeClient, name: CapiResourceName, signal: AbortSignal | undefined): Promise<unknown[]> {
  try {
    return await client.listObjects(CAPI_RESOURCES[name], {}, signal);
  } catch (err) {
    if (name === 'vsphereClusterIdentities' && err instanceof KubeCallError && err.failure === 'not-found') return [];
    throw err;
  }
}

/** An item of a listing as a KubeObject, its read fields checked by the caller's check. */
function checked(server: string, name: CapiResourceName, item: unknown, index: number, check: ReadManagementOptions['check']): KubeObject {
  const kind = CAPI_RESOURCES[name].kind;
  const metadata = isMap(item) ? item['metadata'] : undefined;
  const objectName = isMap(metadata) ? metadata['name'] : undefined;
  if (!isMap(item) || typeof objectName !== 'string' || objectName === '') {
    throw new Error(`${server}: ${CAPI_RESOURCES[name].plural}[${index}] has no metadata.name`);
  }
  const rawNamespace = (metadata as Record<string, unknown>)['namespace'];
  const namespace = typeof rawNamespace === 'string' ? rawNamespace : undefined;
  check?.(name, item, `${kind} ${objectKey(namespace, objectName)}`);
  // A listing's items carry no kind: name it, so that messages and patches can.
  return { ...(item as unknown as KubeObject), kind };
}
