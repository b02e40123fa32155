// docs/unpause-forecast.md#digest
import test from 'ava';
import { canonicalJson, forecastDigest } from '../../src/forecast/digest.js';
import { forecast } from '../../src/forecast/forecast.js';
import type { Forecast } from '../../src/forecast/model.js';
import { healthyCluster, Scenario } from './scenario.js';

/** The same value with every object's keys in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  }
  return value;
}

const risky = () =>
  new Scenario()
    .cluster('wc1')
    .deployment('wc1', 'md-0', 2)
    .machine('wc1', 'wc1-cp-a', { controlPlane: true })
    .machine('wc1', 'wc1-md-0-a')
    .machine('wc1', 'wc1-md-0-b', { vm: 'gone' });

test('canonical JSON sorts keys at every level and drops undefined', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: null }], c: undefined } }), '{"a":{"d":[2,{"y":null,"z":1}]},"b":1}');
});

test('the digest is the same whatever the order of keys', (t) => {
  const f = forecast(risky().input());
  t.is(forecastDigest(reversedKeys(f) as Forecast), f.digest);
});

test('the digest leaves out the time: two forecasts of the same state agree', (t) => {
  t.is(forecast(risky().input('2026-12-05T18:00:00Z')).digest, forecast(risky().input('2026-12-06T09:30:00Z')).digest);
});

test('the digest changes when any action changes', (t) => {
  const f = forecast(risky().input());
  const changes: Array<(x: Forecast) => void> = [
    (x) => (x.clusters[0]!.actions[0]!.when = 'at unpause'),
    (x) => (x.clusters[0]!.actions[0]!.object.name = 'other'),
    (x) => (x.clusters[0]!.actions[1]!.why += '.'),
    (x) => x.clusters[0]!.actions.pop(),
    (x) => (x.clusters[0]!.verdict = 'SafeToUnpause'),
  ];
  for (const change of changes) {
    const copy = structuredClone(f);
    change(copy);
    t.not(forecastDigest(copy), f.digest);
  }
});

test('the digest changes when the state changes the forecast', (t) => {
  t.not(forecast(healthyCluster().input()).digest, forecast(risky().input()).digest);
});
