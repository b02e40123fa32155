/**
 * The kubeadm control plane on unpause: it scales to `spec.replicas` and rolls out Machines whose
 * version or infrastructure template differ from its own (docs/unpause-forecast.md#replica-delta,
 * #rollout). Pure.
 */
import { machineRef, type ClusterView, type MachineFacts } from './cluster-view.js';
import type { ForecastControlPlane } from './model.js';
import { emptyOutcome, ref, type Outcome } from './outcome.js';
import { clones, scaleTo } from './scaling.js';

export function controlPlaneOutcome(view: ClusterView, taken: Set<MachineFacts>): Outcome {
  const out = emptyOutcome();
  const kcp = view.controlPlane;
  if (!kcp) return out;
  const owner = ref('KubeadmControlPlane', kcp);
  const machines = view.machines.filter((f) => f.machine.controlPlane);
  const outdated = machines.filter((f) => outdatedBy(kcp, f).length > 0);
  if (outdated.length > 0) {
    const reasons = [...new Set(outdated.flatMap((f) => outdatedBy(kcp, f)))].join('; ');
    out.actions.push({
      kind: 'rollout',
      object: owner,
      when: 'at unpause',
      why: `${outdated.length} control-plane Machine(s) differ from it: ${reasons}`,
      rule: 'rollout',
    });
    for (const f of outdated) {
      taken.add(f);
      const why = `rolled out: ${outdatedBy(kcp, f).join('; ')}`;
      out.actions.push(...clones(owner, 1, 'at unpause', `replaces ${f.machine.name}, ${why}`, 'rollout', machineRef(f.machine)));
      out.actions.push({ kind: 'delete', object: machineRef(f.machine), when: 'at unpause', why, rule: 'rollout', related: owner });
    }
  }
  out.actions.push(...scaleTo(owner, kcp.replicas, machines, taken));
  return out;
}

/** What differs between a control-plane Machine and its KubeadmControlPlane (only fields both carry). */
function outdatedBy(kcp: ForecastControlPlane, f: MachineFacts): string[] {
  const t = f.machine.template;
  const out: string[] = [];
  if (kcp.version && t.version && kcp.version !== t.version) out.push(`version ${t.version} → ${kcp.version}`);
  if (kcp.infrastructureTemplate && t.infrastructureTemplate && kcp.infrastructureTemplate !== t.infrastructureTemplate) {
    out.push(`template ${t.infrastructureTemplate} → ${kcp.infrastructureTemplate}`);
  }
  return out;
}
