/**
 * Restore readiness, continuously: for each storage location, the newest Completed backup is
 * re-analysed against today's vCenters every interval (drift grows with every scale, upgrade or
 * new cluster after the backup), and a backup that appears is analysed when the next listing
 * sees it. The listing runs every min(interval, DEFAULTS.watch.maxListingIntervalMs).
 *
 * Each location has its own loop: one analysis at a time per location, through the drift
 * service (so the analysis cache, its limits and the gate share the result), and a failure of
 * one location is its own state, never the others'.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import type { DriftService } from './drift-service.js';
import { readinessOf, sameReadiness, type BackupReadiness } from './readiness-verdict.js';

/** A location's newest Completed backup, as its catalog lists it. */
export interface NewestBackup {
  name: string;
  /** Its completion, ms since the epoch. */
  completedAt?: number;
  /** The completion of the Completed backup before it: the schedule's cadence, as observed. */
  previousCompletedAt?: number;
}

/** The finished backups of one location (a bucket's listing, or Backup objects in a cluster). */
export interface BackupCatalog {
  newestCompleted(signal?: AbortSignal): Promise<NewestBackup | undefined>;
}

/** What the watch knows of one location. */
export interface LocationReadiness {
  location: string;
  /** The newest Completed backup, once listed. */
  backup?: NewestBackup;
  /** Its readiness at the last successful analysis (of this backup). */
  readiness?: BackupReadiness;
  /** When that analysis finished, ms since the epoch. */
  analyzedAt?: number;
  /** The last failure, listing or analysis, until a cycle succeeds. */
  error?: string;
}

/** What a door records of each analysis (Prometheus metrics, in the service). */
export interface ReadinessMetrics {
  analysed(location: string, outcome: { ok: boolean; seconds: number }): void;
  /** A check that failed before any analysis (the listing). */
  failed(location: string): void;
}

/** A location's newest backup turned restorable, or not: worth telling people (a Kubernetes Event). */
export interface RestorabilityChange {
  location: string;
  backup: string;
  restorable: boolean;
  message: string;
}

export interface ReadinessWatchOptions {
  /** Told of each change of restorability; its failure is logged, never the watch's. */
  announce?: (change: RestorabilityChange) => Promise<void>;
  service: DriftService;
  catalogs: Map<string, BackupCatalog>;
  intervalMs: number;
  logger: Logger;
  metrics?: ReadinessMetrics;
  now?: () => number;
}

type Listener = (state: LocationReadiness) => void;

export class ReadinessWatch {
  private readonly states = new Map<string, LocationReadiness>();
  private readonly listeners = new Set<Listener>();
  private readonly controller = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly now: () => number;

  constructor(private readonly options: ReadinessWatchOptions) {
    this.now = options.now ?? Date.now;
    for (const location of options.catalogs.keys()) this.states.set(location, { location });
  }

  get listingIntervalMs(): number {
    return Math.min(this.options.intervalMs, DEFAULTS.watch.maxListingIntervalMs);
  }

  start(): void {
    if (this.loops.length) return;
    this.loops = [...this.options.catalogs].map(([location, catalog]) => this.loop(location, catalog));
  }

  /** Ends every loop; an analysis in flight is abandoned (the cache finishes or times it out). */
  async stop(): Promise<void> {
    this.controller.abort(new Error('the readiness watch stopped'));
    await Promise.all(this.loops);
  }

  /** Aborted when the watch stops: what follows it (a stream) ends too. */
  get stopped(): AbortSignal {
    return this.controller.signal;
  }

  /** Every location's state, in configuration order. */
  snapshot(): LocationReadiness[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  /** Called with a location's state on every change; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async loop(location: string, catalog: BackupCatalog): Promise<void> {
    const signal = this.controller.signal;
    let lastAttempt = -Infinity;
    while (!signal.aborted) {
      try {
        const newest = await catalog.newestCompleted(signal);
        const state = this.states.get(location)!;
        const changed = newest?.name !== state.backup?.name;
        if (newest && (changed || this.now() - lastAttempt >= this.options.intervalMs)) {
          lastAttempt = this.now();
          await this.analyse(location, newest, signal);
        } else if (!newest && (changed || state.error)) {
          this.update(location, { location });
        }
      } catch (err) {
        if (signal.aborted) break;
        this.fail(location, err);
      }
      await sleep(this.listingIntervalMs, signal);
    }
  }

  private async analyse(location: string, backup: NewestBackup, signal: AbortSignal): Promise<void> {
    const started = this.now();
    try {
      const { report } = await this.options.service.analyze(backup.name, { storageLocation: location, refresh: true, signal, watch: true });
      this.options.metrics?.analysed(location, { ok: true, seconds: (this.now() - started) / 1000 });
      const readiness = readinessOf(report, this.options.service.gate);
      this.update(location, { location, backup, readiness, analyzedAt: this.now() });
    } catch (err) {
      if (signal.aborted) throw err;
      this.options.metrics?.analysed(location, { ok: false, seconds: (this.now() - started) / 1000 });
      // The failure belongs to this backup: a readiness of another backup no longer stands.
      const previous = this.states.get(location)!;
      const kept = previous.backup?.name === backup.name ? previous : { location };
      this.update(location, { ...kept, backup, error: errorMessage(err) });
    }
  }

  private fail(location: string, err: unknown): void {
    this.options.metrics?.failed(location);
    const previous = this.states.get(location)!;
    this.update(location, { ...previous, error: errorMessage(err) });
  }

  private update(location: string, next: LocationReadiness): void {
    const previous = this.states.get(location)!;
    if (!next.error) delete next.error;
    this.states.set(location, next);
    if (previous.readiness?.restorable !== next.readiness?.restorable && next.readiness) {
      const words = next.readiness.restorable ? 'would restore cleanly' : 'would not restore without remediation';
      const fields = { storageLocation: location, backup: next.backup?.name, restorable: next.readiness.restorable };
      const message = `the newest backup of storage location ${location} ${words}`;
      if (next.readiness.restorable) this.options.logger.info(message, fields);
      else this.options.logger.warn(message, fields);
      const change = { location, backup: next.backup?.name ?? '', restorable: next.readiness.restorable, message };
      this.options.announce?.(change).catch((err: unknown) => {
        this.options.logger.warn('cannot announce the change of restorability', { storageLocation: location, error: errorMessage(err) });
      });
    }
    if (previous.error !== next.error && next.error) {
      this.options.logger.warn('readiness check failed', { storageLocation: location, error: next.error });
    }
    if (!sameState(previous, next)) for (const listener of this.listeners) listener({ ...next });
  }
}

/** A change is a new backup, a new verdict or a new failure; a re-analysis with the same outcome is not. */
function sameState(a: LocationReadiness, b: LocationReadiness): boolean {
  return a.backup?.name === b.backup?.name && a.error === b.error && sameReadiness(a.readiness, b.readiness);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
