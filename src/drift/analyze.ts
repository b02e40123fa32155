/**
 * The drift analysis (docs/drift-rules.md): plain data in, a report out, in four stages —
 * match the backed-up machines to VMs, gather the workload Nodes as evidence, classify machines
 * and unmatched VMs, summarize per cluster and for the report.
 * No I/O, no clock, no randomness: every rule is a table-driven unit test.
 */
import type { BackedUpCluster } from '../model/backup.js';
import type { VCenterListing } from '../model/inventory.js';
import type { DriftReport, ReportError } from '../model/report.js';
import type { WorkloadNodeListing } from '../model/workload.js';
import { classifyMachines } from './classify.js';
import { nodeEvidence } from './evidence.js';
import { classifyUnmatched } from './ghosts.js';
import type { IgnoreRules } from './ignore.js';
import { matchMachines } from './match.js';
import { clusterReports, summarize } from './summarize.js';

export interface DriftInput {
  clusters: BackedUpCluster[];
  /** One listing per vCenter the backup names. */
  vcenters: VCenterListing[];
  /** Node listings per cluster; undefined when API-server access was skipped. */
  workloads?: WorkloadNodeListing[];
  /** Errors found before the analysis (reading the backup, resolving credentials). */
  errors?: ReportError[];
  /** VMs the operator knows (the ignore file): out of scope unless they are Ghosts. */
  ignore?: IgnoreRules;
}

export function analyzeDrift(input: DriftInput): DriftReport {
  const matching = matchMachines(input.clusters, input.vcenters);
  const evidence = nodeEvidence(input.clusters, input.workloads);
  const outcomes = classifyMachines(matching, evidence);
  const unmatched = classifyUnmatched(input.clusters, matching, evidence, input.ignore);
  const { ghosts, infraMachines } = unmatched;
  const clusters = clusterReports(input.clusters, outcomes, ghosts, matching.failures, evidence);
  const errors = [...(input.errors ?? []), ...matching.errors, ...evidence.warnings, ...unmatched.warnings];
  const summary = summarize({ clusters, infraMachines, errors }, unmatched.outOfScopeVMs, unmatched.ignoredVMs);
  return { summary, clusters, infraMachines, errors };
}
