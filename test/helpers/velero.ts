/** Velero objects as Velero sends them to a RestoreItemAction, for the gRPC, plugin and deploy tests. */

export interface VeleroRestoreOptions {
  /** The Restore's name; default `<backupName>-20260101120000`, as `velero restore create --from-backup` names it. */
  name?: string;
  annotations?: Record<string, string>;
  /** E.g. the override label `velero restore create --labels` sets. */
  labels?: Record<string, string>;
}

/**
 * The Restore as Velero marshals its Go struct for Execute: TypeMeta empty, phase InProgress,
 * the finalizer and the default excluded resources Velero adds.
 */
export function veleroRestore(backupName: string, options: VeleroRestoreOptions = {}): Buffer {
  const { name = `${backupName}-20260101120000`, annotations = {}, labels = {} } = options;
  return Buffer.from(
    JSON.stringify({
      metadata: {
        name,
        namespace: 'velero',
        uid: 'f0c3b2a1-1111-4c8a-a7a3-3c2e5b7d9f10',
        resourceVersion: '5120',
        generation: 1,
        creationTimestamp: '2026-01-01T12:00:00Z',
        ...(Object.keys(labels).length ? { labels } : {}),
        ...(Object.keys(annotations).length ? { annotations } : {}),
        finalizers: ['restores.velero.io/external-resources-finalizer'],
      },
      spec: {
        backupName,
        excludedResources: [
          'nodes',
          'events',
          'events.events.k8s.io',
          'backups.velero.io',
          'restores.velero.io',
          'resticrepositories.velero.io',
          'csinodes.storage.k8s.io',
          'volumeattachments.storage.k8s.io',
          'backuprepositories.velero.io',
        ],
        includedNamespaces: ['*'],
        itemOperationTimeout: '4h0m0s',
        hooks: {},
        uploaderConfig: {},
      },
      status: { phase: 'InProgress', startTimestamp: '2026-01-01T12:00:01Z', progress: { totalItems: 120, itemsRestored: 40 } },
    }),
  );
}
