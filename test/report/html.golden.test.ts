/** `detect --format html`: the page as people read it, whole (golden), escaped, self-contained, scripts forbidden. */
import test from 'ava';
import { remediationPlan } from '../../src/remediate/plan.js';
import { renderHtml } from '../../src/report/html.js';
import { assertGolden } from '../helpers/golden.js';
import { exampleReport } from '../helpers/example-report.js';
import { driftedReport } from '../helpers/remediate-report.js';
import { cluster, machine, report as reportOf } from '../helpers/reports.js';

function assertSelfContained(t: import('ava').ExecutionContext, html: string): void {
  t.false(html.includes('<script'), 'no script, not even the one in a VM name');
  t.notRegex(html, /\b(?:src|href)=["'](?!#)|@import|url\(/, 'no external asset; links only within the page');
  t.regex(html, /@media print/);
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
  t.truthy(csp, 'a Content-Security-Policy');
  t.regex(csp!, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src data:;/);
  t.notRegex(csp!, /script-src|unsafe-inline/);
}

test('html: one self-contained page, every value escaped (golden)', async (t) => {
  const report = driftedReport();
  const html = renderHtml(report, remediationPlan(report));
  assertSelfContained(t, html);
  t.true(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  await assertGolden(t, 'report/drifted.html', html);
});

test('html: a newline or a bidirectional override (U+202E) in a name is shown escaped, never raw', (t) => {
  const name = 'wc1-md-0-\u202egnp.exe\nForged: Healthy';
  const r = reportOf('backup.tar.gz', cluster('default', 'wc1\u202e', [], [{ ...machine(name, 'Ghost'), nodeName: name }]));
  const html = renderHtml(r, remediationPlan(r));
  t.false(html.includes('\u202e'), 'no raw U+202E anywhere on the page');
  t.false(html.includes('\nForged'), 'a newline in a name cannot start a line of the page');
  t.true(html.includes('wc1-md-0-\\u{202e}gnp.exe\\u{a}Forged: Healthy'));
  t.true(html.includes('wc1\\u{202e}'));
});

test('html of the bundled example: the answer first (golden)', async (t) => {
  const report = await exampleReport();
  const html = renderHtml(report, remediationPlan(report));
  assertSelfContained(t, html);
  const at = (text: string) => html.indexOf(text);
  t.true(at('id="verdict"') < at('class="todo-ghost"'), 'the verdict, then what to do');
  t.true(at('class="todo-ghost"') < at('<h2>Clusters</h2>'), 'what to do, then the clusters');
  await assertGolden(t, 'report/example.html', html);
});
