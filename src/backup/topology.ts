/**
 * What the backup says about clusters, machines and vCenters (drift-semantics section 2).
 * Pure: plain objects in, plain data out.
 */
import { parse as parseYaml } from 'yaml';
import type { BackedUpCluster, BackedUpMachine, BackupObjects, Placement } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { uuidOfProviderID } from '../model/provider-id.js';
import { vcenterKey } from '../model/vcenter.js';
import { BackupError } from './errors.js';
import { CAPV_BOOTSTRAP_CREDENTIALS, CAPV_NAMESPACE } from './secrets.js';

/** The namespace of the management cluster's own objects (tanzu-framework `TkgNamespace`). */
export const MANAGEMENT_NAMESPACE = 'tkg-system';
const MANAGEMENT_ROLE_LABEL = 'cluster-role.tkg.tanzu.vmware.com/management';
const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
const CONTROL_PLANE_LABEL = 'cluster.x-k8s.io/control-plane';
const CONTROL_PLANE_NAME_LABEL = 'cluster.x-k8s.io/control-plane-name';

type Objects = Pick<
  BackupObjects,
  'source' | 'clusters' | 'kubeadmControlPlanes' | 'machines' | 'vsphereClusters' | 'vsphereMachines' | 'vsphereVMs'
>;

// ---------------------------------------------------------------------------------------------
// Field access: CAPI/CAPV specs are untyped JSON; read them field by field.

