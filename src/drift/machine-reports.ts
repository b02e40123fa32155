/**
 * The report entries of machines and VMs, each with a reason a user can act on
 * (docs/drift-rules.md §6). Key order matters: it is the order of the JSON report.
 */
import type { BackedUpCluster, BackedUpMachine } from '../model/backup.js';
import type { InventoryVM } from '../model/inventory.js';
import type { InfraMachineReport, MachineReport, MachineStatus } from '../model/report.js';
import type { WorkloadNode } from '../model/workload.js';

/** A backed-up machine before its status is known. */
export function backedUpMachineReport(machine: BackedUpMachine, cluster: BackedUpCluster): MachineReport {
  const vcenter = machine.placement.vcenter ?? cluster.placement.vcenter;
  const datacenter = machine.placement.datacenter ?? cluster.placement.datacenter;
  return {
    name: machine.name,
    status: 'Unknown',
    reason: '',
    source: 'backup',
    ...(vcenter ? { vcenter } : {}),
    ...(datacenter ? { datacenter } : {}),
    vmName: machine.vmName,
    ...(machine.biosUuid ? { biosUUID: machine.biosUuid } : {}),
    ...(machine.instanceUuid ? { instanceUUID: machine.instanceUuid } : {}),
  };
}

export function setStatus(report: MachineReport, status: MachineStatus, reason: string): void {
  report.status = status;
  report.reason = reason;
}

/** Healthy: what the matched VM says, with a warning when it is not powered on. */
export function setMatched(report: MachineReport, vm: InventoryVM, by: string): void {
  report.vmName = vm.name;
  report.powerState = vm.powerState;
  report.datacenter = vm.datacenter ?? report.datacenter;
  if (vm.biosUuid) report.biosUUID = vm.biosUuid;
  if (vm.powerState && vm.powerState !== 'poweredOn') {
    report.warnings = [`VM ${vm.name} is ${vm.powerState}`];
  }
  setStatus(report, 'Healthy', `VM ${vm.name} (${vm.moref}) found by ${by}`);
}

export function staleReason(machine: BackedUpMachine): string {
  const keys = [machine.biosUuid && `BIOS UUID ${machine.biosUuid}`, machine.instanceUuid && `instance UUID ${machine.instanceUuid}`]
    .filter(Boolean)
    .join(', ');
  return `no VM found by ${keys ? `${keys} or ` : ''}name ${machine.vmName}; Cluster API replaces this machine after the restore`;
}

/** A Ghost seen as a VM; `evidence` says why it belongs to its cluster. */
export function vmGhostReport(vm: InventoryVM, vcenter: string, controlPlane: boolean, evidence: string, node?: WorkloadNode): MachineReport {
  return {
    name: vm.name,
    status: 'Ghost',
    source: 'vm',
    reason: `VM ${vm.name} (${vm.moref}) has no Machine in the backup (${evidence}); ${remediation(controlPlane, node?.name ?? vm.name)}`,
    vcenter,
    ...(vm.datacenter ? { datacenter: vm.datacenter } : {}),
    vmName: vm.name,
    ...(vm.biosUuid ? { biosUUID: vm.biosUuid } : {}),
    ...(vm.instanceUuid ? { instanceUUID: vm.instanceUuid } : {}),
    ...(vm.powerState ? { powerState: vm.powerState } : {}),
    ...(node ? { nodeName: node.name } : {}),
  };
}

/** A Ghost seen only as a Node: its VM is nowhere the detector looked. */
export function nodeGhostReport(node: WorkloadNode, uuid: string): MachineReport {
  return {
    name: node.name,
    status: 'Ghost',
    source: 'node',
    nodeName: node.name,
    biosUUID: uuid,
    reason:
      `Node ${node.name} (providerID vsphere://${uuid}) has no Machine in the backup and no VM in any listed vCenter; ` +
      remediation(node.controlPlane, node.name),
  };
}

function remediation(controlPlane: boolean, nodeName: string): string {
  return controlPlane
    ? `before the restore remove etcd member ${nodeName}, delete Node ${nodeName} and delete the VM`
    : `before the restore delete Node ${nodeName} and delete the VM`;
}

/** An infrastructure machine that needs confirmation; `looks` says why it looks like a Cluster API machine. */
export function infraMachineReport(vm: InventoryVM, vcenter: string, looks: string): InfraMachineReport {
  return {
    name: vm.name,
    vcenter,
    biosUUID: vm.biosUuid ?? '',
    reason: `VM ${vm.name} (${vm.moref}) ${looks} but belongs to no cluster in the backup; confirm whether it is still needed`,
    ...(vm.datacenter ? { datacenter: vm.datacenter } : {}),
    ...(vm.folder ? { folder: vm.folder } : {}),
    ...(vm.resourcePool ? { resourcePool: vm.resourcePool } : {}),
    ...(vm.powerState ? { powerState: vm.powerState } : {}),
  };
}
