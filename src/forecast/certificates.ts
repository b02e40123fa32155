/**
 * The kubeadm control plane's certificate lookup (docs/unpause-forecast.md#certificates): it reads
 * the cluster's CAs from Secrets `<cluster>-ca`, `-etcd`, `-sa`, `-proxy` and generates any that
 * is missing, which the running control plane does not trust. Pure.
 */
import type { ClusterView } from './cluster-view.js';
import type { ManagementState } from './model.js';
import { emptyOutcome, type Outcome } from './outcome.js';

export const CERTIFICATE_SECRETS = [
  { suffix: 'ca', what: 'cluster CA' },
  { suffix: 'etcd', what: 'etcd CA' },
  { suffix: 'sa', what: 'service-account key pair' },
  { suffix: 'proxy', what: 'front-proxy CA' },
] as const;

export function certificatesOutcome(view: ClusterView, management: ManagementState): Outcome {
  const out = emptyOutcome();
  if (!view.controlPlane) return out;
  const { namespace, name } = view.cluster;
  const present = new Set(management.secrets.filter((s) => s.namespace === namespace).flatMap((s) => s.names));
  for (const { suffix, what } of CERTIFICATE_SECRETS) {
    const secret = `${name}-${suffix}`;
    if (present.has(secret)) continue;
    out.actions.push({
      kind: 'new-certificates',
      object: { kind: 'Secret', namespace, name: secret },
      when: 'at unpause',
      why: `the ${what} Secret is missing: the control plane generates a new ${what}, which the running workload cluster does not trust`,
      rule: 'certificates',
    });
  }
  return out;
}
