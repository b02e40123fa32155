/**
 * Whether the predicted clones can succeed (docs/unpause-forecast.md#clone-prerequisites): CAPV
 * clones from the template VM and into the datastore, networks, resource pool and folder that the
 * VSphereMachineTemplate (or the VSphereVM) names; one of them gone and the clone fails. Pure.
 */
import { samePlace } from '../drift/paths.js';
import type { ClusterView, ForecastIndex } from './cluster-view.js';
import type { CloneResources, CloneSpec, ForecastAction, ObjectRef } from './model.js';
import { emptyOutcome, refText, type Outcome } from './outcome.js';

export function clonePrerequisitesOutcome(view: ClusterView, index: ForecastIndex, actions: ForecastAction[]): Outcome {
  const out = emptyOutcome();
  const seen = new Set<string>();
  for (const a of actions.filter((x) => x.kind === 'clone')) {
    const key = `${a.object.kind}/${a.object.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const spec = cloneSpecOf(view, index, a.object);
    if (typeof spec === 'string') {
      out.actions.push(cloneFails(a.object, spec));
      continue;
    }
    const vcenter = spec.vcenter ?? view.vcenter;
    const resources = index.input.vsphere.resources.find((r) => r.vcenter === vcenter);
    const listing = index.vcenters.get(vcenter ?? '');
    if (!vcenter || !resources || !listing) {
      out.unknowns.push(`whether ${refText(a.object)} can clone is unknown: vCenter ${vcenter ?? '(none named)'} not listed`);
      continue;
    }
    const missing = missingFor(spec, resources, listing.vms);
    if (missing.length > 0) out.actions.push(cloneFails(a.object, `${missing.join(', ')} not found on ${vcenter}`));
  }
  return out;
}

function cloneFails(object: ObjectRef, why: string): ForecastAction {
  return { kind: 'clone-fails', object, when: 'at unpause', why: `its clones fail: ${why}`, rule: 'clone-prerequisites' };
}

/** The clone spec an owner's new Machines get, or why there is none. */
function cloneSpecOf(view: ClusterView, index: ForecastIndex, owner: ObjectRef): CloneSpec | string {
  const m = index.input.management;
  let template: string | undefined;
  if (owner.kind === 'VSphereVM') {
    const vm = m.vsphereVMs.find((v) => v.namespace === owner.namespace && v.name === owner.name);
    return vm ? vm.clone : `VSphereVM ${owner.name} is missing`;
  }
  if (owner.kind === 'KubeadmControlPlane') template = view.controlPlane?.infrastructureTemplate;
  if (owner.kind === 'MachineSet') template = view.machineSets.find((s) => s.name === owner.name)?.template.infrastructureTemplate;
  if (owner.kind === 'MachineDeployment')
    template = view.machineDeployments.find((d) => d.name === owner.name)?.template.infrastructureTemplate;
  if (!template) return `${refText(owner)} names no VSphereMachineTemplate`;
  const found = m.machineTemplates.find((t) => t.namespace === owner.namespace && t.name === template);
  return found ? found.clone : `VSphereMachineTemplate ${owner.namespace}/${template} is missing`;
}

/** What of the spec the vCenter lacks; a field left empty takes CAPV's default and is not checked. */
export function missingFor(spec: CloneSpec, resources: CloneResources, vms: Array<{ name: string; folder?: string }>): string[] {
  const missing: string[] = [];
  const has = (paths: Array<string | undefined>, wanted: string) =>
    paths.some((p) => p !== undefined && (nameOf(p) === wanted || samePlace(p, wanted)));
  if (
    spec.template &&
    !has(
      vms.map((v) => (v.folder ? `${v.folder}/${v.name}` : v.name)),
      spec.template,
    )
  )
    missing.push(`template ${spec.template}`);
  if (spec.datastore && !has(resources.datastores, spec.datastore)) missing.push(`datastore ${spec.datastore}`);
  for (const n of spec.networks) if (!has(resources.networks, n)) missing.push(`network ${n}`);
  if (spec.resourcePool && !has(resources.resourcePools, spec.resourcePool)) missing.push(`resource pool ${spec.resourcePool}`);
  if (spec.folder && !has(resources.folders, spec.folder)) missing.push(`folder ${spec.folder}`);
  return missing;
}

const nameOf = (path: string) => path.split('/').filter(Boolean).pop() ?? path;
