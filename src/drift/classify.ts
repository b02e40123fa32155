/**
 * Stage 3 of the analysis, classify, for the backed-up machines: Healthy, Stale or Unknown from
 * how their search ended (docs/drift-rules.md §3), with the Node that confirms each (§4). Ghosts
 * and infrastructure machines, the VMs no machine matched, are classified in ghosts.ts. Pure.
 */
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import type { MachineReport } from '../model/report.js';
import type { NodeEvidence } from './evidence.js';
import { backedUpMachineReport, setMatched, setStatus, staleReason } from './machine-reports.js';
import type { Matching, Pairing } from './match.js';

export interface MachineOutcome {
  cluster: BackedUpCluster;
  machine: BackedUpMachine;
  report: MachineReport;
}

export function classifyMachines(matching: Matching, evidence: NodeEvidence): MachineOutcome[] {
  return matching.machines.map(({ cluster, machine, pairing }) => {
    const report = backedUpMachineReport(machine, cluster);
    classify(report, machine, pairing);
    // The Node that runs on the machine's VM, when it belongs to the machine's own cluster.
    const uuid = (pairing.kind === 'matched' ? pairing.vm.biosUuid : undefined) ?? machine.biosUuid;
    const seen = uuid ? evidence.byUuid.get(uuid) : undefined;
    if (seen && seen.cluster === cluster) report.nodeName = seen.node.name;
    return { cluster, machine, report };
  });
}

function classify(report: MachineReport, machine: BackedUpMachine, pairing: Pairing): void {
  switch (pairing.kind) {
    case 'matched':
      return setMatched(report, pairing.vm, pairing.by);
    case 'none':
      return setStatus(report, 'Stale', staleReason(machine));
    case 'ambiguous':
    case 'unsearched':
      return setStatus(report, 'Unknown', pairing.reason);
  }
}
