/**
 * The service's use cases, whatever the door: analyse a backup (once, shared, cached), and judge
 * its clusters with the restore gate. The backup source and the detection are injected so tests
 * can count or fake them; by default a backup is read from its S3 storage location and analysed
 * with detectDrift.
 */
import { s3BackupSource } from '../backup/s3-source.js';
import type { BackupSource } from '../backup/source.js';
import { detectDrift, type CredentialOverrides, type DetectOptions, type DoorWords, type ProgressEvent } from '../app/detect.js';
import type { GateConfig } from '../gate/decide.js';
import type { DriftReport } from '../model/report.js';
import type { Logger } from '../util/jsonlog.js';
import { AnalysisCache, type AnalysisResult, type CacheUse } from '../app/analysis-cache.js';
import { defaultStorageLocation, type AnalysisConfig, type ConfiguredStorageLocation } from './config.js';
import { DomainError } from '../app/errors.js';
import { errorMessage } from '../util/values.js';
import type { ServiceMetrics } from './metrics.js';
import { isObjectName } from '../model/kube.js';

export interface ServiceDeps {
  /** The tarball of backup `backupName` in `location`. */
  resolveBackup(backupName: string, location: ConfiguredStorageLocation): BackupSource;
  detect(source: BackupSource, options: DetectOptions): Promise<DriftReport>;
}

export const defaultDeps: ServiceDeps = {
  resolveBackup: (backupName, location) => s3BackupSource(location.location, backupName, { timeoutMs: location.timeoutMs }),
  detect: detectDrift,
};

export interface DriftServiceOptions {
  storageLocations: ConfiguredStorageLocation[];
  analysis: AnalysisConfig;
  gate: GateConfig;
  vcenterCredentials: CredentialOverrides;
  /** The door's words for the detection's messages. */
  words: DoorWords;
  deps?: Partial<ServiceDeps>;
  logger: Logger;
  metrics?: ServiceMetrics;
}

export interface AnalyzeOptions {
  storageLocation?: string;
  skipAccessApiServer?: boolean;
  refresh?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** A Kubernetes object name (DNS-1123 subdomain), which every Velero backup name is. */

export function checkBackupName(name: unknown, field = 'backup_name'): string {
  if (typeof name !== 'string' || name === '') throw new DomainError('invalid-argument', `${field}: required`);
  if (!isObjectName(name)) {
    throw new DomainError('invalid-argument', `${field}: "${name.slice(0, 80)}" is not a Velero backup name (lower-case letters, digits, '-' and '.', at most 253)`);
  }
  return name;
}

export class DriftService {
  readonly analyses: AnalysisCache;
  private readonly deps: ServiceDeps;

  constructor(readonly options: DriftServiceOptions) {
    this.deps = { ...defaultDeps, ...options.deps };
    const { analysis, metrics, logger } = options;
    this.analyses = new AnalysisCache({
      ttlMs: analysis.cacheTtlMs,
      failureTtlMs: analysis.failureCacheTtlMs,
      timeoutMs: analysis.timeoutMs,
      maxRunning: analysis.maxConcurrent,
      run: (request, hooks) => {
        const location = this.location(request.location);
        const source = this.deps.resolveBackup(request.backup, location);
        logger.info('analysis started', { backup: request.backup, storageLocation: location.name, source: source.description });
        return this.deps.detect(source, {
          insecureSkipVerify: analysis.insecureSkipVerify,
          skipAccessApiServer: request.skipAccessApiServer,
          credentials: options.vcenterCredentials,
          words: options.words,
          vcenterTimeoutMs: analysis.vcenterTimeoutMs,
          apiserverTimeoutMs: analysis.apiserverTimeoutMs,
          apiserverConcurrency: analysis.apiserverConcurrency,
          signal: hooks.signal,
          onProgress: hooks.onProgress,
          debug: (message) => logger.debug(message, { backup: request.backup }),
        });
      },
      onOutcome: ({ request, ok, seconds, error }) => {
        const result = ok ? 'ok' : 'error';
        metrics?.detections.inc({ result });
        metrics?.detectionDuration.observe({ result }, seconds);
        if (ok) logger.info('analysis finished', { backup: request.backup, seconds });
        else logger.warn('analysis failed', { backup: request.backup, seconds, error: errorMessage(error) });
      },
    });
  }

  get gate(): GateConfig {
    return this.options.gate;
  }

  /** The configured location of that name; the default one for an empty name. */
  location(name: string | undefined): ConfiguredStorageLocation {
    if (!name) return defaultStorageLocation(this.options);
    const found = this.options.storageLocations.find((l) => l.name === name);
    if (!found) {
      throw new DomainError(
        'invalid-argument',
        `storage_location: "${name.slice(0, 80)}" is not configured (configured: ${this.options.storageLocations.map((l) => l.name).join(', ')})`,
      );
    }
    return found;
  }

  async analyze(backupName: string, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
    const location = this.location(opts.storageLocation);
    const request = {
      location: location.name,
      backup: checkBackupName(backupName),
      skipAccessApiServer: opts.skipAccessApiServer ?? this.options.analysis.skipAccessApiServer,
    };
    return this.analyses.get(request, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.refresh ? { refresh: true } : {}),
      onUse: (use: CacheUse) => {
        if (use === 'miss') this.options.metrics?.cacheMisses.inc();
        else this.options.metrics?.cacheHits.inc({ kind: use });
      },
    });
  }
}
