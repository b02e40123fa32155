/**
 * The unpause forecast's use case (docs/unpause-forecast.md): reads the live management cluster,
 * the vCenters its VSphereClusters name (one walk each, as `detect`) and each workload cluster's
 * Nodes and etcd members, then asks the pure forecast what the controllers will do on unpause.
 * Every door (the CLI's `unpause`, gRPC ForecastUnpause) calls this.
 */
import { setMaxListeners } from 'node:events';
import { vcenterTargetsOf } from '../backup/vcenter-targets.js';
import { kubeconfigOf } from '../backup/workload-clusters.js';
import { forecast } from '../forecast/forecast.js';
import type { CloneResources, Forecast, ForecastInput, WorkloadState } from '../forecast/model.js';
import { projectManagement } from '../forecast/project.js';
import type { KubeClient } from '../kube/client.js';
import { readManagementCluster, type ListedObjects, type ManagementObjects } from '../kube/management-cluster.js';
import type { CapiResourceName } from '../kube/capi-resources.js';
import { checkFieldTypes } from '../backup/object-schema.js';
import { neededSecretKeys } from '../backup/secrets.js';
import type { BackupResourceKind } from '../model/backup.js';
import { objectKey } from '../model/kube.js';
import type { VCenterListing } from '../model/inventory.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import { withCertificateHint, withCredentials, type DoorWords } from './detect.js';
import { DomainError } from './errors.js';

export interface ForecastOptions {
  /** `namespace/name` of the Clusters to forecast; all when absent. */
  clusters?: string[];
  insecureSkipVerify?: boolean;
  /** Do not read the workload clusters: what needs their Nodes is unknown. */
  skipAccessApiServer?: boolean;
  credentials?: CredentialOverrides;
  words?: DoorWords;
  vcenterTimeoutMs?: number;
  apiserverTimeoutMs?: number;
  apiserverConcurrency?: number;
  signal?: AbortSignal;
  debug?: (message: string) => void;
  now?: () => Date;
}

export interface ForecastRun {
  forecast: Forecast;
  /** The objects the forecast was made from, Secrets as names only (the unpause patches them). */
  objects: ManagementObjects;
  /** The workload clusters as read for the forecast (the tripwire's starting point). */
  workloads: WorkloadState[];
}

export async function forecastUnpause(client: KubeClient, options: ForecastOptions = {}): Promise<ForecastRun> {
  const debug = options.debug ?? (() => {});
  // Every read of the forecast listens to the caller's signal: a dozen listings at once, then each workload cluster.
  if (options.signal) setMaxListeners(0, options.signal);
  debug(`management cluster ${client.server}: listing its Cluster API and CAPV objects`);
  const objects = await readLiveObjects(client, options.signal, debug);
  const management = projectManagement(objects);
  const selected = (namespace: string, name: string) => !options.clusters || options.clusters.includes(`${namespace}/${name}`);
  const clusters = management.clusters.filter((c) => selected(c.namespace, c.name));
  const missing = (options.clusters ?? []).filter((name) => !clusters.some((c) => `${c.namespace}/${c.name}` === name));
  if (missing.length > 0) throw new DomainError('not-found', `no Cluster ${missing.join(', ')} in the management cluster ${client.server}`);
  const vcenters = new Set(
    management.vsphereClusters
      .filter((v) => clusters.some((c) => c.namespace === v.namespace && c.infrastructureName === v.name))
      .flatMap((v) => (v.vcenter ? [v.vcenter] : [])),
  );
  const targets = vcenterTargetsOf(objects).filter((t) => !options.clusters || vcenters.has(t.vcenter));
  const workloadRequests = clusters.map((c) => ({
    namespace: c.namespace,
    cluster: c.name,
    kubeconfig: kubeconfigOf(objects, c.namespace, c.name),
  }));
  // The values were needed for the targets and the kubeconfigs only: from here on, names.
  objects.secrets = objects.secrets.map((s) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { ...s.metadata } }));

  const vsphere = await readVSphere(targets, options, debug);
  options.signal?.throwIfAborted();
  const workloads = options.skipAccessApiServer ? [] : await readWorkloads(workloadRequests, options);
  options.signal?.throwIfAborted();
  const input: ForecastInput = {
    management,
    vsphere,
    workloads,
    ...(options.clusters ? { only: options.clusters } : {}),
    now: (options.now ?? (() => new Date()))().toISOString(),
  };
  const started = Date.now();
  const made = forecast(input);
  debug(`forecast: ${made.clusters.length} clusters in ${Date.now() - started} ms`);
  return { forecast: made, objects, workloads };
}

