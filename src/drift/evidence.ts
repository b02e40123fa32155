/**
 * Stage 2 of the analysis, node evidence: the workload clusters' Nodes, keyed by the BIOS UUID in
 * their providerID (docs/drift-rules.md §4). Optional: an API server that could not be read is a
 * warning, and ghosts of that cluster are then found by VM name only. Pure.
 */
import type { BackedUpCluster } from '../model/backup.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import type { ReportError } from '../model/report.js';
import type { WorkloadNode, WorkloadNodeListing } from '../model/workload.js';

export interface SeenNode {
  cluster: BackedUpCluster;
  node: WorkloadNode;
}

export interface NodeEvidence {
  /** False when API-server access was skipped: no cluster has a listing. */
  apiServerAccess: boolean;
  /** Each cluster's Node listing, by `namespace/name`. */
  listings: Map<string, WorkloadNodeListing>;
  /** The first Node of a backed-up cluster that carries each BIOS UUID. */
  byUuid: Map<string, SeenNode>;
  /** One warning per API server that could not be read. */
  warnings: ReportError[];
}

export function nodeEvidence(clusters: BackedUpCluster[], workloads: WorkloadNodeListing[] | undefined): NodeEvidence {
  const listings = new Map<string, WorkloadNodeListing>();
  for (const listing of workloads ?? []) listings.set(clusterId(listing.namespace, listing.cluster), listing);
  const evidence: NodeEvidence = { apiServerAccess: workloads !== undefined, listings, byUuid: new Map(), warnings: [] };
  for (const cluster of clusters) {
    for (const node of reachedNodes(evidence, cluster)) {
      const uuid = uuidOfProviderID(node.providerID);
      if (uuid && !evidence.byUuid.has(uuid)) evidence.byUuid.set(uuid, { cluster, node });
    }
  }
  for (const listing of workloads ?? []) {
    if (!listing.reached && listing.error) {
      evidence.warnings.push({
        scope: `cluster:${clusterId(listing.namespace, listing.cluster)}`,
        message: `workload API server not read: ${listing.error}; ghosts of this cluster are found by VM name only`,
        severity: 'warning',
      });
    }
  }
  return evidence;
}

/** The Node listing of a backed-up cluster, when one was asked for. */
export function listingOf(evidence: NodeEvidence, cluster: BackedUpCluster): WorkloadNodeListing | undefined {
  return evidence.listings.get(clusterId(cluster.namespace, cluster.name));
}

/** The Nodes of a cluster whose API server was read; none otherwise. */
export function reachedNodes(evidence: NodeEvidence, cluster: BackedUpCluster): WorkloadNode[] {
  const listing = listingOf(evidence, cluster);
  return listing?.reached ? listing.nodes : [];
}

export function clusterId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
