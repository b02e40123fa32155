/**
 * What the backup says about its workload clusters and their machines: each Machine with the
 * identity and placement of its VM (docs/drift-rules.md §2). Pure: plain objects in, plain data out.
 */
import type { BackedUpCluster, BackedUpMachine, BackupObjects, Placement } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import { BackupError } from './errors.js';
import { byKey, byNamespaceAndName, CLUSTER_NAME_LABEL, describe, ownedBy, resolveRef, text, vcenterOf } from './object-fields.js';
import { excludedManagementClusters, MANAGEMENT_NAMESPACE, machineClusterName } from './workload-clusters.js';

const CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane';
const CONTROL_PLANE_NAME_LABEL = 'cluster.x-k8s.io/control-plane-name';
const PLACEMENT_PARTS = ['vcenter', 'datacenter', 'folder', 'resourcePool'] as const;

type Objects = Pick<
  BackupObjects,
  'source' | 'clusters' | 'kubeadmControlPlanes' | 'machines' | 'vsphereClusters' | 'vsphereMachines' | 'vsphereVMs'
>;

/** The backup's objects, indexed by `namespace/name` where they are looked up. */
interface Lookup {
  objects: Objects;
  vsphereVMs: Map<string, KubeObject>;
  vsphereMachines: Map<string, KubeObject>;
  vsphereClusters: Map<string, KubeObject>;
}

/** A cluster being assembled: its machines' own placements wait for the cluster's defaults. */
interface Draft {
  cluster: BackedUpCluster;
  vsphereCluster?: KubeObject;
  own: Array<{ machine: BackedUpMachine; placement: Placement }>;
}

/**
 * Every backed-up workload cluster with its machines and their VM identities, sorted by namespace
 * and name. Machines whose Cluster is not in the backup are listed under a cluster entry of that
 * name (`synthetic: true`). The management cluster is left out (see excludedManagementClusters).
 */
export function backedUpClusters(objects: Objects): BackedUpCluster[] {
  const lookup: Lookup = {
    objects,
    vsphereVMs: byKey(objects.vsphereVMs),
    vsphereMachines: byKey(objects.vsphereMachines),
    vsphereClusters: byKey(objects.vsphereClusters),
  };
  const management = new Set(excludedManagementClusters(objects).map((c) => objectKey(c.namespace, c.name)));
  const drafts = clusterDrafts(lookup, management);
  for (const machine of objects.machines) {
    const draft = draftOf(machine, lookup, drafts, management);
    if (draft) draft.own.push(machineIdentity(machine, draft.cluster.name, lookup));
  }
  const clusters: BackedUpCluster[] = [];
  for (const { cluster, vsphereCluster, own } of drafts.values()) {
    cluster.placement = clusterPlacement(
      objects.source,
      vsphereCluster,
      own.map((o) => o.placement),
    );
    for (const { machine, placement } of own) {
      machine.placement = withDefaults(placement, cluster.placement);
      cluster.machines.push(machine);
    }
    cluster.machines.sort((a, b) => a.name.localeCompare(b.name));
    clusters.push(cluster);
  }
  return clusters.sort(byNamespaceAndName);
}

/** One draft per backed-up Cluster, with its VSphereCluster and the name of its control plane. */
function clusterDrafts(lookup: Lookup, management: Set<string>): Map<string, Draft> {
  const { objects, vsphereClusters } = lookup;
  const drafts = new Map<string, Draft>();
  for (const cluster of objects.clusters) {
    const namespace = cluster.metadata.namespace ?? '';
    const name = cluster.metadata.name;
    if (management.has(objectKey(namespace, name))) continue;
    const vsphereCluster =
      resolveRef(vsphereClusters, cluster.spec?.['infrastructureRef'], 'VSphereCluster', namespace) ??
      vsphereClusters.get(objectKey(namespace, name)) ??
      objects.vsphereClusters.find(
        (v) => v.metadata.namespace === namespace && (ownedBy(v, 'Cluster', name) || v.metadata.labels?.[CLUSTER_NAME_LABEL] === name),
      );
    const controlPlaneName =
      text(cluster.spec, 'controlPlaneRef', 'name') ?? kubeadmControlPlaneLabelled(objects.kubeadmControlPlanes, namespace, name);
    drafts.set(objectKey(namespace, name), {
      cluster: {
        namespace,
        name,
        ...(controlPlaneName ? { controlPlaneName } : {}),
        ...(cluster.metadata.labels && Object.keys(cluster.metadata.labels).length ? { labels: { ...cluster.metadata.labels } } : {}),
        placement: {},
        machines: [],
      },
      ...(vsphereCluster ? { vsphereCluster } : {}),
      own: [],
    });
  }
  return drafts;
}

/**
 * The draft of the Machine's cluster; created (synthetic) when the backup has no such Cluster, so
 * its machines stay visible rather than dropped. Undefined for the management cluster's machines.
 */
