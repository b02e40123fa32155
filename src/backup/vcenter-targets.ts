/**
 * The vCenters a backup names, with what it says about connecting to them: the certificate
 * thumbprint and the credentials CAPV uses (docs/drift-rules.md §1.2). Pure; the credentials are
 * values to pass on, never to print.
 */
import { parse as parseYaml } from 'yaml';
import type { BackupObjects } from '../model/backup.js';
import { objectKey, type KubeObject } from '../model/kube.js';
import { byKey, describe, field, keyOf, secretValue, text, vcenterOf } from './object-fields.js';
import { CAPV_BOOTSTRAP_CREDENTIALS, CAPV_NAMESPACE } from './secrets.js';
import { MANAGEMENT_NAMESPACE } from './workload-clusters.js';

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

type CredentialObjects = Pick<
  BackupObjects,
  'source' | 'clusters' | 'vsphereClusters' | 'vsphereMachines' | 'vsphereVMs' | 'vsphereClusterIdentities' | 'secrets'
>;

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
  const byName = (a: KubeObject, b: KubeObject) => keyOf(a).localeCompare(keyOf(b));
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
  for (const [kind, list] of [
    ['VSphereVM', objects.vsphereVMs],
    ['VSphereMachine', objects.vsphereMachines],
  ] as const) {
    for (const object of [...list].sort(byName)) {
      const target = named(object, kind);
      if (target) target.thumbprint ??= text(object.spec, 'thumbprint');
    }
  }

  const secrets = byKey(objects.secrets);
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
      problems.push(
        `VSphereClusterIdentity ${name} (identityRef of ${describe('VSphereCluster', vsphereCluster)}) ${identity ? 'has no spec.secretName' : 'is not in the backup'}`,
      );
      return undefined;
    }
    // Its Secret lives in CAPV's namespace; fall back to wherever the backup has one of that name.
    const secret = secrets.get(objectKey(CAPV_NAMESPACE, secretName)) ?? objects.secrets.find((s) => s.metadata.name === secretName);
    const secretKey = secret ? keyOf(secret) : objectKey(CAPV_NAMESPACE, secretName);
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
