// docs/unpause-forecast.md#clone-prerequisites
import test from 'ava';
import { forecast } from '../../src/forecast/forecast.js';
import type { ClusterForecast } from '../../src/forecast/model.js';
import { brief, healthyCluster, Scenario, TEMPLATE } from './scenario.js';

const only = (s: Scenario): ClusterForecast => forecast(s.input()).clusters[0]!;
/** wc1 whose MachineDeployment wants one more Machine: a clone is predicted. */
const scaleUp = () => healthyCluster().set('MachineDeployment', 'wc1-md-0', ['replicas'], 3);

const gone: Array<{ what: string; edit: (s: Scenario) => void; says: RegExp }> = [
  { what: 'template VM', edit: (s) => s.withoutTemplateVM(), says: new RegExp(`template ${TEMPLATE}`) },
  { what: 'datastore', edit: (s) => (s.resources.datastores.length = 0), says: /datastore LocalDS_0/ },
  { what: 'network', edit: (s) => (s.resources.networks.length = 0), says: /network VM Network/ },
  {
    what: 'resource pool',
    edit: (s) => (s.resources.resourcePools = s.resources.resourcePools.filter((p) => !p.endsWith('/wc1'))),
    says: /resource pool \/DC0\/host\/DC0_C0\/Resources\/wc1/,
  },
  {
    what: 'folder',
    edit: (s) => (s.resources.folders = s.resources.folders.filter((p) => !p.endsWith('/wc1'))),
    says: /folder \/DC0\/vm\/wc1/,
  },
  {
    what: 'VSphereMachineTemplate',
    edit: (s) => (s.live.vsphereMachineTemplates = s.live.vsphereMachineTemplates.filter((x) => x.metadata.name !== 'wc1-md-0-worker')),
    says: /VSphereMachineTemplate default\/wc1-md-0-worker is missing/,
  },
];

for (const g of gone) {
  test(`${g.what} gone: the predicted clone fails, Unsafe`, (t) => {
    const s = scaleUp();
    g.edit(s);
    const f = only(s);
    const fails = f.actions.filter((a) => a.kind === 'clone-fails');
    t.deepEqual(brief(fails), ['clone-fails MachineDeployment/wc1-md-0 (at unpause) #clone-prerequisites']);
    t.regex(fails[0]!.why, g.says);
    t.is(f.verdict, 'UnsafeToUnpause');
  });
}

test('a replacement after remediation needs the template too', (t) => {
  const s = new Scenario()
    .cluster('wc1')
    .deployment('wc1', 'md-0', 2)
    .machine('wc1', 'wc1-cp-a', { controlPlane: true })
    .machine('wc1', 'wc1-md-0-a')
    .machine('wc1', 'wc1-md-0-b', { vm: 'gone' })
    .withoutTemplateVM();
  const f = only(s);
  t.true(brief(f.actions).includes('clone-fails MachineSet/wc1-md-0-7d9f (at unpause) #clone-prerequisites'));
  t.is(f.verdict, 'UnsafeToUnpause');
});

test('no clone predicted: a missing template VM does not matter', (t) => {
  t.is(only(healthyCluster().withoutTemplateVM()).verdict, 'SafeToUnpause');
});

test('the template named by inventory path is found', (t) => {
  const s = scaleUp();
  for (const o of s.live.vsphereMachineTemplates)
    (o.spec!['template'] as { spec: Record<string, unknown> }).spec['template'] = `/DC0/vm/templates/${TEMPLATE}`;
  t.false(only(s).actions.some((a) => a.kind === 'clone-fails'));
});

test('clone resources of an unlisted vCenter are unknown, not a failure', (t) => {
  const s = scaleUp();
  const input = s.input();
  input.vsphere.resources = [];
  const f = forecast(input).clusters[0]!;
  t.false(f.actions.some((a) => a.kind === 'clone-fails'));
  t.true(f.unknowns.some((u) => u.includes('can clone is unknown')));
  t.is(f.verdict, 'ReviewBeforeUnpause');
});
