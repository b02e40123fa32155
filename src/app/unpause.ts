/**
 * The guarded unpause (docs/unpause-forecast.md, "The unpause"): forecast again, then unpause
 * SafeToUnpause clusters, ReviewBeforeUnpause ones only when the operator accepted exactly this
 * forecast (its digest), UnsafeToUnpause never. Unpausing clears `cluster.x-k8s.io/paused` on the
 * cluster's objects, then `spec.paused` on the Cluster, each with a merge patch.
 */
import { CLUSTER_NAME_LABEL, text } from '../backup/object-fields.js';
import type { ClusterForecast, RuleId } from '../forecast/model.js';
import { PAUSED_ANNOTATION, SKIP_REMEDIATION_ANNOTATION } from '../forecast/project.js';
import { CAPI_RESOURCES, type CapiResourceName } from '../kube/capi-resources.js';
import type { KubeClient } from '../kube/client.js';
import type { ManagementObjects } from '../kube/management-cluster.js';
import type { KubeObject } from '../model/kube.js';
import { forecastUnpause, type ForecastOptions, type ForecastRun } from './unpause-forecast.js';

export interface UnpauseOptions extends ForecastOptions {
  /** The digest of the forecast the operator read and accepts (Review clusters need it). */
  accept?: string;
  /** Annotate the Machines MHC would delete with skip-remediation before unpausing. */
  skipRemediation?: boolean;
  /** How the door tells the operator to accept a forecast, e.g. `give --accept <digest>`. */
  acceptHint?: (digest: string) => string;
  /** Asked before each cluster is unpaused; absent: no question. */
  confirm?: (cluster: ClusterForecast) => Promise<boolean>;
  /** One line per change made. */
  log?: (line: string) => void;
}

export type UnpauseOutcome = 'unpaused' | 'refused' | 'already-running';

export interface UnpauseEntry {
  namespace: string;
  name: string;
  verdict: ClusterForecast['verdict'];
  outcome: UnpauseOutcome;
  reason: string;
  /** Machines annotated with skip-remediation before the unpause. */
  skipRemediation: string[];
}

export interface UnpauseResult extends ForecastRun {
  entries: UnpauseEntry[];
}

export async function unpauseClusters(client: KubeClient, options: UnpauseOptions): Promise<UnpauseResult> {
  const run = await forecastUnpause(client, options);
  const { forecast, objects } = run;
  const entries: UnpauseEntry[] = [];
  for (const cluster of forecast.clusters) {
    const refusal = refusalOf(cluster, forecast.digest, options);
    const base = { namespace: cluster.namespace, name: cluster.name, verdict: cluster.verdict, skipRemediation: [] as string[] };
    if (!cluster.paused) {
      entries.push({ ...base, outcome: 'already-running', reason: 'not paused: nothing to unpause' });
    } else if (refusal) {
      entries.push({ ...base, outcome: 'refused', reason: refusal });
    } else if (options.confirm && !(await options.confirm(cluster))) {
      entries.push({ ...base, outcome: 'refused', reason: 'not confirmed' });
    } else {
      const annotated = options.skipRemediation ? await markSkipRemediation(client, cluster, options) : [];
      await unpauseCluster(client, objects, cluster, options);
      entries.push({ ...base, skipRemediation: annotated, outcome: 'unpaused', reason: cluster.summary });
    }
  }
  return { ...run, entries };
}

/** Why a paused cluster may not be unpaused now, if it may not. */
function refusalOf(cluster: ClusterForecast, digest: string, options: UnpauseOptions): string | undefined {
  if (cluster.verdict === 'SafeToUnpause') return undefined;
  if (cluster.verdict === 'UnsafeToUnpause') {
    return `UnsafeToUnpause, never unpaused: fix first: ${cluster.reasons.map((r) => r.message).join('; ')}`;
  }
  if (options.accept === digest) return undefined;
  const hint = options.acceptHint?.(digest) ?? `accept the forecast of digest ${digest}`;
  if (options.accept === undefined) return `ReviewBeforeUnpause: read the forecast (${cluster.summary}), then ${hint}`;
  return `ReviewBeforeUnpause: the forecast changed since the one accepted (${options.accept}); read it again, then ${hint}`;
}

