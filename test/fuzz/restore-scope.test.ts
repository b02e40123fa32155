/**
 * Property: for random Restores against random backups, the clusters the webhook counts as touched
 * (src/gate/restore-scope.ts) are never fewer than those Velero would restore an object of. Velero
 * is modelled here on its own, plainly and slowly: every object of the backup is put through the
 * namespace, resource and label filters one by one, resource names are resolved from the CRDs'
 * published names (test/fixtures/capi-crd-names.json, not the table under test), and namespace
 * globs by a recursive matcher.
 */
import test from 'ava';
import fc from 'fast-check';
import { ANALYSED_RESOURCES, restoreFilters, touchedClusters, type ScopedCluster } from '../../src/gate/restore-scope.js';
import { check } from './fuzz.js';
import { nameGlobRef as globRef } from './reference-glob.js';
import { PUBLISHED_CRDS, type PublishedCrd as Crd } from '../fixtures/capi-crds.js';

const GATED = /(^|\.)cluster\.x-k8s\.io$/;
const CAPI = PUBLISHED_CRDS.filter((c) => c.scope === 'Namespaced' && GATED.test(c.group) && c.group !== 'runtime.cluster.x-k8s.io');
const qualified = (c: Crd) => `${c.plural}.${c.group}`;
const OTHER = ['secrets', 'configmaps', 'deployments.apps'];

// --- The reference: Velero's filters, written out -------------------------------------------------

/** Every name discovery resolves to each resource: plural, singular, short names; with the group, and short names with a group prefix. */
const RESOLVED = new Map<string, Set<string>>();
for (const c of CAPI) {
  const add = (name: string) => RESOLVED.set(name, new Set([...(RESOLVED.get(name) ?? []), qualified(c)]));
  for (const n of [c.plural, c.singular]) [n, `${n}.${c.group}`].forEach(add);
  for (const s of c.shortNames) {
    add(s);
    for (let i = 1; i <= c.group.length; i++) add(`${s}.${c.group.slice(0, i)}`);
  }
}

function resolves(name: string, resource: string): boolean {
  const n = name.toLowerCase();
  return n === '*' || (RESOLVED.get(n)?.has(resource) ?? false);
}

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

function selects(sel: Selector, labels: Labels): boolean {
  const has = (k: string) => Object.keys(labels).includes(k);
  return (
    Object.entries(sel.matchLabels ?? {}).every(([k, v]) => has(k) && labels[k] === v) &&
    (sel.matchExpressions ?? []).every((e) =>
      e.operator === 'In'
        ? has(e.key) && (e.values ?? []).includes(labels[e.key]!)
        : e.operator === 'NotIn'
          ? !(has(e.key) && (e.values ?? []).includes(labels[e.key]!))
          : e.operator === 'Exists'
            ? has(e.key)
            : !has(e.key),
    )
  );
}

interface Spec {
  includedNamespaces: string[];
  excludedNamespaces: string[];
  includedResources: string[];
  excludedResources: string[];
  labelSelector?: Selector;
  orLabelSelectors?: Selector[];
}

function veleroRestores(spec: Spec, namespace: string, resource: string, labels: Labels): boolean {
  if (spec.excludedNamespaces.some((p) => globRef(p, namespace))) return false;
  const nsIn =
    spec.includedNamespaces.length === 0 || spec.includedNamespaces.includes('*') || spec.includedNamespaces.some((p) => globRef(p, namespace));
  if (!nsIn) return false;
  if (spec.includedResources.length > 0 && !spec.includedResources.some((n) => resolves(n, resource))) return false;
  if (spec.excludedResources.some((n) => resolves(n, resource))) return false;
  const selectors = [...(spec.labelSelector ? [spec.labelSelector] : []), ...(spec.orLabelSelectors ?? [])];
  return selectors.length === 0 || selectors.some((s) => selects(s, labels));
}

// --- Random backups and Restores ------------------------------------------------------------------

const NAMESPACES = ['default', 'tkg', 'team-a', 'team-b', 'prod-1'];
const KEYS = ['env', 'cluster.x-k8s.io/cluster-name', 'app'];
const VALUES = ['prod', 'dev', 'wc1', 'wc2', ''];
const labelsArb: fc.Arbitrary<Labels> = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 });

interface BackupObject {
  resource: string;
  labels: Labels;
}
interface BackupCluster {
  namespace: string;
  name: string;
  objects: BackupObject[];
}

const objectArb = fc.record({ resource: fc.constantFrom(...CAPI.map(qualified), ...OTHER), labels: labelsArb });
const backupArb = fc
  .array(fc.tuple(fc.constantFrom(...NAMESPACES), fc.array(objectArb, { maxLength: 6 }), labelsArb), { minLength: 1, maxLength: 4 })
  .map((list) =>
    list.map(([namespace, objects, clusterLabels], i): BackupCluster => ({
      namespace,
      name: `wc${i}`,
      objects: [{ resource: 'clusters.cluster.x-k8s.io', labels: clusterLabels }, ...objects],
    })),
  );

