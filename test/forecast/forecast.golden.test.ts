/** The unpause forecast as people read it, whole: console, JSON and HTML of a restored management cluster. */
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import { renderForecastConsole } from '../../src/report/forecast-console.js';
import { renderForecastHtml } from '../../src/report/forecast-html.js';
import { renderForecastJson } from '../../src/report/forecast-json.js';
import { assertGolden } from '../helpers/golden.js';
import { restoredManagementCluster } from './scenario.js';

const f = forecast(restoredManagementCluster().input());

test('the scenario covers every verdict', (t) => {
  t.deepEqual(
    f.clusters.map((c) => `${c.name} ${c.verdict}`),
    ['wc1 UnsafeToUnpause', 'wc2 SafeToUnpause', 'wc3 ReviewBeforeUnpause', 'wc5 ReviewBeforeUnpause', 'wc4 UnsafeToUnpause'],
  );
});

test('console forecast (golden)', async (t) => {
  await assertGolden(t, 'forecast/restored.console.txt', renderForecastConsole(f, { color: false }));
});

test('JSON forecast (golden)', async (t) => {
  const json = renderForecastJson(f);
  t.deepEqual(JSON.parse(json), f);
  await assertGolden(t, 'forecast/restored.json', json);
});

test('HTML forecast: self-contained, escaped (golden)', async (t) => {
  const html = renderForecastHtml(f);
  t.false(html.includes('<script'));
  t.notRegex(html, /\b(?:src|href)=|@import|url\(/, 'no external asset');
  await assertGolden(t, 'forecast/restored.html', html);
});