function draftOf(machine: KubeObject, lookup: Lookup, drafts: Map<string, Draft>, management: Set<string>): Draft | undefined {
  const namespace = machine.metadata.namespace ?? '';
  const clusterName = machineClusterName(machine);
  if (clusterName === undefined) {
    throw new BackupError(
      lookup.objects.source,
      describe('Machine', machine),
      `no cluster: neither label ${CLUSTER_NAME_LABEL} nor spec.clusterName is set`,
    );
  }
  const clusterKey = objectKey(namespace, clusterName);
  if (management.has(clusterKey) || namespace === MANAGEMENT_NAMESPACE) return undefined;
  const labelledControlPlane = machine.metadata.labels?.[CONTROL_PLANE_NAME_LABEL];
  let draft = drafts.get(clusterKey);
  if (!draft) {
    const controlPlaneName =
      kubeadmControlPlaneLabelled(lookup.objects.kubeadmControlPlanes, namespace, clusterName) ?? (labelledControlPlane || undefined);
    const vsphereCluster = lookup.vsphereClusters.get(clusterKey);
    draft = {
      cluster: {
        namespace,
        name: clusterName,
        ...(controlPlaneName ? { controlPlaneName } : {}),
        placement: {},
        machines: [],
        synthetic: true,
      },
      ...(vsphereCluster ? { vsphereCluster } : {}),
      own: [],
    };
    drafts.set(clusterKey, draft);
  }
  if (!draft.cluster.controlPlaneName && labelledControlPlane) draft.cluster.controlPlaneName = labelledControlPlane;
  return draft;
}

function kubeadmControlPlaneLabelled(kcps: KubeObject[], namespace: string, cluster: string): string | undefined {
  return kcps.find((k) => k.metadata.namespace === namespace && k.metadata.labels?.[CLUSTER_NAME_LABEL] === cluster)?.metadata.name;
}

/** The Machine with its VM's identity, and the placement its own VSphereVM or VSphereMachine gives. */
function machineIdentity(machine: KubeObject, cluster: string, lookup: Lookup): { machine: BackedUpMachine; placement: Placement } {
  const namespace = machine.metadata.namespace ?? '';
  const name = machine.metadata.name;
  const { vsphereMachine, vsphereVM } = infrastructureOf(machine, lookup);
  const biosUuid = lowerUuid(text(vsphereVM?.spec, 'biosUUID')) ?? providerUuid(machine) ?? providerUuid(vsphereMachine);
  const instanceUuid = lowerUuid(vsphereVM?.metadata.uid?.trim() || undefined);
  const source = lookup.objects.source;
  const placement: Placement = {};
  const vcenter =
    (vsphereVM && vcenterOf(source, vsphereVM, 'VSphereVM')) ?? (vsphereMachine && vcenterOf(source, vsphereMachine, 'VSphereMachine'));
  if (vcenter) placement.vcenter = vcenter;
  for (const part of ['datacenter', 'folder', 'resourcePool'] as const) {
    const value = text(vsphereVM?.spec, part) ?? text(vsphereMachine?.spec, part);
    if (value !== undefined) placement[part] = value;
  }
  return {
    machine: {
      namespace,
      name,
      cluster,
      controlPlane: machine.metadata.labels?.[CONTROL_PLANE_LABEL] !== undefined,
      ...(biosUuid ? { biosUuid } : {}),
      ...(instanceUuid ? { instanceUuid } : {}),
      vmName: vsphereVM?.metadata.name ?? name,
      placement: {},
    },
    placement,
  };
}

/** The Machine's VSphereMachine (its infrastructureRef, else the one it owns) and VSphereVM. */
function infrastructureOf(machine: KubeObject, lookup: Lookup): { vsphereMachine?: KubeObject; vsphereVM?: KubeObject } {
  const { objects } = lookup;
  const namespace = machine.metadata.namespace ?? '';
  const name = machine.metadata.name;
  const infrastructureRef = machine.spec?.['infrastructureRef'];
  const vsphereMachine =
    resolveRef(lookup.vsphereMachines, infrastructureRef, 'VSphereMachine', namespace) ??
    (text(infrastructureRef, 'name') === undefined
      ? objects.vsphereMachines.find((v) => v.metadata.namespace === namespace && ownedBy(v, 'Machine', name))
      : undefined);
  // CAPV names the VSphereVM after the Machine; older objects are found through the VSphereMachine.
  const vsphereVM =
    lookup.vsphereVMs.get(objectKey(namespace, name)) ??
    (vsphereMachine
      ? objects.vsphereVMs.find((v) => v.metadata.namespace === namespace && ownedBy(v, 'VSphereMachine', vsphereMachine.metadata.name))
      : undefined);
  return { ...(vsphereMachine ? { vsphereMachine } : {}), ...(vsphereVM ? { vsphereVM } : {}) };
}

function lowerUuid(value: string | undefined): string | undefined {
  return value?.toLowerCase();
}

function providerUuid(object: KubeObject | undefined): string | undefined {
  return uuidOfProviderID(text(object?.spec, 'providerID'));
}

/**
 * A cluster's placement: the vCenter of its VSphereCluster; datacenter, folder and pool from its
 * VSphereCluster when it carries them, else the value most of its machines use.
 */
function clusterPlacement(source: string, vsphereCluster: KubeObject | undefined, machines: Placement[]): Placement {
  const placement: Placement = {};
  for (const part of PLACEMENT_PARTS) {
    const fromCluster =
      part === 'vcenter' ? vsphereCluster && vcenterOf(source, vsphereCluster, 'VSphereCluster') : text(vsphereCluster?.spec, part);
    const value = fromCluster ?? mostCommon(machines.map((m) => m[part]));
    if (value !== undefined) placement[part] = value;
  }
  return placement;
}

function withDefaults(own: Placement, defaults: Placement): Placement {
  const placement: Placement = {};
  for (const part of PLACEMENT_PARTS) {
    const value = own[part] ?? defaults[part];
    if (value !== undefined) placement[part] = value;
  }
  return placement;
}

/** The most frequent value; ties go to the first in sort order, so the result does not depend on input order. */
function mostCommon(values: Array<string | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [value, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    if (best === undefined || count > counts.get(best)!) best = value;
  }
  return best;
}
