/** A Node of a workload cluster, as far as the drift analysis needs it. */
export interface WorkloadNode {
  name: string;
  /** `spec.providerID`, e.g. `vsphere://4223a39e-...`. */
  providerID?: string;
  /** Carries `node-role.kubernetes.io/control-plane` (or the legacy `.../master`). */
  controlPlane: boolean;
  /** `metadata.uid`: a deletion names it, so that it removes this Node and no other of the same name. */
  uid?: string;
  /** `status.nodeInfo.systemUUID`, as the kubelet read it from the machine's BIOS (upper- or lower-case). */
  systemUUID?: string;
}

/** The Nodes of one backed-up cluster, or why they could not be read. */
export interface WorkloadNodeListing {
  namespace: string;
  cluster: string;
  reached: boolean;
  nodes: WorkloadNode[];
  /** Why the API server could not be read. Never holds a credential. */
  error?: string;
}

/** A Node of a workload cluster with its Ready condition (the unpause forecast's). */
export interface ReadyNode extends WorkloadNode {
  /** The Node's `Ready` condition is True. */
  ready: boolean;
}

/** One workload cluster's Nodes and etcd members (the Nodes of its etcd Pods), or why they are unknown. */
export type WorkloadMembers =
  | { namespace: string; cluster: string; reached: true; nodes: ReadyNode[]; etcdMembers: string[] }
  | { namespace: string; cluster: string; reached: false; reason: string };
