/** Small drift reports for tests of what consumes them (the gate, the service). */
import { listingStatus, summarize } from '../../src/drift/summarize.js';
import { worst, type ClusterReport, type DriftReport, type MachineReport, type MachineStatus } from '../../src/model/report.js';

export function machine(name: string, status: MachineStatus): MachineReport {
  return { name, status, reason: `${status} in the test`, source: status === 'Ghost' ? 'vm' : 'backup' };
}

export function cluster(namespace: string, name: string, cp: MachineReport[], workers: MachineReport[] = []): ClusterReport {
  const cpStatus = listingStatus(cp);
  const wStatus = listingStatus(workers);
  return {
    namespace,
    name,
    status: worst([cpStatus, wStatus]),
    controlPlane: { status: cpStatus, machines: cp },
    workers: { status: wStatus, machines: workers },
    apiServer: { reached: false, skipped: true },
  };
}

export function report(backup: string, ...clusters: ClusterReport[]): DriftReport {
  const parts = { clusters, infraMachines: [], errors: [] };
  return {
    summary: summarize(parts, 0),
    ...parts,
    metadata: {
      backup,
      generatedAt: '2026-01-01T00:00:00.000Z',
      detectorVersion: 'test',
      apiServerAccess: false,
      vcenters: ['vc.example.com'],
    },
  };
}
