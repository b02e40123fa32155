/** The forecast page: names from vCenter and the cluster are escaped; verdicts carry their colour. */
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import { renderForecastConsole } from '../../src/report/forecast-console.js';
import { renderForecastHtml } from '../../src/report/forecast-html.js';
import { healthyCluster } from '../forecast/scenario.js';

const hostile = () => forecast(healthyCluster().ghost('wc1', '<script>alert(1)</script>\u001b[2J').input());

test('a hostile VM name is escaped in the page and its control characters escaped on the console', (t) => {
  const f = hostile();
  const html = renderForecastHtml(f);
  t.false(html.includes('<script'));
  t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.regex(html, /<section class="cluster" data-verdict="UnsafeToUnpause">/);
  t.regex(html, /class="s s-UnsafeToUnpause"/);
  t.regex(html, /\.s-UnsafeToUnpause\{color:var\(--red\)\}/);
  const text = renderForecastConsole(f, { color: false });
  t.false(text.includes('\u001b'));
  t.true(text.includes('<script>alert(1)</script>\\u{1b}[2J'));
});

test('a newline or a bidirectional override (U+202E) in a VM name is shown escaped in the page', (t) => {
  const html = renderForecastHtml(forecast(healthyCluster().ghost('wc1', 'wc1-\u202egnp.exe\nForged').input()));
  t.false(html.includes('\u202e'));
  t.false(html.includes('\nForged'));
  t.true(html.includes('wc1-\\u{202e}gnp.exe\\u{a}Forged'));
});

test('the console paints verdicts only when asked', (t) => {
  const f = forecast(healthyCluster().input());
  t.true(renderForecastConsole(f, { color: true }).includes('\u001b[32mSafeToUnpause\u001b[0m'));
  t.false(renderForecastConsole(f, { color: false }).includes('\u001b['));
});
