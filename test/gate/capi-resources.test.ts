/** The table of Cluster API resource names (src/gate/capi-resources.ts) against the CRDs' published manifests. */
import test from 'ava';
import { CAPI_RESOURCES, namesResource, qualifiedName } from '../../src/gate/capi-resources.js';
import { PUBLISHED_CRDS as crds } from '../fixtures/capi-crds.js';

/** The groups whose objects make up a cluster (drift semantics §7). */
const GATED_GROUPS = [
  'cluster.x-k8s.io',
  'infrastructure.cluster.x-k8s.io',
  'bootstrap.cluster.x-k8s.io',
  'controlplane.cluster.x-k8s.io',
  'addons.cluster.x-k8s.io',
  'ipam.cluster.x-k8s.io',
];

test('every namespaced CRD of the gated groups is in the table, with its kind, plural and short names as published', (t) => {
  const published = crds.filter((c) => c.scope === 'Namespaced' && GATED_GROUPS.includes(c.group));
  t.true(published.length >= 20);
  for (const crd of published) {
    const row = CAPI_RESOURCES.find((r) => r.group === crd.group && r.plural === crd.plural);
    if (!row) {
      t.fail(`${crd.plural}.${crd.group} (${crd.source}) is not in the table`);
      continue;
    }
    t.is(row.kind, crd.kind, crd.source);
    t.is(row.kind.toLowerCase(), crd.singular, crd.source);
    t.deepEqual([...row.shortNames], crd.shortNames, crd.source);
  }
  t.is(CAPI_RESOURCES.length, published.length, 'no row without a published CRD');
});

test('every name of a row resolves to it, and a short name to no other row', (t) => {
  for (const row of CAPI_RESOURCES) {
    const names = [row.plural, row.kind, row.kind.toLowerCase(), qualifiedName(row), `${row.kind}.${row.group}`, ...row.shortNames];
    for (const name of names) t.true(namesResource(name, row), `${name} names ${qualifiedName(row)}`);
    for (const short of row.shortNames) {
      t.deepEqual(CAPI_RESOURCES.filter((r) => namesResource(short, r)).map(qualifiedName), [qualifiedName(row)], short);
    }
  }
});
