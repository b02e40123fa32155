/**
 * `drift-detector check --unpause`: the service's unpause forecast (ForecastUnpause), printed as
 * `unpause` prints it. Exit codes as `unpause`: 0 every cluster SafeToUnpause, 1 any to review or
 * unsafe, 2 error. A DR drill in CI fails on it.
 */
import type { Forecast } from '../forecast/model.js';
import { renderForecastConsole } from '../report/forecast-console.js';
import { ServiceError, statusName } from '../rpc/service-error.js';
import { connect } from './check-run.js';
import type { CheckFlags } from './check-flags.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, givenFlags, UsageError } from './errors.js';
import { wantsColor } from './log.js';

interface ForecastUnpauseResponse {
  verdict: string;
  digest: string;
  forecast_json: string;
}

export async function runUnpauseCheck(flags: CheckFlags): Promise<void> {
  const unrelated = givenFlags([
    ['--backup-name', flags.backupName],
    ['--override', flags.override],
    ['--override-clusters', flags.overrideClusters],
    ['--refresh', flags.refresh],
  ]);
  if (unrelated.length > 0) throw new UsageError('check', `${unrelated.join(', ')}: not with --unpause`);
  const client = await connect(flags);
  let response: ForecastUnpauseResponse;
  try {
    response = await client.call<ForecastUnpauseResponse>(
      'ForecastUnpause',
      { clusters: flags.cluster, skip_access_apiserver: flags.skipAccessApiserver === true },
      { timeoutMs: flags.timeout },
    );
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    throw new Error(`unpause forecast at ${flags.server}: ${statusName(err.code)}: ${err.message}`, { cause: err });
  } finally {
    client.close();
  }
  const forecast = JSON.parse(response.forecast_json) as Forecast;
  process.stdout.write(renderForecastConsole(forecast, { color: wantsColor(process.stdout) }));
  process.exitCode = forecast.clusters.every((c) => c.verdict === 'SafeToUnpause') ? EXIT_OK : EXIT_ACTION_NEEDED;
}
