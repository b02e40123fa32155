/**
 * The service's use case, whatever the door: analyse a backup once, shared and cached, from where
 * its locator says it is, with the door's vCenter credentials and words. The detection is
 * injected so tests can count or fake it; by default it is detectDrift, loaded at the first
 * analysis so a door that never analyses (a plugin process that only answers ListPlugins) does
 * not evaluate the reader, the vSphere client and the analysis.
 */
import { NoClusterApiObjects } from '../backup/errors.js';
import { ClusterMembership } from '../backup/membership.js';
import type { BackupSource } from '../backup/source.js';
import { DEFAULTS } from '../config/defaults.js';
import type { IgnoreRules } from '../drift/ignore.js';
import type { GateConfig } from '../gate/decide.js';
import { isObjectName } from '../model/kube.js';
import type { DriftReport } from '../model/report.js';
import type { Logger } from '../util/jsonlog.js';
import { DETECTOR_VERSION } from '../version.js';
import { errorMessage } from '../util/values.js';
import { AnalysisCache, type AnalysisRequest, type AnalysisResult, type CacheUse } from './analysis-cache.js';
import type { BackupLocations, BackupStorageLocationOf } from './backup-locator.js';
import type { AnalysisConfig } from '../config/service-config.js';
import type { CredentialOverrides } from '../model/vcenter.js';
import type { DetectOptions, DoorWords, ProgressEvent } from './detect.js';
import { DomainError } from './errors.js';

export type Detect = (source: BackupSource, options: DetectOptions) => Promise<DriftReport>;

/** How analyses run: how long results are kept, their bounds, and what the detection may contact. */
/** The counters a door may keep of analyses (the service's Prometheus metrics fit). */
export interface AnalysisMetrics {
  detections: { inc(labels: { result: string }): void };
  detectionDuration: { observe(labels: { result: string }, seconds: number): void };
  cacheHits: { inc(labels: { kind: string }): void };
  cacheMisses: { inc(): void };
}

export interface DriftServiceOptions {
  locations: BackupLocations;
  /** Where a Velero Backup says it is kept (serve: its API server); none: a restore's backup is looked for in every location. */
  backupStorageLocationOf?: BackupStorageLocationOf;
  analysis: AnalysisConfig;
  gate: GateConfig;
  vcenterCredentials: CredentialOverrides;
  /** The door's words for the detection's messages. */
  words: DoorWords;
  detect?: Detect;
  /** VMs the operator knows (`analysis.ignoreFile`, read by the door at start): out of scope unless Ghosts. */
  ignore?: IgnoreRules;
  logger: Logger;
  metrics?: AnalysisMetrics;
  /** The analysis cache's clock (default Date.now); tests move it instead of waiting. */
  now?: () => number;
}

export interface AnalyzeOptions {
  storageLocation?: string;
  skipAccessApiServer?: boolean;
  refresh?: boolean;
  /**
   * The readiness watch asks: its result answers every caller for this backup for
   * `analysis.maxAgeMs`, so the gate answers from it in the hour that matters.
   */
  watch?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/**
 * A Kubernetes object name (DNS-1123 subdomain), which every Velero backup name is.
 * `field` names the value in the error, in the caller's words (`backup_name`, `spec.backupName`).
 */
export function checkBackupName(name: unknown, field = 'backup name'): string {
  if (typeof name !== 'string' || name === '') throw new DomainError('invalid-argument', `${field}: required`);
  if (!isObjectName(name)) {
    throw new DomainError(
      'invalid-argument',
      `${field}: "${name.slice(0, 80)}" is not a Velero backup name (lower-case letters, digits, '-' and '.', at most 253)`,
    );
  }
  return name;
}

export class DriftService {
  readonly analyses: AnalysisCache;
  /** Which cluster each object of a backup belongs to, kept as long as the cache keeps its report. */
  private readonly memberships = new WeakMap<DriftReport, ClusterMembership>();

