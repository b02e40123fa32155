/**
 * The report as one self-contained HTML page, answer first: the verdict, then what to do (each
 * Ghost with the first step of its plan, each vCenter that could not be listed with its cause),
 * then the clusters that need something, open, with Healthy machines folded; the whole plan last.
 * Inline CSS under a Content-Security-Policy that allows no script and no request. Every value is
 * escaped: names come from the backup and from vCenter. Readable on a phone (one column below
 * 40rem) and on paper (@media print).
 */
import type { DriftReport, ReportError, RollupStatus } from '../model/report.js';
import type { MachinePlan, RemediationPlan } from '../remediate/plan.js';
import { clusterSections, infraMachines, type FailedVCenters } from './html-clusters.js';
import { breakable, code, commandHtml, CONTENT_SECURITY_POLICY, CSS, escapeHtml, status } from './html-style.js';

/** The report pages' style sheet and helpers, shared by the drift report and the unpause forecast. */
export { cell, CSS as REPORT_CSS, escapeHtml, status } from './html-style.js';

const e = escapeHtml;

export function renderHtml(report: DriftReport, plan: RemediationPlan): string {
  const failed = failedVCenters(report.errors);
  const meta = report.metadata;
  const out = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`, // a constant: no value of the report in it
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Drift report${meta ? ` — ${e(meta.backup)}` : ''}</title><style>${CSS}</style></head><body>`,
    '<h1>Drift report</h1>',
  ];
  if (meta) {
    out.push(
      `<p class="meta">Backup ${code(meta.backup)} · generated ${e(meta.generatedAt)} · drift-detector ${e(meta.detectorVersion)} · ` +
        `vCenters ${meta.vcenters.map(code).join(', ') || 'none'} · workload API servers ${meta.apiServerAccess ? 'read' : 'not contacted'}` +
        `${meta.ignoreFile !== undefined ? ` · ignore file ${code(meta.ignoreFile)}` : ''}</p>`,
    );
  }
  out.push(...verdict(report, plan), ...toDo(report, plan, failed), ...counts(report));
  out.push(...clusterSections(report.clusters, failed), ...infraMachines(report.infraMachines));
  out.push(...errorsAndWarnings(report.errors, failed), ...planSection(plan, failed), '</body></html>\n');
  return out.join('\n');
}

/** vCenters that could not be listed, each with an anchor for the rows that refer to it. */
function failedVCenters(errors: ReportError[]): FailedVCenters {
  const failed: FailedVCenters = new Map();
  for (const x of errors) {
    if (x.severity === 'error' && x.scope.startsWith('vcenter:')) {
      failed.set(x.scope.slice('vcenter:'.length), { id: `vcenter-${failed.size + 1}`, message: x.message });
    }
  }
  return failed;
}

const VERDICT: Record<RollupStatus, string> = {
  ManualRemediationRequired: 'Remove the Ghosts below before the restore.',
  NeedFurtherConfirmation: 'Some machines could not be confirmed: see below before the restore.',
  NeedFurtherConfirmationInfraMachines: 'Confirm the infrastructure VMs below before the restore.',
  ManualRemediationNotRequired: 'Nothing to do by hand: Cluster API replaces the Stale machines after the restore.',
  Healthy: 'Nothing to do: the backup matches vSphere.',
};

function verdict(report: DriftReport, plan: RemediationPlan): string[] {
  const s = report.summary;
  const parts = [
    plan.ghosts > 0 ? `${plan.ghosts} Ghost${plan.ghosts === 1 ? '' : 's'} to remove` : '',
    s.infraMachinesNeedFurtherConfirmation > 0 ? `${s.infraMachinesNeedFurtherConfirmation} infrastructure VM(s) to confirm` : '',
    s.clusters.NeedFurtherConfirmation > 0 ? `${s.clusters.NeedFurtherConfirmation} cluster(s) not confirmed` : '',
  ].filter(Boolean);
  return [
    `<div class="verdict v-${e(s.status)}" id="verdict">`,
    `<p class="big">Status: <span id="summary-status">${status(s.status)}</span></p>`,
    `<p>${e(VERDICT[s.status])}${parts.length ? ` ${e(parts.join(' · '))}.` : ''}</p>`,
    '</div>',
  ];
}

function toDo(report: DriftReport, plan: RemediationPlan, failed: FailedVCenters): string[] {
  const items: string[] = [];
  plan.entries.forEach((p, i) => {
    if (p.action === 'remediate') items.push(ghostItem(p, i));
  });
  const unknown = report.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]).filter((m) => m.status === 'Unknown');
  for (const [vcenter, f] of failed) {
    const onIt = unknown.filter((m) => m.vcenter === vcenter).length;
    items.push(
      `<li class="todo-vcenter" id="${f.id}"><b>vCenter ${code(vcenter)} could not be listed</b>: ${e(f.message.replace(/\.$/, ''))}. ` +
        `${onIt} machine(s) on it are Unknown: run detect again once it answers.</li>`,
    );
  }
  const unsure = unknown.filter((m) => m.vcenter === undefined || !failed.has(m.vcenter)).length;
  if (unsure > 0) items.push(`<li>Confirm ${unsure} Unknown machine(s): their reasons are in the clusters below.</li>`);
  const infra = report.infraMachines.length;
  if (infra > 0)
    items.push(`<li>Confirm ${infra} infrastructure VM(s) that belong to no backed-up cluster: <a href="#infra">listed below</a>.</li>`);
  const others = report.errors.filter((x) => x.severity === 'error' && !x.scope.startsWith('vcenter:')).length;
  if (others > 0) items.push(`<li>${others} other error(s): <a href="#errors">see Errors</a>.</li>`);
  if (items.length === 0) return ['<h2>What to do</h2>', '<p id="todo">Nothing before the restore.</p>'];
  return ['<h2>What to do</h2>', `<ol class="todo" id="todo">${items.join('')}</ol>`];
}