const nsPattern = fc.constantFrom(...NAMESPACES, '*', 't*', 'team-?', '[dt]*', '[!d]*', '{default,tkg}', '*-*', '*a*', 'prod-[0-9]', 'nope');
const resourceName = fc.oneof(
  fc
    .constantFrom(...CAPI)
    .chain((c) =>
      fc.constantFrom(
        c.plural,
        c.kind,
        c.singular,
        `${c.plural}.${c.group}`,
        `${c.kind}.${c.group}`,
        ...c.shortNames,
        ...c.shortNames.map((s) => `${s}.cluster`),
      ),
    ),
  fc.constantFrom('*', ...OTHER, 'machines.cluster', 'clusters.infrastructure.cluster.x-k8s.io'),
);
const selectorArb: fc.Arbitrary<Selector> = fc.record(
  {
    matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    matchExpressions: fc.array(
      fc.record({
        key: fc.constantFrom(...KEYS),
        operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist'),
        values: fc.array(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);
const specArb: fc.Arbitrary<Spec> = fc.record(
  {
    includedNamespaces: fc.array(nsPattern, { maxLength: 3 }),
    excludedNamespaces: fc.array(nsPattern, { maxLength: 2 }),
    includedResources: fc.array(resourceName, { maxLength: 3 }),
    excludedResources: fc.array(
      resourceName.filter((n) => n !== '*'),
      { maxLength: 2 },
    ),
    labelSelector: selectorArb,
    orLabelSelectors: fc.array(selectorArb, { maxLength: 2 }),
  },
  { requiredKeys: ['includedNamespaces', 'excludedNamespaces', 'includedResources', 'excludedResources'] },
);

const isCapi = (resource: string) => CAPI.some((c) => qualified(c) === resource);

function veleroTouched(spec: Spec, backup: BackupCluster[]): string[] {
  return backup
    .filter((c) => c.objects.some((o) => isCapi(o.resource) && veleroRestores(spec, c.namespace, o.resource, o.labels)))
    .map((c) => c.name);
}

function webhookTouched(spec: Spec, clusters: ScopedCluster[]): string[] {
  return touchedClusters(restoreFilters(spec), clusters).map((c) => c.name);
}

test('the webhook never touches fewer clusters than Velero would restore objects of, knowing every object', async (t) => {
  await check(
    t,
    fc.property(backupArb, specArb, (backup, spec) => {
      const clusters = backup.map((c) => ({ namespace: c.namespace, name: c.name, objects: c.objects }));
      const webhook = new Set(webhookTouched(spec, clusters));
      const velero = veleroTouched(spec, backup);
      if (!velero.every((name) => webhook.has(name))) return false;
      // Where only resources the analysis reads could be restored, it is exact: no cluster held back for nothing.
      const restorable = CAPI.map(qualified).filter((r) => veleroRestoresAnyNamespace(spec, r));
      if (restorable.every((r) => ANALYSED_RESOURCES.has(r))) return webhook.size === velero.length;
      return true;
    }),
    2000,
  );
});

/** Whether the resource filters alone let `resource` through (the namespace and labels aside). */
function veleroRestoresAnyNamespace(spec: Spec, resource: string): boolean {
  if (spec.includedResources.length > 0 && !spec.includedResources.some((n) => resolves(n, resource))) return false;
  return !spec.excludedResources.some((n) => resolves(n, resource));
}

test("knowing only the objects the analysis reads, the webhook still touches every cluster Velero would (other objects carry their cluster's labels)", async (t) => {
  // The documented assumption: a KubeadmConfig, template or MachineHealthCheck carries the labels of one of its cluster's read objects.
  const withCopies = backupArb.chain((backup) =>
    fc
      .array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...CAPI.map(qualified).filter((r) => !ANALYSED_RESOURCES.has(r)))), { maxLength: 4 })
      .map((extra) =>
        backup.map((c, i) => {
          const read = c.objects.filter((o) => ANALYSED_RESOURCES.has(o.resource));
          const copies = extra
            .filter(([which]) => which % backup.length === i)
            .map(([from, , resource]) => ({ resource, labels: read[from % read.length]!.labels }));
          return { ...c, objects: [...read, ...copies] };
        }),
      ),
  );
  await check(
    t,
    fc.property(withCopies, specArb, (backup, spec) => {
      const clusters = backup.map((c) => ({
        namespace: c.namespace,
        name: c.name,
        objects: c.objects.filter((o) => ANALYSED_RESOURCES.has(o.resource)),
      }));
      const webhook = new Set(webhookTouched(spec, clusters));
      return veleroTouched(spec, backup).every((name) => webhook.has(name));
    }),
    2000,
  );
});

test('the reference glob agrees with the table tests of Velero namespace patterns', (t) => {
  t.true(globRef('{default,tkg}', 'tkg'));
  t.true(globRef('[!d]*', 'team-a'));
  t.false(globRef('[!d]*', 'default'));
  t.true(globRef('*a*', 'team-a'));
  t.false(globRef('team-?', 'team-ab'));
  t.true(globRef('prod-[0-9]', 'prod-1'));
  t.false(globRef('prod-[0-9]', 'prod-x'));
});
