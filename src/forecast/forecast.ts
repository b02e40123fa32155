/**
 * The unpause forecast (docs/unpause-forecast.md): plain data in, per Cluster the actions the
 * controllers will take on unpause, the findings, a verdict and a summary, and one digest for the
 * whole forecast. No I/O, no clock (the time is an input), no randomness.
 */
import { certificatesOutcome } from './certificates.js';
import { clonePrerequisitesOutcome } from './clone-prerequisites.js';
import { clusterView, indexInput, type ClusterView, type ForecastIndex, type MachineFacts } from './cluster-view.js';
import { controlPlaneOutcome } from './control-plane.js';
import { deploymentsOutcome } from './deployments.js';
import { forecastDigest } from './digest.js';
import { etcdOutcome } from './etcd.js';
import { ghostFindings } from './ghosts.js';
import { healthCheckOutcome } from './health-checks.js';
import {
  FORECAST_KIND,
  FORECAST_VERSION,
  type ClusterForecast,
  type Forecast,
  type ForecastAction,
  type ForecastError,
  type ForecastFinding,
  type ForecastInput,
} from './model.js';
import { emptyOutcome, merge, type Outcome } from './outcome.js';
import { ACTION_ORDER, judge, summaryLine } from './verdict.js';
import { vmOutcome } from './vms.js';

export function forecast(input: ForecastInput): Forecast {
  const index = indexInput(input);
  const all = [...input.management.clusters].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const views = all.map((c) => clusterView(index, c));
  const ghosts = ghostFindings(views, index);
  const only = input.only && new Set(input.only);
  const errors: ForecastError[] = [...index.failedVCenters].map(([vcenter, reason]) => ({ scope: `vcenter:${vcenter}`, message: reason }));
  for (const name of only ?? []) {
    if (!views.some((v) => `${v.cluster.namespace}/${v.cluster.name}` === name))
      errors.push({ scope: `cluster:${name}`, message: 'no such Cluster in the management cluster' });
  }
  const clusters = views
    .filter((v) => !only || only.has(`${v.cluster.namespace}/${v.cluster.name}`))
    .map((v) => forecastCluster(v, index, ghosts.get(`${v.cluster.namespace}/${v.cluster.name}`) ?? []));
  const body = {
    kind: FORECAST_KIND,
    version: FORECAST_VERSION,
    source: input.management.source,
    generatedAt: input.now,
    clusters,
    errors,
  } as const;
  return { ...body, digest: forecastDigest(body) };
}

/** One cluster's forecast; `ghosts` come from the drift analysis of all clusters at once. */
export function forecastCluster(view: ClusterView, index: ForecastIndex, ghosts: ForecastFinding[]): ClusterForecast {
  const taken = new Set<MachineFacts>();
  const namespaceDeployments = index.input.management.machineDeployments.filter((d) => d.namespace === view.cluster.namespace);
  const out: Outcome = emptyOutcome();
  merge(out, vmOutcome(view, index));
  merge(out, controlPlaneOutcome(view, taken));
  merge(out, deploymentsOutcome(view, taken, namespaceDeployments));
  merge(out, healthCheckOutcome(view, taken));
  merge(out, etcdOutcome(view));
  merge(out, certificatesOutcome(view, index.input.management));
  merge(out, clonePrerequisitesOutcome(view, index, out.actions));
  out.findings.push(...ghosts);
  const paused = view.cluster.paused;
  if (!paused) out.notes.unshift({ rule: 'already-running', message: 'not paused: the controllers are already acting on it' });
  const actions = sortActions(out.actions);
  const findings = [...out.findings].sort((a, b) => a.kind.localeCompare(b.kind) || a.object.name.localeCompare(b.object.name));
  const unknowns = [...new Set(out.unknowns)].sort();
  const { verdict, reasons } = judge(actions, findings, out.notes, unknowns);
  return {
    namespace: view.cluster.namespace,
    name: view.cluster.name,
    paused,
    actions,
    findings,
    unknowns,
    verdict,
    reasons,
    summary: summaryLine(actions, findings, paused),
  };
}

/** By kind (clone first), what happens at unpause before what follows a timeout, then by object. */
function sortActions(actions: ForecastAction[]): ForecastAction[] {
  const key = (a: ForecastAction) => `${a.object.kind}/${a.object.name}\u0000${a.when}\u0000${a.rule}\u0000${a.related?.name ?? ''}`;
  const later = (a: ForecastAction) => Number(a.when !== 'at unpause');
  return [...actions].sort(
    (a, b) =>
      ACTION_ORDER.indexOf(a.kind) - ACTION_ORDER.indexOf(b.kind) || later(a) - later(b) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0),
  );
}
