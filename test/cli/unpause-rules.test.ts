/**
 * The readers against real peers fill the forecast's input as the scenario means it: the restored
 * management cluster covering most rules (test/forecast/scenario.ts), read from the loopback
 * Kubernetes API, vcsim and the workload stand-ins by `drift-detector unpause`, forecasts what
 * the pure forecast of the scenario's own projection forecasts, rule by rule.
 */
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ClusterForecast, Forecast } from '../../src/forecast/model.js';
import { brief, restoredManagementCluster, TEMPLATE, VCENTER } from '../forecast/scenario.js';
import { startWorld } from './unpause-world.js';

/** What a cluster's forecast says, with the vCenter's address written as the scenario's. */
function said(c: ClusterForecast, vcenter: string) {
  return JSON.parse(
    JSON.stringify({
      cluster: `${c.namespace}/${c.name}`,
      paused: c.paused,
      verdict: c.verdict,
      summary: c.summary,
      actions: brief(c.actions),
      findings: c.findings.map((f) => `${f.kind} ${f.object.kind}/${f.object.name} #${f.rule}`),
      reasons: c.reasons.map((r) => r.rule),
    })
      .split(vcenter)
      .join(VCENTER),
  ) as unknown;
}

test('every rule of the restored management cluster, read from the real peers, forecasts as the scenario does', async (t) => {
  const scenario = restoredManagementCluster();
  const world = await startWorld(t, scenario);
  await world.workloads.get('default/wc5')!.server.setMode('refuse');
  const result = await world.unpause('--format', 'json');
  t.is(result.code, 1, result.stderr);
  const live = JSON.parse(result.stdout) as Forecast;
  const expected = forecast(scenario.input());
  t.deepEqual(
    live.clusters.map((c) => said(c, world.vcsim.server)),
    expected.clusters.map((c) => said(c, VCENTER)),
  );
  t.deepEqual(
    [...new Set(live.clusters.map((c) => c.verdict))].sort(),
    ['ReviewBeforeUnpause', 'SafeToUnpause', 'UnsafeToUnpause'],
    'the scenario covers every verdict',
  );
  t.true(live.clusters.find((c) => c.name === 'wc5')!.unknowns.length > 0, 'wc5 refuses connections: its Nodes are unknown');
  t.deepEqual(live.errors, []);
});

test('the template VM deleted from vCenter: the predicted clones fail', async (t) => {
  const scenario = restoredManagementCluster();
  const world = await startWorld(t, scenario);
  await world.vcsim.removeVM(TEMPLATE);
  const result = await world.unpause('--format', 'json', '--cluster', 'default/wc3');
  t.is(result.code, 1, result.stderr);
  const wc3 = (JSON.parse(result.stdout) as Forecast).clusters[0]!;
  const fails = wc3.actions.filter((a) => a.kind === 'clone-fails');
  t.true(fails.length > 0);
  t.true(fails.every((a) => a.why.includes(`template ${TEMPLATE}`)));
  t.is(wc3.verdict, 'UnsafeToUnpause');
});
