/** `detect --format html`: the page as people read it, whole (golden), escaped and self-contained. */
import test from 'ava';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderHtml } from '../../src/report/html.js';
import { assertGolden } from '../helpers/golden.js';
import { driftedReport } from '../helpers/remediate-report.js';

test('html: one self-contained page, every value escaped (golden)', async (t) => {
  const report = driftedReport();
  const html = renderHtml(report, remediationPlan(report));
  t.false(html.includes('<script'), 'no script, not even the one in a VM name');
  t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  t.notRegex(html, /\b(?:src|href)=|@import|url\(/, 'no external asset');
  t.regex(html, /@media print/);
  await assertGolden(t, 'report/drifted.html', html);
});
