/**
 * The fields the analysis reads of each kind of backed-up object, with their types, checked once
 * as an entry is parsed. A backup is data from the past, possibly tampered with: a field of the
 * wrong type fails there, by entry and field, instead of surfacing later as a TypeError in some
 * stage (or being taken silently for an absent field). Fields the analysis never reads are not
 * checked: they are no reason to refuse a backup. `null` counts as absent, as Kubernetes writes it.
 */
import type { BackupResourceKind } from '../model/backup.js';
import { isMap } from '../util/values.js';
import { BackupError } from './errors.js';

type Expected = 'string' | 'map' | 'stringMap' | 'ref' | 'owners';
type Rule = readonly [path: readonly string[], expected: Expected];

/** The Secret data keys the analysis reads (docs/drift-rules.md §1.1). */
export const SECRET_KEYS_READ: readonly string[] = ['value', 'username', 'password', 'credentials.yaml'];

const strings = (...paths: string[]): Rule[] => paths.map((p) => [p.split('.'), 'string'] as const);

/** Read of every object: who it is, whose it is (drift-semantics §2, membership). */
const EVERY_OBJECT: readonly Rule[] = [
  ...strings('apiVersion', 'kind', 'metadata.namespace', 'metadata.uid', 'spec.clusterName'),
  [['metadata', 'labels'], 'stringMap'],
  [['metadata', 'annotations'], 'stringMap'],
  [['metadata', 'ownerReferences'], 'owners'],
  [['spec'], 'map'],
];

/** Where CAPV places a VM, and how it reaches its vCenter. */
const PLACEMENT = strings('spec.server', 'spec.thumbprint', 'spec.datacenter', 'spec.folder', 'spec.resourcePool');

const BY_KIND: Record<BackupResourceKind, readonly Rule[]> = {
  clusters: [
    [['spec', 'infrastructureRef'], 'ref'],
    [['spec', 'controlPlaneRef'], 'ref'],
  ],
  kubeadmControlPlanes: [],
  machineDeployments: [],
  machineSets: [],
  machines: [
    ...strings('spec.providerID', 'spec.bootstrap.dataSecretName'),
    [['spec', 'infrastructureRef'], 'ref'],
    [['spec', 'bootstrap'], 'map'],
    [['spec', 'bootstrap', 'configRef'], 'ref'],
  ],
  vsphereClusters: [...PLACEMENT, [['spec', 'identityRef'], 'ref']],
  vsphereMachines: [...PLACEMENT, ...strings('spec.providerID')],
  vsphereVMs: [...PLACEMENT, ...strings('spec.biosUUID')],
  vsphereClusterIdentities: strings('spec.secretName'),
  secrets: [
    ...strings('type'),
    [['data'], 'map'],
    [['stringData'], 'map'],
    ...SECRET_KEYS_READ.flatMap((key): Rule[] => [
      [['data', key], 'string'],
      [['stringData', key], 'string'],
    ]),
  ],
};

/** Throws a BackupError naming `entry` and the first field the analysis reads whose value has the wrong type. */
export function checkFieldTypes(source: string, entry: string, kind: BackupResourceKind, object: Record<string, unknown>): void {
  for (const [path, expected] of [...EVERY_OBJECT, ...BY_KIND[kind]]) {
    const value = at(object, path);
    if (value === undefined || value === null) continue;
    const problem = mismatch(value, expected);
    if (problem) throw new BackupError(source, entry, `${fieldName(path)}${problem.at} is a ${problem.found}, not ${problem.wanted}`);
  }
}

function at(object: unknown, path: readonly string[]): unknown {
  let value = object;
  for (const key of path) {
    if (!isMap(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** What is wrong with `value`: where inside it (`["key"]`, `[0].kind`), what it is, what it should be. */
function mismatch(value: unknown, expected: Expected): { at: string; found: string; wanted: string } | undefined {
  const wrong = (at: string, found: unknown, wanted: string) => ({ at, found: typeName(found), wanted });
  switch (expected) {
    case 'string':
      return typeof value === 'string' ? undefined : wrong('', value, 'a string');
    case 'map':
      return isMap(value) ? undefined : wrong('', value, 'a map');
    case 'stringMap':
      if (!isMap(value)) return wrong('', value, 'a map');
      for (const [key, item] of Object.entries(value)) if (typeof item !== 'string') return wrong(`[${JSON.stringify(key)}]`, item, 'a string');
      return undefined;
    case 'ref':
      return isMap(value) ? stringFields(value, '') : wrong('', value, 'a map (kind, name, namespace)');
    case 'owners':
      if (!Array.isArray(value)) return wrong('', value, 'a list');
      for (const [i, owner] of value.entries()) {
        const problem = isMap(owner) ? stringFields(owner, `[${i}]`) : wrong(`[${i}]`, owner, 'a map (kind, name)');
        if (problem) return problem;
      }
      return undefined;
  }
}

/** The kind, name and namespace of a reference or owner, when present, are strings. */
function stringFields(map: Record<string, unknown>, at: string): { at: string; found: string; wanted: string } | undefined {
  for (const key of ['kind', 'name', 'namespace']) {
    const value = map[key];
    if (value !== undefined && value !== null && typeof value !== 'string')
      return { at: `${at}.${key}`, found: typeName(value), wanted: 'a string' };
  }
  return undefined;
}

/** `spec.bootstrap.configRef`, `data["credentials.yaml"]`. */
function fieldName(path: readonly string[]): string {
  return path.map((key, i) => (/^[A-Za-z][A-Za-z0-9]*$/.test(key) ? `${i ? '.' : ''}${key}` : `[${JSON.stringify(key)}]`)).join('');
}

export function typeName(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'object' ? 'map' : typeof value;
}
