/**
 * The unpause forecast as one self-contained HTML page, in the drift report's style (its style
 * sheet and helpers): inline CSS, no script, no network, every value escaped.
 */
import type { ClusterForecast, Forecast, ForecastAction, ForecastFinding, ObjectRef } from '../forecast/model.js';
import { cell, escapeHtml as e, REPORT_CSS, status } from './html.js';

const VERDICT_CSS = '.s-UnsafeToUnpause{color:var(--red)}.s-ReviewBeforeUnpause{color:var(--yellow)}.s-SafeToUnpause{color:var(--green)}';

export function renderForecastHtml(forecast: Forecast): string {
  const out: string[] = [];
  out.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>Unpause forecast — ${e(forecast.source)}</title><style>${REPORT_CSS}${VERDICT_CSS}</style></head><body>`);
  out.push('<h1>Unpause forecast</h1>');
  out.push(
    `<p class="meta">Management cluster <code>${e(forecast.source)}</code> · generated ${e(forecast.generatedAt)} · digest <code id="digest">${e(forecast.digest)}</code></p>`,
  );
  out.push(...summary(forecast));
  out.push('<h2>Clusters</h2>');
  if (forecast.clusters.length === 0) out.push('<p>No cluster to forecast.</p>');
  for (const c of forecast.clusters) out.push(...cluster(c));
  out.push('<h2>Errors</h2>');
  out.push(
    forecast.errors.length === 0
      ? '<p>None.</p>'
      : `<ul>${forecast.errors.map((x) => `<li class="error"><code>${e(x.scope)}</code>: ${e(x.message)}</li>`).join('')}</ul>`,
  );
  out.push('</body></html>\n');
  return out.join('\n');
}

function summary(forecast: Forecast): string[] {
  const count = (verdict: string) => forecast.clusters.filter((c) => c.verdict === verdict).length;
  const box = (id: string, label: string, n: number) => `<div class="count"><b id="${id}">${n}</b>${e(label)}</div>`;
  return [
    '<h2>Summary</h2>',
    '<div class="counts">',
    box('count-clusters', 'clusters', forecast.clusters.length),
    box('count-safe', 'SafeToUnpause', count('SafeToUnpause')),
    box('count-review', 'ReviewBeforeUnpause', count('ReviewBeforeUnpause')),
    box('count-unsafe', 'UnsafeToUnpause', count('UnsafeToUnpause')),
    '</div>',
  ];
}

function cluster(c: ClusterForecast): string[] {
  const reasons = c.reasons.map((r) => `<li>${e(r.message)} <code>#${e(r.rule)}</code></li>`).join('');
  return [
    `<section class="cluster" data-verdict="${e(c.verdict)}"><h3>${e(c.namespace)}/${e(c.name)} ${status(c.verdict)}</h3>`,
    `<p class="summary">${e(c.summary)}</p>`,
    table(['Action', 'Object', 'When', 'Why'], c.actions.map(actionRow)),
    table(['Finding', 'Object', 'Why'], c.findings.map(findingRow)),
    c.unknowns.length > 0 ? `<p><b>Unknown</b></p><ul>${c.unknowns.map((u) => `<li>${e(u)}</li>`).join('')}</ul>` : '',
    reasons ? `<p><b>Verdict</b>: ${status(c.verdict)}</p><ul class="reasons">${reasons}</ul>` : '',
    '</section>',
  ];
}

function table(headers: string[], rows: string[]): string {
  if (rows.length === 0) return '';
  return `<table><thead><tr>${headers.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function objectHtml(o: ObjectRef): string {
  return `${e(o.kind)} <code>${e(o.kind === 'VirtualMachine' || o.kind === 'Node' ? o.name : `${o.namespace}/${o.name}`)}</code>${o.vcenter ? ` on ${e(o.vcenter)}` : ''}`;
}

function actionRow(a: ForecastAction): string {
  return `<tr class="action" data-kind="${e(a.kind)}">${cell('Action', e(a.kind))}${cell('Object', objectHtml(a.object))}${cell('When', e(a.when))}${cell('Why', `${e(a.why)} <code>#${e(a.rule)}</code>`)}</tr>`;
}

function findingRow(f: ForecastFinding): string {
  return `<tr class="finding" data-kind="${e(f.kind)}">${cell('Finding', e(f.kind))}${cell('Object', objectHtml(f.object))}${cell('Why', `${e(f.why)} <code>#${e(f.rule)}</code>`)}</tr>`;
}
