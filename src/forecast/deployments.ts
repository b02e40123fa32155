/**
 * MachineDeployments and MachineSets on unpause (docs/unpause-forecast.md#selector-overlap,
 * #replica-delta, #rollout): with owner references gone, a MachineDeployment adopts every
 * MachineSet its selector matches and a MachineSet every Machine; each scales to its replicas, and
 * a MachineDeployment whose template no MachineSet carries rolls out. Pure.
 */
import { machineRef, machinesOfSet, type ClusterView, type MachineFacts } from './cluster-view.js';
import type { ForecastAction, ForecastMachineDeployment, ForecastMachineSet, MachineTemplateFields } from './model.js';
import { emptyOutcome, ref, type Outcome } from './outcome.js';
import { clones, scaleTo } from './scaling.js';
import { selects } from './selectors.js';

const DEPLOYMENT_NAME_LABEL = 'cluster.x-k8s.io/deployment-name';

export function deploymentsOutcome(view: ClusterView, taken: Set<MachineFacts>, namespaceDeployments: ForecastMachineDeployment[]): Outcome {
  const out = emptyOutcome();
  const owners = new Map<ForecastMachineSet, ForecastMachineDeployment>();
  for (const set of view.machineSets) {
    const adopters = namespaceDeployments.filter((md) => md.namespace === set.namespace && selects(md.selector, set.labels));
    if (adopters.length > 1) {
      const names = adopters.map((md) => md.name).join(', ');
      out.actions.push({
        kind: 'adopt',
        object: ref('MachineSet', set),
        when: 'at unpause',
        why: `selected by MachineDeployments ${names}: whichever reconciles first adopts it and scales it to its own replicas`,
        rule: 'selector-overlap',
      });
    }
    const owner = adopters.find((md) => md.name === set.labels[DEPLOYMENT_NAME_LABEL]) ?? adopters[0];
    if (owner) owners.set(set, owner);
  }
  for (const md of view.machineDeployments) {
    const sets = view.machineSets.filter((s) => owners.get(s) === md);
    out.actions.push(...deploymentActions(view, md, sets, taken));
  }
  for (const set of view.machineSets.filter((s) => !owners.has(s))) {
    out.actions.push(...scaleTo(ref('MachineSet', set), set.replicas, machinesOfSet(view, set), taken));
  }
  return out;
}

function deploymentActions(
  view: ClusterView,
  md: ForecastMachineDeployment,
  sets: ForecastMachineSet[],
  taken: Set<MachineFacts>,
): ForecastAction[] {
  const owner = ref('MachineDeployment', md);
  if (md.paused) return [];
  const current = sets.find((s) => sameTemplate(s.template, md.template));
  const old = sets.filter((s) => s !== current);
  const oldMachines = old.flatMap((s) => machinesOfSet(view, s));
  const currentMachines = current ? machinesOfSet(view, current) : [];
  if (current && oldMachines.length === 0) return scaleTo(owner, md.replicas, currentMachines, taken);
  if (!current && oldMachines.length === 0 && md.replicas === 0) return [];
  const why = current
    ? `MachineSet ${current.name} carries its template; ${oldMachines.length} Machine(s) of older MachineSets are replaced`
    : `no MachineSet carries its template (${templateText(md.template)}): a new MachineSet is created`;
  const actions: ForecastAction[] = [{ kind: 'rollout', object: owner, when: 'at unpause', why, rule: 'rollout' }];
  actions.push(...clones(owner, md.replicas - currentMachines.length, 'at unpause', `rollout of ${md.name}: ${why}`, 'rollout'));
  for (const f of oldMachines) {
    taken.add(f);
    actions.push({
      kind: 'delete',
      object: machineRef(f.machine),
      when: 'at unpause',
      why: `rollout of ${md.name}: replaced by a Machine of the new template`,
      rule: 'rollout',
      related: owner,
    });
  }
  return actions;
}

/** The MachineDeployment controller's "template up to date", on the fields the forecast reads. */
export function sameTemplate(a: MachineTemplateFields, b: MachineTemplateFields): boolean {
  return (
    a.version === b.version &&
    a.infrastructureTemplate === b.infrastructureTemplate &&
    a.bootstrapTemplate === b.bootstrapTemplate &&
    a.failureDomain === b.failureDomain
  );
}

function templateText(t: MachineTemplateFields): string {
  return [t.version, t.infrastructureTemplate, t.bootstrapTemplate].filter(Boolean).join(', ') || 'no fields';
}
