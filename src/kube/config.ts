/**
 * The one way to find the Kubernetes cluster the detector itself talks to (Velero's cluster: its
 * BackupStorageLocations, Backups, Restores and Secrets). Not for the workload kubeconfigs found
 * inside a backup: those are untrusted and read by src/workload, which refuses local files and
 * credential plugins.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

/** No kubeconfig could be found or loaded. The message names the source tried, never its content. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export interface KubeConfigOptions {
  /** A kubeconfig file the caller names (e.g. a flag); it beats every other source. */
  file?: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

type Found = { kind: 'file'; label: string; files: string[] } | { kind: 'in-cluster'; label: string };

/**
 * Which kubeconfig to use, first match wins:
 * 1. the file the caller names: the most explicit wish;
 * 2. KUBECONFIG (a list, as kubectl reads it): whoever sets it, even inside a pod, means it;
 * 3. the in-cluster service account, inside a pod: the identity the deployment's RBAC was written
 *    for (Velero's, for the plugin), so a kubeconfig left in the image's home cannot replace it;
 * 4. ~/.kube/config, on a workstation, as kubectl does.
 */
function findKubeConfig(env: NodeJS.ProcessEnv, file: string | undefined): Found | undefined {
  if (file) return { kind: 'file', label: file, files: [file] };
  const listed = (env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  if (listed.length > 0) return { kind: 'file', label: `KUBECONFIG=${env['KUBECONFIG']}`, files: listed };
  if (env['KUBERNETES_SERVICE_HOST'] && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    return { kind: 'in-cluster', label: 'the in-cluster service account' };
  }
  const home = env['HOME'] ? join(env['HOME'], '.kube', 'config') : undefined;
  if (home && existsSync(home)) return { kind: 'file', label: '~/.kube/config', files: [home] };
  return undefined;
}

/** Whether a cluster is configured (a kubeconfig, or a pod's service account) without loading it. */
export function hasKubeConfig(env: NodeJS.ProcessEnv = process.env): boolean {
  return findKubeConfig(env, undefined) !== undefined;
}

/**
 * Loads the kubeconfig findKubeConfig picks. `env` gives KUBECONFIG, KUBERNETES_SERVICE_HOST and
 * HOME. client-node is loaded only now: paths that never reach a cluster do not pay for it.
 */
export async function loadKubeConfig(env: NodeJS.ProcessEnv = process.env, options: KubeConfigOptions = {}): Promise<KubeConfig> {
  const found = findKubeConfig(env, options.file);
  if (!found) {
    throw new KubeConfigError(
      'not running in a pod (KUBERNETES_SERVICE_HOST unset or no service-account token), no ~/.kube/config and no KUBECONFIG',
    );
  }
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    if (found.kind === 'in-cluster') {
      kc.loadFromCluster();
    } else {
      kc.loadFromFile(found.files[0]!);
      for (const file of found.files.slice(1)) {
        const next = new k8s.KubeConfig();
        next.loadFromFile(file);
        // As kubectl: the first file that sets current-context wins.
        kc.mergeConfig(next, Boolean(kc.currentContext));
      }
    }
  } catch (err) {
    // client-node's messages can quote kubeconfig content: only say which source was tried.
    throw new KubeConfigError(`cannot load ${found.label}`, { cause: err });
  }
  return kc;
}

/** The API server a KubeConfig points at, for messages. */
export function apiServerOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'the Kubernetes API server';
}

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The namespace the detector's own objects live in (its Lease, its verdict key): POD_NAMESPACE
 * (the downward API), else the pod's service-account namespace, else undefined.
 */
export async function ownNamespace(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const given = env['POD_NAMESPACE']?.trim();
  if (given) return given;
  if (!env['KUBERNETES_SERVICE_HOST'] || !existsSync(SERVICE_ACCOUNT_NAMESPACE)) return undefined;
  const { readFile } = await import('node:fs/promises');
  const text = (await readFile(SERVICE_ACCOUNT_NAMESPACE, 'utf8').catch(() => '')).trim();
  return text || undefined;
}
