/**
 * Kubernetes Events for the readiness watch: on the BackupStorageLocation of the storage
 * location's name, in Velero's namespace, when `watch.events` is on and a cluster is reachable
 * (in a pod, or with a kubeconfig). Without one, the log line is all there is.
 */
import type { RestorabilityChange } from './readiness.js';
import { DEFAULTS } from '../config/defaults.js';
import { kubeClient, type KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { recordEvent } from '../kube/events.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';

export function readinessEvents(logger: Logger, env: NodeJS.ProcessEnv = process.env): (change: RestorabilityChange) => Promise<void> {
  // Looked up on the first change, once: most changes never come, and a missing cluster is no error.
  let client: Promise<KubeClient | undefined> | undefined;
  const connect = async () => {
    try {
      return await kubeClient(await loadKubeConfig(env), { timeoutMs: DEFAULTS.kube.requestTimeoutMs });
    } catch (err) {
      logger.info('readiness events off: no cluster to write them to', { reason: errorMessage(err) });
      return undefined;
    }
  };
  return async (change) => {
    const kube = await (client ??= connect());
    if (!kube) return;
    const involved = { apiVersion: 'velero.io/v1', kind: 'BackupStorageLocation', namespace: DEFAULTS.velero.namespace, name: change.location };
    await recordEvent(kube, involved, {
      type: change.restorable ? 'Normal' : 'Warning',
      reason: change.restorable ? 'BackupRestorable' : 'BackupNotRestorable',
      message: `${change.message}: backup ${change.backup}`,
      reporter: 'driftdetector.dev/readiness',
    });
  };
}
