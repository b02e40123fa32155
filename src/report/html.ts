/**
 * The report as one self-contained HTML page: inline CSS, no script, no network. Every value is
 * escaped: names come from the backup and from vCenter. Readable on a phone (one column below
 * 40rem) and on paper (@media print).
 */
import type { ClusterReport, DriftReport, ListingReport, MachineReport } from '../model/report.js';
import type { MachinePlan, RemediationPlan } from '../remediate/plan.js';
import { shellQuote } from '../util/shell.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/** The report pages' style sheet, shared by the drift report and the unpause forecast. */
export const REPORT_CSS = `
:root{--red:#b3261e;--yellow:#8a6100;--cyan:#00677d;--green:#1e6b32;--line:#d0d4d9;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0 auto;max-width:72rem;padding:1rem;color:#1b1f24;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;margin-top:1.6rem}
h3{font-size:1.05rem;margin:1rem 0 .3rem}
.meta{color:#555;font-size:.9rem;overflow-wrap:anywhere}
.counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;margin:.8rem 0}
.count{border:1px solid var(--line);border-radius:.4rem;padding:.5rem;overflow-wrap:anywhere;font-size:.85rem}.count b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.3rem 0 .8rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
.s{font-weight:600;white-space:nowrap}
.s-Ghost,.s-ManualRemediationRequired{color:var(--red)}
.s-Unknown,.s-NeedFurtherConfirmation,.s-NeedFurtherConfirmationInfraMachines,.s-warning{color:var(--yellow)}
.s-Stale,.s-ManualRemediationNotRequired{color:var(--cyan)}.s-Healthy{color:var(--green)}.s-error{color:var(--red)}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:#f4f5f7;padding:.4rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0}
ol{padding-left:1.3rem}
@media (max-width:40rem){body{padding:.5rem}thead{display:none}tr{display:block;border-bottom:2px solid var(--line);padding:.3rem 0}
td{display:block;border:0;padding:.1rem 0}td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
@media print{body{max-width:none;font-size:10pt}h2{break-after:avoid}tr,li{break-inside:avoid}pre{background:none;border:1px solid var(--line)}}
`;

/** A status word in its colour (`.s-<status>`). */
export const status = (s: string) => `<span class="s s-${e(s)}">${e(s)}</span>`;
/** A table cell that keeps its column's label on narrow screens. */
export const cell = (label: string, html: string) => `<td data-label="${e(label)}">${html}</td>`;

export function renderHtml(report: DriftReport, plan: RemediationPlan): string {
  const out: string[] = [];
  const meta = report.metadata;
  out.push('<!doctype html><html lang="en"><head><meta charset="utf-8">');
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>Drift report${meta ? ` — ${e(meta.backup)}` : ''}</title><style>${REPORT_CSS}</style></head><body>`);
  out.push(`<h1>Drift report</h1>`);
  if (meta) {
    out.push(
      `<p class="meta">Backup <code>${e(meta.backup)}</code> · generated ${e(meta.generatedAt)} · drift-detector ${e(meta.detectorVersion)} · ` +
        `vCenters ${meta.vcenters.map((v) => `<code>${e(v)}</code>`).join(', ') || 'none'} · workload API servers ${meta.apiServerAccess ? 'read' : 'not contacted'}` +
        `${meta.ignoreFile !== undefined ? ` · ignore file <code>${e(meta.ignoreFile)}</code>` : ''}</p>`,
    );
  }
  out.push(...summary(report));
  out.push('<h2>Clusters</h2>');
  if (report.clusters.length === 0) out.push('<p>No cluster to list.</p>');
  for (const c of report.clusters) out.push(...cluster(c));
  out.push(...infraMachines(report));
  out.push(...errors(report));
  out.push(...planSection(plan));
  out.push('</body></html>\n');
  return out.join('\n');
}

function summary(report: DriftReport): string[] {
  const s = report.summary;
  const count = (id: string, label: string, n: number | string) => `<div class="count"><b id="${id}">${e(String(n))}</b>${e(label)}</div>`;
  return [
    '<h2>Summary</h2>',
    `<p>Status: <span id="summary-status">${status(s.status)}</span></p>`,
    '<div class="counts">',
    count('count-clusters', 'clusters', s.clusters.total),
    count('count-healthy', 'Healthy', s.clusters.Healthy),
    count('count-not-required', 'ManualRemediationNotRequired', s.clusters.ManualRemediationNotRequired),
    count('count-required', 'ManualRemediationRequired', s.clusters.ManualRemediationRequired),
    count('count-confirm', 'NeedFurtherConfirmation', s.clusters.NeedFurtherConfirmation),
    count('count-infra', 'infrastructure machines to confirm', s.infraMachinesNeedFurtherConfirmation),
    count('count-out-of-scope', 'VMs out of scope', s.outOfScopeVMs),
    count('count-ignored', 'VMs ignored (known)', s.ignoredVMs ?? 0),
    count('count-errors', 'errors occurred', s.hasErrors ? 'yes' : 'no'),
    '</div>',
  ];
}

function cluster(c: ClusterReport): string[] {
  const api = c.apiServer.skipped
    ? 'API server not contacted'
    : c.apiServer.reached
      ? `API server reached, ${c.apiServer.nodes ?? 0} Nodes`
      : `API server not read: ${c.apiServer.error ?? 'unknown reason'}`;
  return [
    `<section class="cluster"><h3>${e(c.namespace)}/${e(c.name)} ${status(c.status)}</h3><p class="meta">${e(api)}</p>`,
    ...listing('Control plane', c.controlPlane),
    ...listing('Workers', c.workers),
    '</section>',
  ];
}

function listing(title: string, l: ListingReport): string[] {
  const rows = l.machines.map((m) => `<tr class="machine" data-status="${e(m.status)}">${machineCells(m)}</tr>`);
  return [
    `<p><b>${e(title)}</b>: ${status(l.status)}</p>`,
    rows.length === 0
      ? ''
      : `<table><thead><tr><th>Machine</th><th>Status</th><th>Reason</th><th>VM</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ];
}