function field(object: unknown, ...path: string[]): unknown {
  let value = object;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A non-empty string field, trimmed; undefined otherwise. */
function text(object: unknown, ...path: string[]): string | undefined {
  const value = field(object, ...path);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function describe(kind: string, object: KubeObject): string {
  return `${kind} ${objectKey(object.metadata.namespace, object.metadata.name)}`;
}

const key = (object: KubeObject) => objectKey(object.metadata.namespace, object.metadata.name);

function index(objects: KubeObject[]): Map<string, KubeObject> {
  return new Map(objects.map((o) => [key(o), o]));
}

/** The object a `{kind, name, namespace?}` reference names, when the backup has it. */
function resolveRef(
  byKey: Map<string, KubeObject>,
  ref: unknown,
  kind: string,
  namespace: string | undefined,
): KubeObject | undefined {
  const name = text(ref, 'name');
  if (!name) return undefined;
  const refKind = text(ref, 'kind');
  if (refKind !== undefined && refKind !== kind) return undefined;
  return byKey.get(objectKey(text(ref, 'namespace') ?? namespace, name));
}

function ownedBy(object: KubeObject, kind: string, name: string): boolean {
  return (object.metadata.ownerReferences ?? []).some((o) => o.kind === kind && o.name === name);
}

function vcenterOf(source: string, object: KubeObject, kind: string): string | undefined {
  const server = text(object.spec, 'server');
  if (server === undefined) return undefined;
  try {
    return vcenterKey(server);
  } catch {
    throw new BackupError(source, describe(kind, object), `spec.server ${JSON.stringify(server)} is not a vCenter address`);
  }
}

function lowerUuid(value: string | undefined): string | undefined {
  return value?.toLowerCase();
}

function providerUuid(object: KubeObject | undefined): string | undefined {
  return uuidOfProviderID(text(object?.spec, 'providerID'));
}

// ---------------------------------------------------------------------------------------------
// Management cluster

/** True for the old management cluster: in namespace tkg-system, or carrying TKG's management role label. */
export function isManagementCluster(cluster: KubeObject): boolean {
  return (
    cluster.metadata.namespace === MANAGEMENT_NAMESPACE ||
    cluster.metadata.labels?.[MANAGEMENT_ROLE_LABEL] !== undefined
  );
}

export interface ClusterRef {
  namespace: string;
  name: string;
}

export interface ExcludedCluster extends ClusterRef {
  /** Why it is not judged, for the report. */
  reason: string;
}

/**
 * The management clusters the backup holds, which backedUpClusters leaves out: the old management
 * cluster is recreated, not restored, so its machines are no drift. Also lists cluster names that
 * only Machines in tkg-system mention.
 */
export function excludedManagementClusters(objects: Pick<Objects, 'clusters' | 'machines'>): ExcludedCluster[] {
  const found = new Map<string, ExcludedCluster>();
  const add = (namespace: string, name: string) =>
    found.set(objectKey(namespace, name), {
      namespace,
      name,
      reason:
        `${objectKey(namespace, name)} is the old management cluster: it is recreated, not restored, ` +
        'so its machines are not checked for drift',
    });
  for (const cluster of objects.clusters) {
    if (isManagementCluster(cluster)) add(cluster.metadata.namespace ?? '', cluster.metadata.name);
  }
  for (const machine of objects.machines) {
    if (machine.metadata.namespace !== MANAGEMENT_NAMESPACE) continue;
    const name = machineClusterName(machine);
    if (name !== undefined) add(MANAGEMENT_NAMESPACE, name);
  }
  return [...found.values()].sort(byNamespaceAndName);
}

function byNamespaceAndName(a: ClusterRef, b: ClusterRef): number {
  return a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
}

// ---------------------------------------------------------------------------------------------
// Clusters and machines

/** The cluster a Machine belongs to: label `cluster.x-k8s.io/cluster-name`, else `spec.clusterName`. */
export function machineClusterName(machine: KubeObject): string | undefined {
  const label = machine.metadata.labels?.[CLUSTER_NAME_LABEL]?.trim();
  return label ? label : text(machine.spec, 'clusterName');
}

/**
 * Every backed-up workload cluster with its machines and their VM identities, sorted by namespace
 * and name. Machines whose Cluster is not in the backup are listed under a cluster entry of that
 * name (`synthetic: true`). The management cluster is left out (see excludedManagementClusters).
 */
export function backedUpClusters(objects: Objects): BackedUpCluster[] {
  const { source } = objects;
  const vsphereVMs = index(objects.vsphereVMs);
  const vsphereMachines = index(objects.vsphereMachines);
  const vsphereClusters = index(objects.vsphereClusters);
  const management = new Set(excludedManagementClusters(objects).map((c) => objectKey(c.namespace, c.name)));

  interface Draft {
    cluster: BackedUpCluster;
    vsphereCluster?: KubeObject;
    /** Each machine's placement from its own VSphereVM/VSphereMachine, before cluster defaults. */
    own: Array<{ machine: BackedUpMachine; placement: Placement }>;
  }
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
      cluster: { namespace, name, ...(controlPlaneName ? { controlPlaneName } : {}), placement: {}, machines: [] },
      ...(vsphereCluster ? { vsphereCluster } : {}),
      own: [],
    });
  }

  for (const machine of objects.machines) {
    const namespace = machine.metadata.namespace ?? '';
    const clusterName = machineClusterName(machine);
    if (clusterName === undefined) {
      throw new BackupError(
        source,
        describe('Machine', machine),
        `no cluster: neither label ${CLUSTER_NAME_LABEL} nor spec.clusterName is set`,
      );
    }
    const clusterKey = objectKey(namespace, clusterName);
    if (management.has(clusterKey) || namespace === MANAGEMENT_NAMESPACE) continue;
    let draft = drafts.get(clusterKey);
    if (!draft) {
      // The Cluster object is missing: keep its machines visible rather than drop them.
      const controlPlaneName =
        kubeadmControlPlaneLabelled(objects.kubeadmControlPlanes, namespace, clusterName) ??
        (machine.metadata.labels?.[CONTROL_PLANE_NAME_LABEL] || undefined);
      const vsphereCluster = vsphereClusters.get(clusterKey);
      draft = {
        cluster: { namespace, name: clusterName, ...(controlPlaneName ? { controlPlaneName } : {}), placement: {}, machines: [], synthetic: true },
        ...(vsphereCluster ? { vsphereCluster } : {}),
        own: [],
      };
      drafts.set(clusterKey, draft);
    }
    if (!draft.cluster.controlPlaneName && machine.metadata.labels?.[CONTROL_PLANE_NAME_LABEL]) {
      draft.cluster.controlPlaneName = machine.metadata.labels[CONTROL_PLANE_NAME_LABEL];
    }
    draft.own.push(machineIdentity(source, machine, clusterName, vsphereVMs, vsphereMachines, objects.vsphereMachines, objects.vsphereVMs));
  }

  const clusters: BackedUpCluster[] = [];
  for (const draft of drafts.values()) {
    const { cluster } = draft;
    cluster.placement = clusterPlacement(source, draft.vsphereCluster, draft.own.map((o) => o.placement));
    for (const { machine, placement } of draft.own) {
      machine.placement = withDefaults(placement, cluster.placement);
      cluster.machines.push(machine);
    }
    cluster.machines.sort((a, b) => a.name.localeCompare(b.name));
    clusters.push(cluster);
  }
  return clusters.sort(byNamespaceAndName);
}