/**
 * The management cluster's objects, checked field by field, Secrets as names but for those whose
 * values the forecast uses.
 */
export function readLiveObjects(client: KubeClient, signal?: AbortSignal, debug?: (message: string) => void): Promise<ManagementObjects> {
  return readManagementCluster(client, {
    keepSecretData: secretsNeeded,
    check: checkFields(client.server),
    ...(signal ? { signal } : {}),
    ...(debug ? { debug } : {}),
  });
}

/** The Secrets whose values the forecast uses: vCenter credentials and the workload kubeconfigs. */
function secretsNeeded(objects: ListedObjects): (namespace: string, name: string) => boolean {
  const needed = neededSecretKeys(objects);
  return (namespace, name) => needed.exact.has(objectKey(namespace, name)) || needed.identityNames.has(name);
}

/** The kinds a backup holds too are checked field by field as the backup reader checks them. */
const SCHEMA_OF: Partial<Record<CapiResourceName, BackupResourceKind>> = {
  clusters: 'clusters',
  kubeadmControlPlanes: 'kubeadmControlPlanes',
  machineDeployments: 'machineDeployments',
  machineSets: 'machineSets',
  machines: 'machines',
  vsphereClusters: 'vsphereClusters',
  vsphereMachines: 'vsphereMachines',
  vsphereVMs: 'vsphereVMs',
  vsphereClusterIdentities: 'vsphereClusterIdentities',
};

function checkFields(server: string): (name: CapiResourceName, object: Record<string, unknown>, what: string) => void {
  return (name, object, what) => {
    const schema = SCHEMA_OF[name];
    if (schema) checkFieldTypes(server, what, schema, object);
  };
}

async function readVSphere(
  targets: ReturnType<typeof vcenterTargetsOf>,
  options: ForecastOptions,
  debug: (message: string) => void,
): Promise<ForecastInput['vsphere']> {
  const { ready, missing } = withCredentials(targets, options.credentials, options.words);
  for (const t of ready) debug(`vsphere: ${t.server}: credentials from ${t.credentialsFrom}`);
  const { walkVCenters } = await import('../vsphere/inventory.js');
  const walks = await walkVCenters(ready, {
    cloneResources: true,
    insecureSkipVerify: options.insecureSkipVerify,
    timeoutMs: options.vcenterTimeoutMs,
    signal: options.signal,
    debug,
  });
  const listings: VCenterListing[] = [...walks.map((w) => withCertificateHint(w.listing, options.words?.certificateHints)), ...missing];
  const resources: CloneResources[] = walks.flatMap((w) => (w.resources ? [{ vcenter: w.listing.vcenter, ...w.resources }] : []));
  return { listings, resources };
}

async function readWorkloads(
  requests: Array<{ namespace: string; cluster: string; kubeconfig: string | undefined }>,
  options: ForecastOptions,
): Promise<WorkloadState[]> {
  const { readAllWorkloadMembers } = await import('../workload/members.js');
  const reachable = requests.flatMap((r) => (r.kubeconfig ? [{ ...r, kubeconfig: r.kubeconfig }] : []));
  const read = await readAllWorkloadMembers(reachable, {
    timeoutMs: options.apiserverTimeoutMs,
    concurrency: options.apiserverConcurrency,
    insecureSkipVerify: options.insecureSkipVerify,
    signal: options.signal,
    debug: options.debug,
  });
  const without: WorkloadState[] = requests
    .filter((r) => !r.kubeconfig)
    .map((r) => ({
      namespace: r.namespace,
      cluster: r.cluster,
      reached: false,
      reason: `no Secret ${r.namespace}/${r.cluster}-kubeconfig with a value`,
    }));
  return [...read, ...without];
}
