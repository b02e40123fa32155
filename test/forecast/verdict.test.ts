import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import { healthyCluster, NOW } from './scenario.js';

test('a healthy paused cluster: nothing predicted, SafeToUnpause', (t) => {
  const f = forecast(healthyCluster().input());
  t.is(f.clusters.length, 1);
  const c = f.clusters[0]!;
  t.deepEqual(c.actions, []);
  t.deepEqual(c.findings, []);
  t.deepEqual(c.unknowns, []);
  t.is(c.verdict, 'SafeToUnpause');
  t.is(c.summary, 'on unpause: nothing predicted');
  t.is(f.generatedAt, NOW);
  t.regex(f.digest, /^[0-9a-f]{64}$/);
});