/** The rules under which a MachineHealthCheck deletes a Machine (docs/unpause-forecast.md). */
const REMEDIATION_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['stale-machine', 'mhc-remediation']);

/** The Machines the forecast says a MachineHealthCheck would delete, annotated to be left alone. */
async function markSkipRemediation(client: KubeClient, cluster: ClusterForecast, options: UnpauseOptions): Promise<string[]> {
  const machines = [
    ...new Set(
      cluster.actions
        .filter((a) => a.kind === 'delete' && REMEDIATION_RULES.has(a.rule) && a.object.kind === 'Machine')
        .map((a) => a.object.name),
    ),
  ].sort();
  for (const name of machines) {
    await client.patchObject(
      CAPI_RESOURCES.machines,
      cluster.namespace,
      name,
      { metadata: { annotations: { [SKIP_REMEDIATION_ANNOTATION]: '' } } },
      options.signal,
    );
    options.log?.(`Machine ${cluster.namespace}/${name}: annotated ${SKIP_REMEDIATION_ANNOTATION}`);
  }
  return machines;
}

/** The paused annotation off every object of the cluster that has it, then the Cluster's spec.paused. */
async function unpauseCluster(
  client: KubeClient,
  objects: ManagementObjects,
  cluster: ClusterForecast,
  options: UnpauseOptions,
): Promise<void> {
  const clusterObject = objects.clusters.find((c) => c.metadata.namespace === cluster.namespace && c.metadata.name === cluster.name);
  const clearAnnotation = { metadata: { annotations: { [PAUSED_ANNOTATION]: null } } };
  for (const [name, object] of pausedObjectsOf(objects, cluster.namespace, cluster.name, clusterObject)) {
    await client.patchObject(CAPI_RESOURCES[name], cluster.namespace, object.metadata.name, clearAnnotation, options.signal);
    options.log?.(`${CAPI_RESOURCES[name].kind} ${cluster.namespace}/${object.metadata.name}: ${PAUSED_ANNOTATION} removed`);
  }
  await client.patchObject(
    CAPI_RESOURCES.clusters,
    cluster.namespace,
    cluster.name,
    { ...clearAnnotation, spec: { paused: null } },
    options.signal,
  );
  options.log?.(`Cluster ${cluster.namespace}/${cluster.name}: unpaused`);
}

/** Pauses a Cluster again (the tripwire). */
export async function pauseCluster(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<void> {
  await client.patchObject(CAPI_RESOURCES.clusters, namespace, name, { spec: { paused: true } }, signal);
}

/** The kinds whose objects belong to one cluster (a Cluster's own paused state is its spec). */
const OWN_KINDS = (Object.keys(CAPI_RESOURCES) as CapiResourceName[]).filter((k) => k !== 'clusters' && k !== 'vsphereClusterIdentities');

/**
 * The cluster's objects that carry the paused annotation: labelled with the cluster's name, naming
 * it in `spec.clusterName`, or named by the Cluster's control-plane and infrastructure references.
 */
function pausedObjectsOf(
  objects: ManagementObjects,
  namespace: string,
  name: string,
  cluster: KubeObject | undefined,
): Array<[CapiResourceName, KubeObject]> {
  const referenced = new Set(
    ['controlPlaneRef', 'infrastructureRef'].flatMap((ref) => {
      const kind = text(cluster?.spec, ref, 'kind');
      const refName = text(cluster?.spec, ref, 'name');
      return kind && refName ? [`${kind}/${refName}`] : [];
    }),
  );
  return OWN_KINDS.flatMap((kind) =>
    objects[kind]
      .filter((o) => o.metadata.namespace === namespace && Object.hasOwn(o.metadata.annotations ?? {}, PAUSED_ANNOTATION))
      .filter(
        (o) =>
          o.metadata.labels?.[CLUSTER_NAME_LABEL] === name ||
          text(o.spec, 'clusterName') === name ||
          referenced.has(`${CAPI_RESOURCES[kind].kind}/${o.metadata.name}`),
      )
      .map((o): [CapiResourceName, KubeObject] => [kind, o]),
  );
}