function kubeadmControlPlaneLabelled(kcps: KubeObject[], namespace: string, cluster: string): string | undefined {
  return kcps.find((k) => k.metadata.namespace === namespace && k.metadata.labels?.[CLUSTER_NAME_LABEL] === cluster)?.metadata
    .name;
}

function machineIdentity(
  source: string,
  machine: KubeObject,
  cluster: string,
  vsphereVMs: Map<string, KubeObject>,
  vsphereMachinesByKey: Map<string, KubeObject>,
  vsphereMachines: KubeObject[],
  allVSphereVMs: KubeObject[],
): { machine: BackedUpMachine; placement: Placement } {
  const namespace = machine.metadata.namespace ?? '';
  const name = machine.metadata.name;
  const infrastructureRef = machine.spec?.['infrastructureRef'];
  const vsphereMachine =
    resolveRef(vsphereMachinesByKey, infrastructureRef, 'VSphereMachine', namespace) ??
    (text(infrastructureRef, 'name') === undefined
      ? vsphereMachines.find((v) => v.metadata.namespace === namespace && ownedBy(v, 'Machine', name))
      : undefined);
  // CAPV names the VSphereVM after the Machine; older objects are found through the VSphereMachine.
  const vsphereVM =
    vsphereVMs.get(objectKey(namespace, name)) ??
    (vsphereMachine
      ? allVSphereVMs.find((v) => v.metadata.namespace === namespace && ownedBy(v, 'VSphereMachine', vsphereMachine.metadata.name))
      : undefined);

  const biosUuid = lowerUuid(text(vsphereVM?.spec, 'biosUUID')) ?? providerUuid(machine) ?? providerUuid(vsphereMachine);
  const instanceUuid = lowerUuid(vsphereVM?.metadata.uid?.trim() || undefined);
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

/**
 * A cluster's placement: the vCenter of its VSphereCluster; datacenter, folder and pool from its
 * VSphereCluster when it carries them, else the value most of its machines use.
 */
function clusterPlacement(source: string, vsphereCluster: KubeObject | undefined, machines: Placement[]): Placement {
  const placement: Placement = {};
  for (const part of ['vcenter', 'datacenter', 'folder', 'resourcePool'] as const) {
    const fromCluster =
      part === 'vcenter'
        ? vsphereCluster && vcenterOf(source, vsphereCluster, 'VSphereCluster')
        : text(vsphereCluster?.spec, part);
    const value = fromCluster ?? mostCommon(machines.map((m) => m[part]));
    if (value !== undefined) placement[part] = value;
  }
  return placement;
}

function withDefaults(own: Placement, defaults: Placement): Placement {
  const placement: Placement = {};
  for (const part of ['vcenter', 'datacenter', 'folder', 'resourcePool'] as const) {
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

// ---------------------------------------------------------------------------------------------
// vCenters and credentials

export interface VSphereCredentials {
  username: string;
  password: string;
}

/** A vCenter the backup names, with what the backup says about connecting to it. */
export interface VCenterTarget {
  /** The vCenter key (see vcenterKey). */
  vcenter: string;
  /** The `spec.server` as first written in the backup (scheme and port included). */
  server: string;
  /** Pinned certificate thumbprint (VSphereCluster.spec.thumbprint, else a VSphereVM's). */
  thumbprint?: string;
  credentials?: VSphereCredentials;
  /** Where the credentials came from, e.g. `secret default/wc1`; never the values. */
  credentialsFrom?: string;
  /** Why no credentials were found, when none were. */
  credentialsProblem?: string;
}

type CredentialObjects = Pick<BackupObjects, 'source' | 'clusters' | 'vsphereClusters' | 'vsphereMachines' | 'vsphereVMs' | 'vsphereClusterIdentities' | 'secrets'>;

/** Every vCenter the backup names (VSphereClusters, VSphereMachines, VSphereVMs), sorted by key. */
export function vcenterTargetsOf(objects: CredentialObjects): VCenterTarget[] {
  const { source } = objects;
  const targets = new Map<string, VCenterTarget>();
  const clustersOf = new Map<string, KubeObject[]>();
  const named = (object: KubeObject, kind: string) => {
    const vcenter = vcenterOf(source, object, kind);
    if (vcenter === undefined) return undefined;
    let target = targets.get(vcenter);
    if (!target) targets.set(vcenter, (target = { vcenter, server: text(object.spec, 'server')! }));
    return target;
  };
  const byName = (a: KubeObject, b: KubeObject) => key(a).localeCompare(key(b));
  // Workload clusters' identities first: those are the accounts CAPV uses for the machines judged.
  const vsphereClusters = [...objects.vsphereClusters].sort(
    (a, b) => Number(a.metadata.namespace === MANAGEMENT_NAMESPACE) - Number(b.metadata.namespace === MANAGEMENT_NAMESPACE) || byName(a, b),
  );
  for (const vsphereCluster of vsphereClusters) {
    const target = named(vsphereCluster, 'VSphereCluster');
    if (!target) continue;
    target.thumbprint ??= text(vsphereCluster.spec, 'thumbprint');
    clustersOf.set(target.vcenter, [...(clustersOf.get(target.vcenter) ?? []), vsphereCluster]);
  }
  for (const [kind, list] of [['VSphereVM', objects.vsphereVMs], ['VSphereMachine', objects.vsphereMachines]] as const) {
    for (const object of [...list].sort(byName)) {
      const target = named(object, kind);
      if (target) target.thumbprint ??= text(object.spec, 'thumbprint');
    }
  }

  const secrets = index(objects.secrets);
  for (const target of targets.values()) {
    if (target.thumbprint === undefined) delete target.thumbprint;
    const problems: string[] = [];
    let found: { credentials: VSphereCredentials; from: string } | undefined;
    for (const vsphereCluster of clustersOf.get(target.vcenter) ?? []) {
      found = identityCredentials(vsphereCluster, objects, secrets, problems);
      if (found) break;
    }
    found ??= bootstrapCredentials(secrets, problems);
    if (found) {
      target.credentials = found.credentials;
      target.credentialsFrom = found.from;
    } else {
      target.credentialsProblem = `no vSphere credentials in the backup: ${problems.join('; ')}`;
    }
  }
  return [...targets.values()].sort((a, b) => a.vcenter.localeCompare(b.vcenter));
}

function identityCredentials(
  vsphereCluster: KubeObject,
  objects: CredentialObjects,
  secrets: Map<string, KubeObject>,
  problems: string[],
): { credentials: VSphereCredentials; from: string } | undefined {
  const ref = vsphereCluster.spec?.['identityRef'];
  const kind = text(ref, 'kind');
  const name = text(ref, 'name');
  if (!kind || !name) return undefined;
  if (kind === 'Secret') {
    const secretKey = objectKey(vsphereCluster.metadata.namespace, name);
    return secretCredentials(secrets.get(secretKey), `secret ${secretKey}`, problems);
  }
  if (kind === 'VSphereClusterIdentity') {
    const identity = objects.vsphereClusterIdentities.find((i) => i.metadata.name === name);
    const secretName = text(identity?.spec, 'secretName');
    if (!identity || !secretName) {
      problems.push(`VSphereClusterIdentity ${name} (identityRef of ${describe('VSphereCluster', vsphereCluster)}) ${identity ? 'has no spec.secretName' : 'is not in the backup'}`);
      return undefined;
    }
    // Its Secret lives in CAPV's namespace; fall back to wherever the backup has one of that name.
    const secret =
      secrets.get(objectKey(CAPV_NAMESPACE, secretName)) ?? objects.secrets.find((s) => s.metadata.name === secretName);
    const secretKey = secret ? key(secret) : objectKey(CAPV_NAMESPACE, secretName);
    return secretCredentials(secret, `VSphereClusterIdentity ${name} (secret ${secretKey})`, problems);
  }
  problems.push(`${describe('VSphereCluster', vsphereCluster)} has an identityRef of unknown kind ${kind}`);
  return undefined;
}

function secretCredentials(
  secret: KubeObject | undefined,
  from: string,
  problems: string[],
): { credentials: VSphereCredentials; from: string } | undefined {
  if (!secret) {
    problems.push(`${from} is not in the backup`);
    return undefined;
  }
  const username = secretValue(secret, 'username');
  const password = secretValue(secret, 'password');
  if (!username || !password) {
    problems.push(`${from} has no username and password`);
    return undefined;
  }
  return { credentials: { username, password }, from };
}

function bootstrapCredentials(
  secrets: Map<string, KubeObject>,
  problems: string[],
): { credentials: VSphereCredentials; from: string } | undefined {
  const secretKey = objectKey(CAPV_NAMESPACE, CAPV_BOOTSTRAP_CREDENTIALS);
  const from = `secret ${secretKey}`;
  const secret = secrets.get(secretKey);
  if (!secret) {
    problems.push(`${from} is not in the backup`);
    return undefined;
  }
  const file = secretValue(secret, 'credentials.yaml');
  let parsed: unknown;
  try {
    parsed = file === undefined ? undefined : parseYaml(file);
  } catch {
    // The parser's message would quote the file, password included.
    problems.push(`${from}: credentials.yaml is not valid YAML`);
    return undefined;
  }
  const username = scalar(field(parsed, 'username'));
  const password = scalar(field(parsed, 'password'));
  if (!username || !password) {
    problems.push(`${from} has no username and password in credentials.yaml`);
    return undefined;
  }
  return { credentials: { username, password }, from };
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A Secret value: `data` (base64, as Velero stores it), else `stringData`. */
function secretValue(secret: KubeObject, dataKey: string): string | undefined {
  const encoded = secret.data?.[dataKey];
  if (typeof encoded === 'string' && encoded !== '') return Buffer.from(encoded, 'base64').toString('utf8');
  const plain = secret.stringData?.[dataKey];
  return typeof plain === 'string' && plain !== '' ? plain : undefined;
}

/** The kubeconfig of a workload cluster: `value` of the Secret `<cluster>-kubeconfig`, decoded. */
export function kubeconfigOf(objects: Pick<BackupObjects, 'secrets'>, namespace: string, cluster: string): string | undefined {
  const secret = objects.secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === `${cluster}-kubeconfig`);
  return secret ? secretValue(secret, 'value') : undefined;
}