/** One Ghost: where it is and the first step of its plan; the whole plan is linked. */
function ghostItem(p: MachinePlan, index: number): string {
  const first = p.steps[0];
  const step = first
    ? `<div class="first">First: ${e(first.description)}${commandHtml(first.command)}</div>`
    : p.checks[0]
      ? `<div class="first">First: ${e(p.checks[0])}</div>`
      : '';
  return (
    `<li class="todo-ghost" data-machine="${e(p.machine)}"><b>Ghost ${code(p.machine)}</b> ` +
    `in ${p.cluster ? code(p.cluster) : 'no backed-up cluster'} (${e(p.role)}): ${step}` +
    `<a href="#plan-${index + 1}">the whole plan (${p.steps.length} step${p.steps.length === 1 ? '' : 's'})</a></li>`
  );
}

function counts(report: DriftReport): string[] {
  const s = report.summary;
  const errors = report.errors.filter((x) => x.severity === 'error').length;
  const warnings = report.errors.length - errors;
  const count = (id: string, label: string, n: number) => `<li><b id="${id}">${n}</b> ${breakable(label)}</li>`;
  return [
    '<ul class="counts" aria-label="Counts">',
    count('count-clusters', 'clusters', s.clusters.total),
    count('count-required', 'ManualRemediationRequired', s.clusters.ManualRemediationRequired),
    count('count-confirm', 'NeedFurtherConfirmation', s.clusters.NeedFurtherConfirmation),
    count('count-not-required', 'ManualRemediationNotRequired', s.clusters.ManualRemediationNotRequired),
    count('count-healthy', 'Healthy', s.clusters.Healthy),
    count('count-infra', 'infrastructure VMs to confirm', s.infraMachinesNeedFurtherConfirmation),
    count('count-out-of-scope', 'VMs out of scope', s.outOfScopeVMs),
    count('count-ignored', 'VMs ignored (known)', s.ignoredVMs ?? 0),
    count('count-errors', errors === 1 ? 'error' : 'errors', errors),
    count('count-warnings', warnings === 1 ? 'warning' : 'warnings', warnings),
    '</ul>',
  ];
}

/** Errors and warnings under their own headings; a vCenter's failure is told once, at the top. */
function errorsAndWarnings(errors: ReportError[], failed: FailedVCenters): string[] {
  const item = (x: ReportError) => {
    const vcenter = x.scope.startsWith('vcenter:') ? failed.get(x.scope.slice('vcenter:'.length)) : undefined;
    const text = vcenter && x.severity === 'error' ? `could not be listed: <a href="#${vcenter.id}">the cause is at the top</a>` : e(x.message);
    return `<li class="${x.severity}">${code(x.scope)}: ${text}</li>`;
  };
  const section = (id: string, title: string, list: ReportError[]) =>
    list.length === 0 ? [] : [`<h2 id="${id}">${title} (${list.length})</h2>`, `<ul>${list.map(item).join('')}</ul>`];
  return [
    ...section(
      'errors',
      'Errors',
      errors.filter((x) => x.severity === 'error'),
    ),
    ...section(
      'warnings',
      'Warnings',
      errors.filter((x) => x.severity !== 'error'),
    ),
  ];
}

/**
 * The whole plan: each Ghost's steps and each machine to check in full; the machines Unknown
 * because their vCenter could not be listed once per vCenter; those that need nothing folded.
 */
function planSection(plan: RemediationPlan, failed: FailedVCenters): string[] {
  const out = ['<h2>Remediation plan</h2>'];
  out.push(`<p><b id="plan-ghosts">${plan.ghosts}</b> Ghost(s) to remediate. Run <code>drift-detector remediate</code> for the script.</p>`);
  const unlisted = new Map<string, string[]>();
  const none: string[] = [];
  plan.entries.forEach((p, i) => {
    const down = p.action === 'check' && p.status === 'Unknown' && p.vcenter !== undefined && failed.has(p.vcenter);
    if (down) unlisted.set(p.vcenter!, [...(unlisted.get(p.vcenter!) ?? []), p.machine]);
    else if (p.action === 'none') none.push(planEntry(p, i));
    else out.push(planEntry(p, i));
  });
  for (const [vcenter, machines] of unlisted) {
    out.push(
      `<section class="plan"><p>${machines.length} Unknown machine(s) on vCenter ${code(vcenter)}, which could not be listed ` +
        `(<a href="#${failed.get(vcenter)!.id}">the cause is at the top</a>): run detect again once it answers. ` +
        `${machines.map(code).join(', ')}</p></section>`,
    );
  }
  if (none.length > 0) {
    out.push(`<details class="healthy"><summary>${none.length} machine(s) that need no action</summary>${none.join('')}</details>`);
  }
  return out;
}

function planEntry(p: MachinePlan, index: number): string {
  const steps = p.steps.map((s) => `<li>${e(s.description)}${commandHtml(s.command)}</li>`).join('');
  const checks = p.checks.map((c) => `<li>${e(c)}</li>`).join('');
  return (
    `<section class="plan" id="plan-${index + 1}"><h3>${code(p.machine)} ${status(p.status)}</h3>` +
    `<p class="meta">${p.cluster ? breakable(p.cluster) : 'no backed-up cluster'} · ${e(p.role)} · ${e(p.action)}</p><p>${e(p.why)}</p>` +
    (steps ? `<ol>${steps}</ol>` : '') +
    (checks ? `<ul>${checks}</ul>` : '') +
    '</section>'
  );
}
