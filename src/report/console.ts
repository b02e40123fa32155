/**
 * The console report: the summary, the resource list, the errors and then the warnings (when
 * there are any), and where each report went. Errors and warnings are told apart in the
 * wording, so that a warning never sits under "Errors occurred: no". Colour is the caller's choice.
 */
import type { DriftReport, ListingReport, MachineReport, MachineStatus, ReportError, RollupStatus } from '../model/report.js';
import { printable } from '../util/shell.js';

export interface ConsoleOptions {
  color: boolean;
  /** The reports written, each named with its format (`-`: standard output). */
  written?: ReadonlyArray<{ format: string; path: string }>;
}

const RED = 31;
const GREEN = 32;
const YELLOW = 33;
const CYAN = 36;

const STATUS_COLOR: Record<RollupStatus | MachineStatus, number> = {
  ManualRemediationRequired: RED,
  Ghost: RED,
  NeedFurtherConfirmation: YELLOW,
  NeedFurtherConfirmationInfraMachines: YELLOW,
  Unknown: YELLOW,
  ManualRemediationNotRequired: CYAN,
  Stale: CYAN,
  Healthy: GREEN,
};

export function renderConsole(report: DriftReport, options: ConsoleOptions): string {
  const paint = (status: RollupStatus | MachineStatus) => (options.color ? `\u001b[${STATUS_COLOR[status]}m${status}\u001b[0m` : status);
  const bold = (text: string) => (options.color ? `\u001b[1m${text}\u001b[0m` : text);
  const out: string[] = [];
  const { summary } = report;

  out.push(bold('Summary'));
  out.push(`  Status:                     ${paint(summary.status)}`);
  out.push(
    `  Clusters:                   ${summary.clusters.total} total, ${summary.clusters.Healthy} Healthy, ` +
      `${summary.clusters.ManualRemediationNotRequired} ManualRemediationNotRequired, ` +
      `${summary.clusters.ManualRemediationRequired} ManualRemediationRequired, ` +
      `${summary.clusters.NeedFurtherConfirmation} NeedFurtherConfirmation`,
  );
  out.push(`  Infra machines to confirm:  ${summary.infraMachinesNeedFurtherConfirmation}`);
  out.push(`  VMs out of scope:           ${summary.outOfScopeVMs}`);
  const ignoreFile = report.metadata?.ignoreFile;
  if (ignoreFile !== undefined || summary.ignoredVMs > 0) {
    out.push(`  VMs ignored:                ${summary.ignoredVMs ?? 0}${ignoreFile !== undefined ? ` (by ${printable(ignoreFile)})` : ''}`);
  }
  const warnings = report.errors.filter((e) => e.severity !== 'error');
  const warned = warnings.length > 0 ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'}, see Warnings)` : '';
  out.push(`  Errors occurred:            ${summary.hasErrors ? 'yes' : 'no'}${warned}`);
  out.push('');

  out.push(bold('Resources'));
  if (report.clusters.length === 0 && report.infraMachines.length === 0) out.push('  (none to list)');
  for (const cluster of report.clusters) {
    const api = cluster.apiServer.skipped
      ? 'API server not contacted'
      : cluster.apiServer.reached
        ? `API server reached, ${cluster.apiServer.nodes ?? 0} nodes`
        : `API server not read: ${printable(cluster.apiServer.error ?? 'unknown reason')}`;
    out.push(`  Cluster ${printable(`${cluster.namespace}/${cluster.name}`)}: ${paint(cluster.status)} (${api})`);
    listing('Control plane', cluster.controlPlane);
    listing('Workers', cluster.workers);
  }
  if (report.infraMachines.length > 0) {
    out.push(`  Infrastructure machines that need further confirmation:`);
    for (const vm of report.infraMachines) {
      const uuid = vm.biosUUID ? ` (BIOS UUID ${vm.biosUUID})` : '';
      out.push(`    ${printable(`VM ${vm.name} on ${vm.vcenter}${uuid}: ${vm.reason}`)}`);
    }
  }
  out.push(...errorSections(report.errors, bold));
  out.push('');
  for (const w of options.written ?? []) {
    out.push(`${w.format.toUpperCase()} report written to ${w.path === '-' ? 'standard output' : printable(w.path)}`);
  }
  return `${out.join('\n')}\n`;

  function listing(title: string, l: ListingReport): void {
    out.push(`    ${title}: ${paint(l.status)}`);
    for (const m of l.machines) out.push(`      ${machineLine(m)}`);
  }

  function machineLine(m: MachineReport): string {
    // Names and reasons come from vSphere and the backup: shown escaped, never raw (docs/drift-rules.md §6).
    const node = m.nodeName && m.nodeName !== m.name ? ` node ${m.nodeName}` : '';
    const warn = m.warnings?.length ? ` [warning: ${m.warnings.join('; ')}]` : '';
    return `${printable(`${m.name}${node}`)}: ${paint(m.status)} - ${printable(`${m.reason}${warn}`)}`;
  }
}

/**
 * The Errors and then the Warnings sections (each only when it has entries, after a blank line):
 * one line per scope, so a cause shared by many machines is said once and they refer to it.
 */
export function errorSections(entries: ReportError[], bold: (text: string) => string = (text) => text): string[] {
  const out: string[] = [];
  for (const [title, severe] of [
    ['Errors', true],
    ['Warnings', false],
  ] as const) {
    const listed = entries.filter((e) => (e.severity === 'error') === severe);
    if (listed.length === 0) continue;
    out.push('', bold(title), ...listed.map((e) => `  ${printable(`${e.scope}: ${e.message}`)}`));
  }
  return out;
}
