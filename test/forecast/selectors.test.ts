import test from 'ava';
import { formatDuration, maxUnhealthyCount, parseGoDuration, selects, unhealthyRange } from '../../src/forecast/selectors.js';

test('label selectors: matchLabels and every operator; an empty selector matches nothing', (t) => {
  const labels = { a: '1', b: '2' };
  t.true(selects({ matchLabels: { a: '1' } }, labels));
  t.false(selects({ matchLabels: { a: '2' } }, labels));
  t.true(selects({ matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] }, labels));
  t.false(selects({ matchExpressions: [{ key: 'c', operator: 'In', values: ['2'] }] }, labels));
  t.true(selects({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['3'] }] }, labels));
  t.true(selects({ matchExpressions: [{ key: 'c', operator: 'NotIn', values: ['3'] }] }, labels));
  t.true(selects({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, labels));
  t.true(selects({ matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] }, labels));
  t.false(selects({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, labels));
  t.false(selects({}, labels));
});

test('maxUnhealthy: counts, percentages rounded down, 100% when absent; nonsense refused', (t) => {
  t.is(maxUnhealthyCount(undefined, 7), 7);
  t.is(maxUnhealthyCount(2, 7), 2);
  t.is(maxUnhealthyCount('2', 7), 2);
  t.is(maxUnhealthyCount('40%', 3), 1);
  t.is(maxUnhealthyCount('100%', 3), 3);
  t.is(maxUnhealthyCount('0%', 3), 0);
  t.throws(() => maxUnhealthyCount('many', 3), { message: /maxUnhealthy "many"/ });
});

test('unhealthyRange [min-max]', (t) => {
  t.deepEqual(unhealthyRange('[1-3]'), { min: 1, max: 3 });
  t.throws(() => unhealthyRange('1-3'), { message: /\[min-max\]/ });
  t.throws(() => unhealthyRange('[3-1]'));
});

test('Go durations as Kubernetes writes them', (t) => {
  t.is(parseGoDuration('20m0s'), 1200);
  t.is(parseGoDuration('1h'), 3600);
  t.is(parseGoDuration('300s'), 300);
  t.is(parseGoDuration('1.5h'), 5400);
  t.is(parseGoDuration('0'), 0);
  t.is(parseGoDuration('20 minutes'), undefined);
  t.is(formatDuration(1200), '20m');
  t.is(formatDuration(5400), '1h30m');
  t.is(formatDuration(45), '45s');
});
