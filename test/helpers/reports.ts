/** Small drift reports for tests of what consumes them (the gate, the service). */
import { MACHINE_ROLLUP, worst, type ClusterReport, type DriftReport, type MachineReport, type MachineStatus, type RollupStatus } from '../../src/model/report.js';

export function machine(name: string, status: MachineStatus): MachineReport {
  return { name, status, reason: `${status} in the test`, source: status === 'Ghost' ? 'vm' : 'backup' };
}

export function cluster(namespace: string, name: string, cp: MachineReport[], workers: MachineReport[] = []): ClusterReport {
  const cpStatus = worst(cp.map((m) => MACHINE_ROLLUP[m.status]));
  const wStatus = worst(workers.map((m) => MACHINE_ROLLUP[m.status]));
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
  const count = (s: RollupStatus) => clusters.filter((c) => c.status === s).length;
  return {
    summary: {
      status: worst(clusters.map((c) => c.status)),
      clusters: {
        total: clusters.length,
        Healthy: count('Healthy'),
        ManualRemediationNotRequired: count('ManualRemediationNotRequired'),
        ManualRemediationRequired: count('ManualRemediationRequired'),
        NeedFurtherConfirmation: count('NeedFurtherConfirmation'),
      },
      infraMachinesNeedFurtherConfirmation: 0,
      outOfScopeVMs: 0,
      hasErrors: false,
    },
    clusters,
    infraMachines: [],
    errors: [],
    metadata: { backup, generatedAt: '2026-01-01T00:00:00.000Z', detectorVersion: 'test', apiServerAccess: false, vcenters: ['vc.example.com'] },
  };
}
