/**
 * The bench table: a full-scale target missed at a smaller preset is marked as such, not as a
 * failure; a target that holds at any scale is judged at every preset.
 */
import test from 'ava';
import { measure, renderTable } from '../../bench/results.js';

const missed = measure({
  id: 'rss',
  label: 'reader peak RSS',
  unit: 'MiB',
  ours: 300,
  baseline: 100,
  baselineLabel: 'node',
  target: { on: 'ours', max: 200, text: '<= 200 MiB' },
  samples: { ours: [300], baseline: [100] },
});

test('at full scale a missed target says NO; at a smaller preset it says the target is for full scale', (t) => {
  t.regex(renderTable([missed]), /\| NO +\|$/m);
  const quick = renderTable([missed], { fullScale: false });
  t.false(/\| NO +\|$/m.test(quick));
  t.regex(quick, /n\/a \(target for full scale\)/);
});

test('a target that holds at any scale says yes or NO at every preset', (t) => {
  const target = { on: 'ours' as const, max: 250, text: '<= 250 ms', anyScale: true };
  const row = (ours: number) =>
    measure({
      id: 'start',
      label: 'plugin start',
      unit: 'ms',
      ours,
      baseline: 120,
      baselineLabel: 'node',
      target,
      samples: { ours: [ours], baseline: [120] },
    });
  t.regex(renderTable([row(300)], { fullScale: false }), /\| NO +\|$/m);
  t.regex(renderTable([row(200)], { fullScale: false }), /\| yes +\|$/m);
  t.regex(renderTable([row(300)]), /\| NO +\|$/m);
});
