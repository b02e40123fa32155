/**
 * The Backups of a Velero schedule, read from the cluster `serve` runs in (in a pod: its service
 * account; else KUBECONFIG or ~/.kube/config). The kubeconfig is loaded on the first schedule
 * restore only: a service that never sees one needs no cluster access.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULTS } from '../config/defaults.js';
import { lazyKubeClient } from './client.js';
import { loadKubeConfig } from './config.js';

const RBAC_HINT = "the service account of drift-detector serve needs get/list on backups.velero.io in Velero's namespace (deploy/service)";

export function clusterScheduleBackups(options: { timeoutMs?: number; loadConfig?: () => Promise<KubeConfig> } = {}): {
  list(namespace: string, schedule: string, signal: AbortSignal): Promise<unknown[]>;
} {
  const { timeoutMs = DEFAULTS.kube.requestTimeoutMs, loadConfig = () => loadKubeConfig() } = options;
  const client = lazyKubeClient(loadConfig, { timeoutMs, accessHint: RBAC_HINT });
  return {
    async list(namespace, schedule, signal) {
      return (await client()).listVeleroObjects('Backup', namespace, `velero.io/schedule-name=${schedule}`, signal);
    },
  };
}
