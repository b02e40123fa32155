/**
 * `drift-detector baseline`: the ignore file of today's infrastructure machines, so that
 * `detect --ignore-file` flags only machines that appear later. One line per VM, by inventory
 * path (escaped: a VM name is matched literally), grouped by vCenter, under a header that says
 * which report it comes from. Every text from the report is made printable: a name must not end
 * a comment or start a pattern of its own.
 */
import { inventoryPathOf } from '../drift/ignore.js';
import type { DriftReport } from '../model/report.js';
import { escapeGlob } from '../util/glob.js';
import { printable } from '../util/shell.js';

export function renderBaseline(report: DriftReport): string {
  const meta = report.metadata;
  const machines = report.infraMachines;
  const out = [
    '# drift-detector baseline: VMs known today, not flagged by `drift-detector detect --ignore-file <this file>`.',
    `# Backup: ${meta ? printable(meta.backup) : '(not recorded in the report)'}`,
    `# Report generated: ${meta ? printable(meta.generatedAt) : '(not recorded in the report)'}`,
    `# ${machines.length} infrastructure machine${machines.length === 1 ? '' : 's'} that needed confirmation, by inventory path.`,
    '# A Ghost of a backed-up cluster is never ignored, whatever this file says.',
  ];
  const ignored = report.summary.ignoredVMs ?? 0;
  if (ignored > 0) {
    out.push(
      `# The report already ignored ${ignored} VM${ignored === 1 ? '' : 's'}${meta?.ignoreFile ? ` by ${printable(meta.ignoreFile)}` : ''}: ` +
        'they are not listed here; keep that file too.',
    );
  }
  let vcenter: string | undefined;
  for (const m of [...machines].sort((a, b) => a.vcenter.localeCompare(b.vcenter))) {
    if (m.vcenter !== vcenter) {
      vcenter = m.vcenter;
      out.push('', `# vCenter ${printable(vcenter)}`);
    }
    out.push(patternOf(inventoryPathOf(m.name, m.folder)));
  }
  return `${out.join('\n')}\n`;
}

/** A line that matches exactly this path: glob characters escaped, and a leading `#`, `!` or blank and a trailing blank too. */
function patternOf(path: string): string {
  let pattern = escapeGlob(path);
  if (/^[#!\s]/.test(pattern)) pattern = `\\${pattern}`;
  // Blanks around a line are trimmed when it is read; one after an odd run of \ is already escaped.
  const end = /(\\*)\s$/.exec(pattern);
  if (end && end[1]!.length % 2 === 0) pattern = `${pattern.slice(0, -1)}\\${pattern.slice(-1)}`;
  return pattern;
}
