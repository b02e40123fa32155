/**
 * The HTML report's clusters, worst first: a `<details>` per cluster, open when it needs
 * something, its Healthy machines folded; and the infrastructure machines to confirm. A machine
 * Unknown because its vCenter could not be listed refers to that failure, told once at the top.
 */
import { ROLLUP_ORDER, type ClusterReport, type InfraMachineReport, type ListingReport, type MachineReport } from '../model/report.js';
import { breakable, cell, code, escapeHtml as e, status } from './html-style.js';

/** vCenters that could not be listed: the anchor of the failure at the top, and its message. */
export type FailedVCenters = Map<string, { id: string; message: string }>;

export function clusterSections(clusters: ClusterReport[], failed: FailedVCenters): string[] {
  if (clusters.length === 0) return ['<h2>Clusters</h2>', '<p>No cluster to list.</p>'];
  const rank = (c: ClusterReport) => ROLLUP_ORDER.indexOf(c.status);
  const sorted = [...clusters].sort((a, b) => rank(a) - rank(b));
  return ['<h2>Clusters</h2>', ...sorted.map((c) => cluster(c, failed))];
}

function cluster(c: ClusterReport, failed: FailedVCenters): string {
  const api = c.apiServer.skipped
    ? 'API server not contacted'
    : c.apiServer.reached
      ? `API server reached, ${c.apiServer.nodes ?? 0} Nodes`
      : `API server not read: ${c.apiServer.error ?? 'unknown reason'}`;
  const machines = [...c.controlPlane.machines, ...c.workers.machines];
  const tally = (['Ghost', 'Unknown', 'Stale', 'Healthy'] as const)
    .map((s) => [s, machines.filter((m) => m.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const open = c.status === 'Healthy' ? '' : ' open';
  return (
    `<details class="cluster" data-status="${e(c.status)}"${open}><summary><h3>${code(`${c.namespace}/${c.name}`)}</h3> ${status(c.status)} ` +
    `<span class="meta">· ${e(tally || 'no machines')}</span></summary><p class="meta">${e(api)}</p>` +
    listing('Control plane', c.controlPlane, failed) +
    listing('Workers', c.workers, failed) +
    '</details>'
  );
}

const HEAD = '<thead><tr><th>Machine</th><th>Status</th><th>Reason</th><th>VM</th></tr></thead>';

function listing(title: string, l: ListingReport, failed: FailedVCenters): string {
  const rows = (ms: MachineReport[]) =>
    ms.map((m) => `<tr class="machine" data-status="${e(m.status)}">${machineCells(m, failed)}</tr>`).join('');
  const attention = l.machines.filter((m) => m.status !== 'Healthy');
  const healthy = l.machines.filter((m) => m.status === 'Healthy');
  return (
    `<p><b>${e(title)}</b>: ${status(l.status)}</p>` +
    (attention.length ? `<table>${HEAD}<tbody>${rows(attention)}</tbody></table>` : '') +
    (healthy.length
      ? `<details class="healthy"><summary>${healthy.length} Healthy machine${healthy.length === 1 ? '' : 's'}</summary>` +
        `<table>${HEAD}<tbody>${rows(healthy)}</tbody></table></details>`
      : '')
  );
}

function machineCells(m: MachineReport, failed: FailedVCenters): string {
  const vm = [m.vcenter, m.datacenter, m.biosUUID && `BIOS ${m.biosUUID}`, m.powerState]
    .filter(Boolean)
    .map((x) => breakable(x!))
    .join('<br>');
  const down = m.status === 'Unknown' && m.vcenter !== undefined ? failed.get(m.vcenter) : undefined;
  const reason = down ? `vCenter not listed: <a href="#${down.id}">the cause is at the top</a>` : e(m.reason);
  const warn = m.warnings?.length ? `<br><span class="s-warning">warning: ${e(m.warnings.join('; '))}</span>` : '';
  return cell('Machine', code(m.name)) + cell('Status', status(m.status)) + cell('Reason', reason + warn) + cell('VM', vm);
}

export function infraMachines(machines: InfraMachineReport[]): string[] {
  if (machines.length === 0) return ['<h2 id="infra">Infrastructure machines</h2><p>None need confirmation.</p>'];
  const rows = machines.map(
    (m) =>
      `<tr class="infra">${cell('VM', code(m.name))}${cell('vCenter', breakable(m.vcenter))}${cell(
        'Where',
        [m.folder, m.resourcePool]
          .filter(Boolean)
          .map((x) => breakable(x!))
          .join('<br>'),
      )}${cell('Reason', e(m.reason))}</tr>`,
  );
  return [
    '<h2 id="infra">Infrastructure machines that need confirmation</h2>',
    `<table><thead><tr><th>VM</th><th>vCenter</th><th>Where</th><th>Reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ];
}
