/** A report with every kind of finding, and a name built to break a shell or a page. */
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { cluster, report } from './reports.js';

export const HOSTILE = "wc1-md-0-x'; rm -rf / #\n$(reboot)<script>alert(1)</script>";

const vm = (name: string, bios: string, instance: string, extra: Partial<MachineReport> = {}): MachineReport => ({
  name,
  status: 'Ghost',
  reason: `VM ${name} has no Machine in the backup`,
  source: 'vm',
  vcenter: 'vc-a.example.com',
  datacenter: 'DC0',
  vmName: name,
  biosUUID: bios,
  instanceUUID: instance,
  ...extra,
});

export function driftedReport(): DriftReport {
  const healthyCp = vm('wc1-control-plane-aaaaa', '42000001-0000-4000-8000-000000000001', '52000001-0000-4000-8000-000000000001', {
    status: 'Healthy',
    reason: 'VM found by BIOS UUID',
    source: 'backup',
  });
  const cpGhost = vm('wc1-control-plane-qqqqq', '42000002-0000-4000-8000-000000000002', '52000002-0000-4000-8000-000000000002');
  const workerGhost = vm(HOSTILE, '42000003-0000-4000-8000-000000000003', '52000003-0000-4000-8000-000000000003', { nodeName: HOSTILE });
  const stale = vm('wc1-md-0-gone', '42000004-0000-4000-8000-000000000004', '52000004-0000-4000-8000-000000000004', {
    status: 'Stale',
    source: 'backup',
    reason: 'no VM found',
  });
  const nodeOnly: MachineReport = {
    name: 'wc2-md-0-nodeonly',
    status: 'Ghost',
    source: 'node',
    nodeName: 'wc2-md-0-nodeonly',
    biosUUID: '42000005-0000-4000-8000-000000000005',
    reason: 'Node only',
  };
  const unknown = vm('wc2-md-0-dup', '42000006-0000-4000-8000-000000000006', '52000006-0000-4000-8000-000000000006', {
    status: 'Unknown',
    source: 'backup',
    reason: 'duplicate BIOS UUID 42000006-0000-4000-8000-000000000006: 2 VMs carry it',
  });
  const r = report(
    '/backups/daily-data.tar.gz',
    cluster('default', 'wc1', [healthyCp, cpGhost], [workerGhost, stale]),
    cluster('default', 'wc2', [], [nodeOnly, unknown]),
  );
  r.infraMachines = [
    {
      name: 'wc9-control-plane-zzzzz',
      vcenter: 'vc-a.example.com',
      biosUUID: '42000009-0000-4000-8000-000000000009',
      datacenter: 'DC0',
      reason: 'carries CAPV guestinfo.metadata',
    },
  ];
  r.metadata = {
    backup: '/backups/daily-data.tar.gz',
    generatedAt: '2026-11-30T12:00:00.000Z',
    detectorVersion: 'x',
    apiServerAccess: true,
    vcenters: ['vc-a.example.com'],
  };
  return r;
}
