/**
 * `serve` with more than one replica: the readiness watch runs on the one that holds the Lease
 * (leader-election.ts), and writes its verdicts on the Backup objects, signed with the key every
 * replica shares (verdict-key.ts); every replica reads them to answer admissions and to point a
 * denial to a backup that restores. Without a cluster there is one replica, no Lease and no
 * verdict on Backups: the watch runs at once and the admission always analyses.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULTS } from '../config/defaults.js';
import type { LeaderElectionConfig } from '../config/service-config.js';
import type { ServiceConfig } from './service-config.js';
import { lazyKubeClient, type KubeClient } from '../kube/client.js';
import { hasKubeConfig, loadKubeConfig, ownNamespace } from '../kube/config.js';
import { LeaseClient } from '../kube/lease.js';
import { LeaderElector } from '../kube/leader-election.js';
import { verdictKey } from '../kube/verdict-key.js';
import type { Logger } from '../util/jsonlog.js';
import { verdictOfFailure, verdictOfReadiness } from './backup-verdict.js';
import { BackupVerdicts } from './backup-verdicts.js';
import type { AnalysisOutcome, ReadinessWatch, ReadinessWatchOptions } from './readiness.js';
import { VerdictAdmission } from './verdict-admission.js';

const RBAC_HINT =
  'the service account of drift-detector serve needs get, update and create on leases.coordination.k8s.io and create and get on ' +
  "its verdict key's Secret in the service's namespace, and get, list and patch on backups.velero.io in Velero's namespace (deploy/service)";

export interface ReadinessReplicas {
  /** The verdicts on Backup objects; undefined without a cluster. */
  verdicts?: BackupVerdicts;
  /** What the watch records and reads back (the verdicts on Backups). */
  watchHooks: Pick<ReadinessWatchOptions, 'record' | 'recorded'>;
  /** Runs the watch: while this replica leads, or at once without leader election. */
  run(watch: ReadinessWatch): Promise<WatchRun>;
  /** The admission's use of the verdicts, for the webhook; undefined without a cluster. */
  admission(): VerdictAdmission | undefined;
}

export interface WatchRun {
  /** The Lease and this replica's identity, for the log; undefined without leader election. */
  lease?: { name: string; identity: string };
  isLeader(): boolean;
  /** Stops the watch's work, then hands the Lease over. */
  stop(): Promise<void>;
}

export function readinessReplicas(
  config: ServiceConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
  now: () => number = Date.now,
): ReadinessReplicas {
  const election: LeaderElectionConfig = config.watch.leaderElection ?? DEFAULTS.watch.leaderElection;
  const hasCluster = hasKubeConfig(env);
  const client = lazyKubeClient(() => loadKubeConfig(env), {
    timeoutMs: Math.min(DEFAULTS.kube.requestTimeoutMs, election.renewDeadlineMs),
    accessHint: RBAC_HINT,
    keepAlive: true,
  });
  const namespace = ownNamespace(env).then((found) => election.namespace ?? found ?? DEFAULTS.service.namespace);
  const key = verdictKey(client, namespace, config.watch.verdictKeySecret ?? DEFAULTS.watch.verdictKeySecret);
  const verdicts = hasCluster ? new BackupVerdicts(backupObjects(client), key, logger) : undefined;
  return {
    ...(verdicts ? { verdicts } : {}),
    watchHooks: verdicts
      ? {
          record: (_location, backup, outcome) => verdicts.record(backup, verdictOf(outcome)),
          recorded: async (backup) => {
            const { verdict } = await verdicts.read(backup);
            return verdict.trusted && verdict.verdict.verdict !== 'Failed' ? verdict.verdict.verdict === 'Restorable' : undefined;
          },
        }
      : {},
    async run(watch) {
      if (!hasCluster || !election.enabled) {
        watch.start();
        return { isLeader: () => true, stop: () => watch.suspend() };
      }
      const identity = `${env['POD_NAME'] || hostname()}_${randomBytes(4).toString('hex')}`;
      const lease = new LeaseClient(client, await namespace, election.leaseName);
      const elector = new LeaderElector({
        ...election,
        lease,
        identity,
        logger,
        now,
        lead: async (signal) => {
          watch.start();
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          await watch.suspend();
        },
      });
      elector.start();
      return { lease: { name: `${lease.namespace}/${lease.name}`, identity }, isLeader: () => elector.isLeader, stop: () => elector.stop() };
    },
    admission: () =>
      verdicts &&
      new VerdictAdmission({
        verdicts,
        gate: config.gate,
        maxAgeMs: config.analysis.maxAgeMs ?? DEFAULTS.service.analysisMaxAgeMs,
        pointerMaxAgeMs: 2 * (config.watch.olderIntervalMs ?? DEFAULTS.watch.olderIntervalMs),
        clockSkewMs: config.watch.clockSkewMs ?? DEFAULTS.watch.clockSkewMs,
        defaultLocation: (config.storageLocations.find((l) => l.isDefault) ?? config.storageLocations[0])?.name ?? 'default',
        logger,
        now,
      }),
  };
}

function verdictOf(outcome: AnalysisOutcome) {
  return 'readiness' in outcome
    ? verdictOfReadiness(outcome.readiness, outcome.analyzedAt)
    : verdictOfFailure(outcome.error, outcome.analyzedAt);
}

/** Velero's Backups through the service's client. */
function backupObjects(client: () => Promise<KubeClient>) {
  const ns = DEFAULTS.velero.namespace;
  return {
    read: async (name: string, signal?: AbortSignal) => (await client()).readVeleroObject('Backup', ns, name, signal),
    list: async (selector: string, signal?: AbortSignal) => (await client()).listVeleroObjects('Backup', ns, selector, signal),
    patch: async (name: string, patch: object) => (await client()).patchVeleroObject('Backup', ns, name, patch),
  };
}
