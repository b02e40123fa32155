/** `drift-detector unpause` run: the forecast, and with --apply the guarded unpause and its tripwire. */
import { createInterface } from 'node:readline/promises';
import { runTripwire, type TripwireResult } from '../app/tripwire.js';
import { forecastUnpause, type ForecastOptions } from '../app/unpause-forecast.js';
import { unpauseClusters, type UnpauseResult } from '../app/unpause.js';
import { DEFAULTS } from '../config/defaults.js';
import { credentialOverrides } from '../config/vcenter-credentials.js';
import type { ClusterForecast, Forecast } from '../forecast/model.js';
import { decodeSecretValue, kubeClient, type KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { renderForecastConsole } from '../report/forecast-console.js';
import { renderForecastJson } from '../report/forecast-json.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { printable } from '../util/shell.js';
import { CLI_WORDS } from './words.js';
import { runDeadline } from './deadline.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, UsageError } from './errors.js';
import { debugLogger, wantsColor } from './log.js';
import type { UnpauseFlags } from './unpause-flags.js';

const ACCESS_HINT = 'check that the kubeconfig may list Cluster API and CAPV objects and Secrets (docs/unpause.md#rbac)';

export async function runUnpause(flags: UnpauseFlags, debugEnabled: boolean): Promise<number> {
  const debug = debugLogger(debugEnabled);
  if (flags.apply && !flags.yes && !process.stdin.isTTY) {
    throw new UsageError('unpause', '--apply asks before each cluster: give --yes when stdin is not a terminal');
  }
  const credentials = await credentialOverrides(flags);
  const kc = await loadKubeConfig(process.env, flags.kubeconfig ? { file: flags.kubeconfig } : {});
  const client = await kubeClient(kc, { timeoutMs: DEFAULTS.unpause.kubeTimeoutMs, accessHint: ACCESS_HINT });
  const deadline = runDeadline('the forecast', flags.timeout, 'the clusters and vCenters are this slow');
  const options: ForecastOptions = {
    ...(flags.cluster.length > 0 ? { clusters: flags.cluster } : {}),
    insecureSkipVerify: flags.insecureSkipVerify === true,
    skipAccessApiServer: flags.skipAccessApiserver === true,
    credentials,
    words: CLI_WORDS,
    vcenterTimeoutMs: flags.vsphereTimeout,
    apiserverTimeoutMs: flags.apiserverTimeout,
    apiserverConcurrency: flags.apiserverConcurrency,
    signal: deadline.signal,
    debug,
  };
  if (!flags.apply) {
    const { forecast } = await forecastUnpause(client, options).finally(deadline.done);
    await writeForecast(forecast, flags);
    return forecast.clusters.every((c) => c.verdict === 'SafeToUnpause') ? EXIT_OK : EXIT_ACTION_NEEDED;
  }
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${printable(line)}\n`);
  const result = await unpauseClusters(client, {
    ...options,
    ...(flags.accept !== undefined ? { accept: flags.accept } : {}),
    skipRemediation: flags.skipRemediation === true,
    acceptHint: (digest) => `run again with --apply --accept ${digest}`,
    ...(flags.yes ? {} : { confirm: askOnTerminal }),
    log,
  }).finally(deadline.done);
  await writeForecast(result.forecast, flags);
  for (const e of result.entries) {
    process.stdout.write(`${[e.outcome, `${e.namespace}/${e.name}`, e.verdict, e.reason].map(printable).join('\t')}\n`);
  }
  const refused = result.entries.some((e) => e.outcome === 'refused');
  const fired = flags.watch ? await watchUnpaused(client, result, flags, log, debug) : [];
  return refused || fired.length > 0 ? EXIT_ACTION_NEEDED : EXIT_OK;
}

async function writeForecast(forecast: Forecast, flags: UnpauseFlags): Promise<void> {
  const text =
    flags.format === 'json'
      ? renderForecastJson(forecast)
      : flags.format === 'html'
        ? (await import('../report/forecast-html.js')).renderForecastHtml(forecast)
        : renderForecastConsole(forecast, { color: !flags.output && wantsColor(process.stdout) });
  if (flags.output) await writeFileAtomic(flags.output, text, 0o644);
  else process.stdout.write(text);
}

/** The tripwire on every cluster just unpaused, side by side; the ones that fired. */
async function watchUnpaused(
  client: KubeClient,
  result: UnpauseResult,
  flags: UnpauseFlags,
  log: (line: string) => void,
  debug: (message: string) => void,
): Promise<Array<TripwireResult & { fired: true }>> {
  const unpaused = result.entries.filter((e) => e.outcome === 'unpaused');
  const outcomes = await Promise.all(
    unpaused.map(async (entry) => {
      const cluster = result.forecast.clusters.find((c) => c.namespace === entry.namespace && c.name === entry.name)!;
      const machines = result.objects.machines
        .filter((m) => m.metadata.namespace === cluster.namespace && m.metadata.labels?.['cluster.x-k8s.io/cluster-name'] === cluster.name)
        .map((m) => m.metadata.name);
      const seen = result.workloads.find((w) => w.namespace === cluster.namespace && w.cluster === cluster.name);
      const workload = seen?.reached ? await workloadOf(client, cluster, seen.etcdMembers, flags, debug) : undefined;
      const outcome = await runTripwire(client, cluster, {
        durationMs: flags.watch ?? 0,
        machines,
        ...(workload ? { workload } : {}),
        log,
        debug,
      });
      if (outcome.fired)
        process.stdout.write(`paused-again\t${printable(`${cluster.namespace}/${cluster.name}`)}\t${printable(outcome.what)}\n`);
      return outcome;
    }),
  );
  return outcomes.filter((o): o is TripwireResult & { fired: true } => o.fired);
}

/** The kubeconfig of the workload cluster, read again now: the forecast kept no Secret value. */
async function workloadOf(client: KubeClient, cluster: ClusterForecast, members: string[], flags: UnpauseFlags, debug: (m: string) => void) {
  try {
    const data = await client.readSecretData(cluster.namespace, `${cluster.name}-kubeconfig`);
    if (!data['value']) return undefined;
    return {
      namespace: cluster.namespace,
      cluster: cluster.name,
      kubeconfig: decodeSecretValue(data['value']),
      members,
      insecureSkipVerify: flags.insecureSkipVerify === true,
      timeoutMs: flags.apiserverTimeout,
    };
  } catch (err) {
    debug(`tripwire on ${cluster.namespace}/${cluster.name}: etcd members not followed: ${(err as Error).message}`);
    return undefined;
  }
}

async function askOnTerminal(cluster: ClusterForecast): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      printable(`Unpause ${cluster.namespace}/${cluster.name} (${cluster.verdict}: ${cluster.summary})? [y/N] `),
    );
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
