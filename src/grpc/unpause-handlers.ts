/** driftdetector.v1.DriftDetector: ForecastUnpause, the unpause forecast of `serve`'s management cluster. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { DomainError } from '../app/errors.js';
import type { UnpauseForecaster } from '../app/unpause-service.js';
import type { ClusterForecast, Forecast, ForecastAction, ForecastFinding, Verdict } from '../forecast/model.js';
import { renderForecastJson } from '../report/forecast-json.js';
import { unary, type CallEnvironment } from '../rpc/calls.js';

interface ForecastUnpauseRequest {
  clusters: string[];
  skip_access_apiserver: boolean;
}

const MAX_CLUSTERS = 1000;
const CLUSTER_REF = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SEVERITY: Verdict[] = ['SafeToUnpause', 'ReviewBeforeUnpause', 'UnsafeToUnpause'];

export function unpauseImplementation(env: CallEnvironment, unpause: UnpauseForecaster | undefined): UntypedServiceImplementation {
  return {
    ForecastUnpause: unary<ForecastUnpauseRequest, unknown>(env, 'ForecastUnpause', async (request, ctx) => {
      if (!unpause) {
        throw new DomainError(
          'misconfigured',
          'the service has no management cluster to forecast (no kubeconfig: run it in the cluster, or give it KUBECONFIG)',
        );
      }
      const clusters = checkedClusters(request.clusters ?? []);
      const forecast = await unpause.forecast({ clusters, skipAccessApiServer: request.skip_access_apiserver === true, signal: ctx.signal });
      ctx.fields['digest'] = forecast.digest;
      return forecastMessage(forecast);
    }),
  };
}

function checkedClusters(clusters: string[]): string[] {
  const trimmed = clusters.map((c) => c.trim()).filter((c) => c !== '');
  if (trimmed.length > MAX_CLUSTERS) throw new DomainError('invalid-argument', `clusters: more than ${MAX_CLUSTERS} entries`);
  for (const c of trimmed) {
    if (c.length > 317 || !CLUSTER_REF.test(c))
      throw new DomainError('invalid-argument', `clusters: "${c.slice(0, 80)}" is not namespace/name`);
  }
  return trimmed;
}

export function forecastMessage(forecast: Forecast) {
  const worst = forecast.clusters.reduce<Verdict | ''>(
    (w, c) => (w === '' || SEVERITY.indexOf(c.verdict) > SEVERITY.indexOf(w) ? c.verdict : w),
    '',
  );
  return {
    verdict: worst,
    clusters: forecast.clusters.map(clusterMessage),
    digest: forecast.digest,
    source: forecast.source,
    errors: forecast.errors.map((e) => ({ scope: e.scope, message: e.message })),
    forecast_json: renderForecastJson(forecast),
  };
}

function clusterMessage(c: ClusterForecast) {
  return {
    namespace: c.namespace,
    name: c.name,
    paused: c.paused,
    verdict: c.verdict,
    summary: c.summary,
    actions: c.actions.map(itemMessage),
    findings: c.findings.map(itemMessage),
    unknowns: c.unknowns,
    reasons: c.reasons.map((r) => r.message),
  };
}

function itemMessage(item: ForecastAction | ForecastFinding) {
  return {
    kind: item.kind,
    object_kind: item.object.kind,
    object_namespace: item.object.namespace,
    object_name: item.object.name,
    when: 'when' in item ? item.when : '',
    why: item.why,
    rule: item.rule,
  };
}
