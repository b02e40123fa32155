/** The report and the gate's decisions as driftdetector.v1 messages (field names as in the .proto). */
import type { GateDecision } from '../gate/decide.js';
import type { ClusterReport, DriftReport, ListingReport, MachineReport, ReportError } from '../model/report.js';

export function reportMessage(report: DriftReport): Record<string, unknown> {
  const s = report.summary;
  return {
    summary: {
      status: s.status,
      clusters: {
        total: s.clusters.total,
        healthy: s.clusters.Healthy,
        manual_remediation_not_required: s.clusters.ManualRemediationNotRequired,
        manual_remediation_required: s.clusters.ManualRemediationRequired,
        need_further_confirmation: s.clusters.NeedFurtherConfirmation,
      },
      infra_machines_need_further_confirmation: s.infraMachinesNeedFurtherConfirmation,
      out_of_scope_vms: s.outOfScopeVMs,
      ignored_vms: s.ignoredVMs,
      has_errors: s.hasErrors,
    },
    clusters: report.clusters.map(clusterMessage),
    infra_machines: report.infraMachines.map((m) => ({
      name: m.name,
      vcenter: m.vcenter,
      bios_uuid: m.biosUUID,
      reason: m.reason,
      datacenter: m.datacenter ?? '',
      folder: m.folder ?? '',
      resource_pool: m.resourcePool ?? '',
      power_state: m.powerState ?? '',
    })),
    errors: report.errors.map(reportErrorMessage),
    ...(report.metadata
      ? {
          metadata: {
            backup: report.metadata.backup,
            generated_at: report.metadata.generatedAt,
            detector_version: report.metadata.detectorVersion,
            api_server_access: report.metadata.apiServerAccess,
            vcenters: report.metadata.vcenters,
          },
        }
      : {}),
  };
}

export function reportErrorMessage(e: ReportError): Record<string, unknown> {
  return { scope: e.scope, message: e.message, severity: e.severity };
}

function clusterMessage(c: ClusterReport): Record<string, unknown> {
  return {
    namespace: c.namespace,
    name: c.name,
    status: c.status,
    control_plane: listingMessage(c.controlPlane),
    workers: listingMessage(c.workers),
    api_server: {
      reached: c.apiServer.reached,
      skipped: c.apiServer.skipped ?? false,
      nodes: c.apiServer.nodes ?? 0,
      error: c.apiServer.error ?? '',
    },
  };
}

function listingMessage(l: ListingReport): Record<string, unknown> {
  return { status: l.status, machines: l.machines.map(machineMessage) };
}

function machineMessage(m: MachineReport): Record<string, unknown> {
  return {
    name: m.name,
    status: m.status,
    reason: m.reason,
    source: m.source,
    vcenter: m.vcenter ?? '',
    datacenter: m.datacenter ?? '',
    vm_name: m.vmName ?? '',
    bios_uuid: m.biosUUID ?? '',
    instance_uuid: m.instanceUUID ?? '',
    power_state: m.powerState ?? '',
    node_name: m.nodeName ?? '',
    warnings: m.warnings ?? [],
  };
}

export function clusterVerdictMessage(d: GateDecision): Record<string, unknown> {
  return {
    namespace: d.namespace,
    name: d.name,
    status: d.status,
    verdict: d.verdict,
    overridden: d.overridden,
    action: d.action,
    reason: d.reason,
    ghost_machines: d.ghostMachines,
    stale_machines: d.staleMachines,
    unknown_machines: d.unknownMachines,
    annotations: d.annotations,
    block_message: d.error ?? '',
  };
}