  constructor(readonly options: DriftServiceOptions) {
    const { analysis } = options;
    this.analyses = new AnalysisCache({
      ttlMs: analysis.cacheTtlMs,
      failureTtlMs: analysis.failureCacheTtlMs,
      timeoutMs: analysis.timeoutMs,
      maxRunning: analysis.maxConcurrent,
      run: (request, hooks) => this.run(request, hooks),
      ...(options.now ? { now: options.now } : {}),
      onOutcome: ({ request, ok, seconds, error }) => {
        const result = ok ? 'ok' : 'error';
        options.metrics?.detections.inc({ result });
        options.metrics?.detectionDuration.observe({ result }, seconds);
        if (ok) options.logger.info('analysis finished', { backup: request.backup, seconds });
        else options.logger.warn('analysis failed', { backup: request.backup, seconds, error: errorMessage(error) });
      },
    });
  }

  /** Aborts the analyses still running: a stopping service must not keep reading backups and vCenters. */
  close(): void {
    this.analyses.abortAll(new DomainError('cancelled', 'the service is shutting down'));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get gate(): GateConfig {
    return this.options.gate;
  }

  async analyze(backupName: string, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const request = {
      location: this.options.locations.select(opts.storageLocation).name,
      backup: checkBackupName(backupName),
      skipAccessApiServer: opts.skipAccessApiServer ?? this.options.analysis.skipAccessApiServer,
    };
    return this.analyses.get(request, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.refresh ? { refresh: true } : {}),
      ...(opts.watch ? { ttlMs: this.options.analysis.maxAgeMs ?? DEFAULTS.service.analysisMaxAgeMs } : {}),
      onUse: (use: CacheUse) => {
        if (use === 'miss') this.options.metrics?.cacheMisses.inc();
        else this.options.metrics?.cacheHits.inc({ kind: use });
      },
    });
  }

  /**
   * Which backed-up cluster an object of the report's backup belongs to. A report this service did
   * not read the backup for (a detection faked in tests) knows only its clusters' names.
   */
  membershipOf(report: DriftReport): ClusterMembership {
    let membership = this.memberships.get(report);
    if (!membership) {
      membership = new ClusterMembership(report.clusters.map((c) => ({ namespace: c.namespace, name: c.name })));
      this.memberships.set(report, membership);
    }
    return membership;
  }

  /** One analysis: the backup located (inside the analysis' timeout), then detected. */
  private async run(
    request: AnalysisRequest,
    hooks: { onProgress: (event: ProgressEvent) => void; signal: AbortSignal },
  ): Promise<DriftReport> {
    const { analysis, logger } = this.options;
    const { name, locator } = this.options.locations.select(request.location);
    const source = await locator.locate(request.backup, hooks.signal);
    logger.info('analysis started', { backup: request.backup, storageLocation: name, source: source.description });
    let membership: ClusterMembership | undefined;
    const detect = this.options.detect ?? (await import('./detect.js')).detectDrift;
    const report = await detect(source, {
      insecureSkipVerify: analysis.insecureSkipVerify,
      skipAccessApiServer: request.skipAccessApiServer,
      credentials: this.options.vcenterCredentials,
      words: this.options.words,
      vcenterTimeoutMs: analysis.vcenterTimeoutMs,
      backupMemoryBudgetBytes: analysis.backupMemoryBudgetBytes,
      apiserverTimeoutMs: analysis.apiserverTimeoutMs,
      apiserverConcurrency: analysis.apiserverConcurrency,
      ...(this.options.ignore ? { ignore: this.options.ignore } : {}),
      signal: hooks.signal,
      onProgress: hooks.onProgress,
      debug: (message) => logger.debug(message, { backup: request.backup }),
      onBackupRead: (objects) => (membership = ClusterMembership.fromBackup(objects)),
    }).catch((err: unknown) => {
      if (err instanceof NoClusterApiObjects) return nothingToJudge(request.backup, source.description, new Date(this.now()));
      throw err;
    });
    if (membership) this.memberships.set(report, membership);
    return report;
  }
}

/**
 * The report on a backup with no Cluster API objects (an application namespace's): no cluster,
 * so every door that gates a restore lets it through, with nothing to judge.
 */
async function nothingToJudge(backup: string, source: string, now: Date): Promise<DriftReport> {
  const { analyzeDrift } = await import('../drift/analyze.js');
  const message = `${source} holds no Cluster API objects: not a TKG management cluster backup, nothing for the restore gate to judge`;
  const report = analyzeDrift({ clusters: [], vcenters: [], errors: [{ scope: 'backup', message, severity: 'warning' }] });
  report.metadata = { backup, generatedAt: now.toISOString(), detectorVersion: DETECTOR_VERSION, apiServerAccess: false, vcenters: [] };
  return report;
}
