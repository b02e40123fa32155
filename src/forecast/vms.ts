/**
 * What CAPV does with each Machine's VM, and what the forecast finds about the VMs themselves
 * (docs/unpause-forecast.md#vspherevm-clone, #powered-off-vm, #duplicate-bios-uuid). Pure.
 */
import type { ClusterView, ForecastIndex } from './cluster-view.js';
import { emptyOutcome, ref, type Outcome } from './outcome.js';

export function vmOutcome(view: ClusterView, index: ForecastIndex): Outcome {
  const out = emptyOutcome();
  for (const f of view.machines) {
    const vm = f.vm;
    if (vm.state === 'clone') {
      const object = f.vsphereVM ? ref('VSphereVM', f.vsphereVM) : ref('Machine', f.machine);
      out.actions.push({
        kind: 'clone',
        object,
        when: 'at unpause',
        why: `${f.vsphereVM ? 'its VSphereVM has' : 'it has'} no BIOS UUID and no VM is at its inventory path: CAPV clones a new VM`,
        rule: 'vspherevm-clone',
        related: ref('Machine', f.machine),
      });
    } else if (vm.state === 'unknown') {
      out.unknowns.push(`Machine ${f.machine.name}: its VM is unknown (${vm.reason})`);
    } else if (vm.state === 'found' && vm.vm.powerState === 'poweredOff') {
      out.findings.push({
        kind: 'powered-off-vm',
        object: { kind: 'VirtualMachine', namespace: view.cluster.namespace, name: vm.vm.name, vcenter: vm.vcenter },
        why: `the VM of Machine ${f.machine.name} is powered off: it has no Ready Node, and CAPV powers it on`,
        rule: 'powered-off-vm',
      });
    }
  }
  out.findings.push(...duplicateBiosUuids(view, index).findings);
  return out;
}

/** Several VMs with the BIOS UUID of one of the cluster's Machines: CAPV's lookup takes any of them. */
function duplicateBiosUuids(view: ClusterView, index: ForecastIndex): Outcome {
  const out = emptyOutcome();
  const seen = new Set<string>();
  for (const f of view.machines) {
    if (f.vm.state !== 'found' || f.vm.by !== 'BIOS UUID' || !f.vm.vm.biosUuid) continue;
    const uuid = f.vm.vm.biosUuid;
    const twins = index.vcenters.get(f.vm.vcenter)?.byBios.get(uuid) ?? [];
    if (twins.length < 2 || seen.has(uuid)) continue;
    seen.add(uuid);
    out.findings.push({
      kind: 'duplicate-bios-uuid',
      object: { kind: 'VirtualMachine', namespace: view.cluster.namespace, name: twins.map((v) => v.name).join(', '), vcenter: f.vm.vcenter },
      why: `${twins.length} VMs share BIOS UUID ${uuid} of Machine ${f.machine.name}: CAPV may manage any one of them`,
      rule: 'duplicate-bios-uuid',
    });
  }
  return out;
}
