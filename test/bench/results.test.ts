/** The bench table: a target missed at a smaller preset is marked as a full-scale target, not as a failure. */
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
