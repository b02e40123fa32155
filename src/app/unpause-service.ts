/**
 * The unpause forecast as `serve` offers it (gRPC ForecastUnpause): the management cluster of the
 * service's kubeconfig, the service's vCenter credentials and analysis settings, one forecast at a
 * time under the analysis timeout. Read-only: the service never unpauses.
 */
import type { AnalysisConfig } from '../config/service-config.js';
import type { Forecast } from '../forecast/model.js';
import type { KubeClient } from '../kube/client.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import type { DoorWords } from './detect.js';
import { DomainError } from './errors.js';
import { forecastUnpause } from './unpause-forecast.js';

export interface UnpauseForecastRequest {
  /** `namespace/name`; all when empty. */
  clusters: string[];
  skipAccessApiServer: boolean;
  signal?: AbortSignal;
}

export interface UnpauseForecaster {
  forecast(request: UnpauseForecastRequest): Promise<Forecast>;
}

export interface UnpauseForecasterOptions {
  client: () => Promise<KubeClient>;
  analysis: AnalysisConfig;
  vcenterCredentials: CredentialOverrides;
  words: DoorWords;
  debug?: (message: string) => void;
}

export function unpauseForecaster(options: UnpauseForecasterOptions): UnpauseForecaster {
  const { analysis } = options;
  return {
    async forecast(request) {
      const deadline = AbortSignal.timeout(analysis.timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
      const client = await options.client();
      try {
        const run = await forecastUnpause(client, {
          ...(request.clusters.length > 0 ? { clusters: request.clusters } : {}),
          skipAccessApiServer: request.skipAccessApiServer || analysis.skipAccessApiServer,
          insecureSkipVerify: analysis.insecureSkipVerify,
          credentials: options.vcenterCredentials,
          words: options.words,
          vcenterTimeoutMs: analysis.vcenterTimeoutMs,
          apiserverTimeoutMs: analysis.apiserverTimeoutMs,
          apiserverConcurrency: analysis.apiserverConcurrency,
          signal,
          ...(options.debug ? { debug: options.debug } : {}),
        });
        return run.forecast;
      } catch (err) {
        if (deadline.aborted && !request.signal?.aborted) {
          throw new DomainError('timeout', `the unpause forecast did not finish within ${analysis.timeoutMs / 1000} s`, { cause: err });
        }
        throw err;
      }
    },
  };
}
