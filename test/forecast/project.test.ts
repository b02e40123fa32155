// The live objects as the forecast reads them: nothing from status or ownerReferences.
import test from 'ava';
import { projectManagement } from '../../src/forecast/project.js';
import { biosUuid, healthyCluster, VERSION } from './scenario.js';

test('objects as Velero leaves them project to what the controllers read', (t) => {
  const s = healthyCluster().set('MachineHealthCheck', 'wc1-md-0', ['maxUnhealthy'], 1);
  const m = projectManagement(s.live);
  t.deepEqual(m.clusters, [{ namespace: 'default', name: 'wc1', paused: true, controlPlaneName: 'wc1-cp', infrastructureName: 'wc1' }]);
  t.deepEqual(m.vsphereClusters, [{ namespace: 'default', name: 'wc1', vcenter: 'vc01.example.com' }]);
  t.like(m.controlPlanes[0], { name: 'wc1-cp', cluster: 'wc1', replicas: 1, version: VERSION, infrastructureTemplate: 'wc1-control-plane' });
  const cp = m.machines.find((x) => x.name === 'wc1-cp-a')!;
  t.like(cp, {
    cluster: 'wc1',
    controlPlane: true,
    skipRemediation: false,
    providerID: `vsphere://${biosUuid(1)}`,
    template: { version: VERSION, infrastructureTemplate: 'wc1-control-plane' },
  });
  t.like(m.machineSets[0], {
    name: 'wc1-md-0-7d9f',
    replicas: 2,
    template: { infrastructureTemplate: 'wc1-md-0-worker', bootstrapTemplate: 'wc1-md-0-bootstrap' },
  });
  const mhc = m.healthChecks.find((h) => h.name === 'wc1-md-0')!;
  t.like(mhc, { nodeStartupTimeoutSeconds: 1200, maxUnhealthy: 1 });
  t.deepEqual(mhc.unhealthyConditions, [
    { type: 'Ready', status: 'Unknown', timeoutSeconds: 300 },
    { type: 'Ready', status: 'False', timeoutSeconds: 720 },
  ]);
  t.like(
    m.vsphereVMs.find((v) => v.name === 'wc1-md-0-a'),
    { cluster: 'wc1', controlPlane: false, biosUuid: biosUuid(2) },
  );
  t.deepEqual(m.machineTemplates[0]!.clone, {
    vcenter: 'vc01.example.com',
    datacenter: 'DC0',
    template: 'ubuntu-2204-kube-v1.28.7',
    datastore: 'LocalDS_0',
    networks: ['VM Network'],
    resourcePool: '/DC0/host/DC0_C0/Resources/wc1',
    folder: '/DC0/vm/wc1',
  });
  t.deepEqual(m.secrets, [{ namespace: 'default', names: ['wc1-ca', 'wc1-etcd', 'wc1-kubeconfig', 'wc1-proxy', 'wc1-sa'] }]);
});

test('replicas default to 1 when absent', (t) => {
  const s = healthyCluster().set('MachineSet', 'wc1-md-0-7d9f', ['replicas'], undefined);
  t.is(projectManagement(s.live).machineSets[0]!.replicas, 1);
});

test('a value the controllers could not use is an error naming the object and field', (t) => {
  t.throws(() => projectManagement(healthyCluster().set('MachineDeployment', 'wc1-md-0', ['replicas'], 'three').live), {
    message: 'MachineDeployment default/wc1-md-0: spec.replicas is not a non-negative integer',
  });
  t.throws(() => projectManagement(healthyCluster().set('MachineHealthCheck', 'wc1-md-0', ['nodeStartupTimeout'], '20 minutes').live), {
    message: 'MachineHealthCheck default/wc1-md-0: spec.nodeStartupTimeout "20 minutes" is not a duration',
  });
  t.throws(() => projectManagement(healthyCluster().set('MachineHealthCheck', 'wc1-md-0', ['maxUnhealthy'], true).live), {
    message: 'MachineHealthCheck default/wc1-md-0: spec.maxUnhealthy is neither a count nor a percentage',
  });
});

test('skip-remediation and the paused annotation are read from annotations', (t) => {
  const s = healthyCluster();
  s.live.machines[0]!.metadata.annotations = { 'cluster.x-k8s.io/skip-remediation': '' };
  s.live.clusters[0]!.spec!['paused'] = false;
  s.live.clusters[0]!.metadata.annotations = { 'cluster.x-k8s.io/paused': '' };
  const m = projectManagement(s.live);
  t.true(m.machines[0]!.skipRemediation);
  t.true(m.clusters[0]!.paused);
});