function machineCells(m: MachineReport): string {
  const vm = [m.vcenter, m.datacenter, m.biosUUID && `BIOS ${m.biosUUID}`, m.powerState]
    .filter(Boolean)
    .map((x) => e(x!))
    .join('<br>');
  const warn = m.warnings?.length ? `<br><span class="s-warning">warning: ${e(m.warnings.join('; '))}</span>` : '';
  return cell('Machine', e(m.name)) + cell('Status', status(m.status)) + cell('Reason', e(m.reason) + warn) + cell('VM', vm);
}

function infraMachines(report: DriftReport): string[] {
  if (report.infraMachines.length === 0) return ['<h2>Infrastructure machines</h2><p>None need confirmation.</p>'];
  const rows = report.infraMachines.map(
    (m) =>
      `<tr class="infra">${cell('VM', e(m.name))}${cell('vCenter', e(m.vcenter))}${cell(
        'Where',
        [m.folder, m.resourcePool]
          .filter(Boolean)
          .map((x) => e(x!))
          .join('<br>'),
      )}${cell('Reason', e(m.reason))}</tr>`,
  );
  return [
    '<h2>Infrastructure machines that need confirmation</h2>',
    `<table><thead><tr><th>VM</th><th>vCenter</th><th>Where</th><th>Reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ];
}

function errors(report: DriftReport): string[] {
  if (report.errors.length === 0) return ['<h2>Errors</h2><p>None.</p>'];
  const items = report.errors.map((x) => `<li class="error">${status(x.severity)} <code>${e(x.scope)}</code>: ${e(x.message)}</li>`);
  return ['<h2>Errors</h2>', `<ul>${items.join('')}</ul>`];
}

function planSection(plan: RemediationPlan): string[] {
  const out = ['<h2>Remediation plan</h2>'];
  out.push(`<p><b id="plan-ghosts">${plan.ghosts}</b> Ghost(s) to remediate. Run <code>drift-detector remediate</code> for the script.</p>`);
  for (const p of plan.entries) out.push(planEntry(p));
  return out;
}

function planEntry(p: MachinePlan): string {
  const steps = p.steps.map((s) => `<li>${e(s.description)}<pre>${e(s.command.map(shellQuote).join(' '))}</pre></li>`).join('');
  const checks = p.checks.map((c) => `<li>${e(c)}</li>`).join('');
  return (
    `<section class="plan"><h3>${e(p.machine)} ${status(p.status)}</h3>` +
    `<p class="meta">${e(p.cluster ?? 'no backed-up cluster')} · ${e(p.role)} · ${e(p.action)}</p><p>${e(p.why)}</p>` +
    (steps ? `<ol>${steps}</ol>` : '') +
    (checks ? `<ul>${checks}</ul>` : '') +
    '</section>'
  );
}
