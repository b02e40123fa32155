/**
 * Restore readiness, continuously (docs/replicas.md): for each storage location, the newest Completed backup is
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
import { sleep } from '../util/sleep.js';
import { errorMessage } from '../util/values.js';
import type { BackupVerdict } from './backup-verdict.js';
import type { DriftService } from './drift-service.js';
import { failureKind } from './failures.js';
import { readinessOf, sameReadiness, type BackupReadiness } from './readiness-verdict.js';

/** A location's newest Completed backup, as its catalog lists it. */
export interface NewestBackup {
  name: string;
  /** Its completion, ms since the epoch. */
  completedAt?: number;
  /** The completion of the Completed backup before it: the schedule's cadence, as observed. */
  previousCompletedAt?: number;
}

/** A location's newest Completed backups, newest first, and those whose completion lies in the future. */
export interface RecentBackups {
  backups: NewestBackup[];
  /** Completed after `notAfter`: a clock that runs ahead; never taken for the newest. */
  future: NewestBackup[];
}

/** The finished backups of one location (a bucket's listing, or Backup objects in a cluster). */
export interface BackupCatalog {
  /** The `depth` newest Completed backups whose completion is not past `notAfter`. */
  recentCompleted(depth: number, notAfter: number, signal?: AbortSignal): Promise<RecentBackups>;
}

/** The outcome of one analysis, as the watch records it (the verdict on the Backup object). */
export type AnalysisOutcome = { readiness: BackupReadiness; analyzedAt: number } | { error: string; analyzedAt: number };

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
  /**
   * The newest backup is listed but its bucket, answering normally, does not hold it (Velero's
   * sync, or the upload, has not finished): not checked yet. A warning of that backup, not a
   * failure of the location; no verdict is recorded on its Backup.
   */
  notChecked?: string;
  /** On a replica that does not run the watch: the verdict signed on the newest backup's Backup (readiness-view.ts). */
  verdict?: BackupVerdict;
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
  /** Completed backups of each location analysed (default DEFAULTS.watch.depth): the newest, and older ones a denial can point to. */
  depth?: number;
  /** Re-analysis of the older ones (default DEFAULTS.watch.olderIntervalMs). */
  olderIntervalMs?: number;
  /** A completion this far past the clock is set aside (default DEFAULTS.watch.clockSkewMs). */
  clockSkewMs?: number;
  /** Records each analysis (the verdict on the Backup); its failure is logged, never the watch's. */
  record?: (location: string, backup: string, outcome: AnalysisOutcome) => Promise<void>;
  /**
   * Whether the backup was already recorded restorable or not (by this replica or the leader
   * before it): a watch that starts on a new leader does not announce again what was announced.
   */
  recorded?: (backup: string) => Promise<boolean | undefined>;
}

type Listener = (state: LocationReadiness) => void;

export class ReadinessWatch {
  private readonly states = new Map<string, LocationReadiness>();
  private readonly listeners = new Set<Listener>();
  private readonly controller = new AbortController();
  /** The loops of the current run: a replica that stops leading suspends them, and starts them again when it leads. */
  private run?: { controller: AbortController; since: number; loops: Promise<void>[] };
  private readonly now: () => number;
  /** When each backup was last analysed, per location: kept while suspended, so a resumed loop does not redo the older ones. */
  private readonly attempts = new Map<string, Map<string, number>>();
  /** Backups whose future completion was already said, per location. */
  private readonly futureSaid = new Map<string, Set<string>>();

  constructor(private readonly options: ReadinessWatchOptions) {
    this.now = options.now ?? Date.now;
    for (const location of options.catalogs.keys()) {
      this.states.set(location, { location });
      this.attempts.set(location, new Map());
    }
  }

  get listingIntervalMs(): number {
    return Math.min(this.options.intervalMs, DEFAULTS.watch.maxListingIntervalMs);
  }

  /** Since when the loops run (ms since the epoch); undefined while suspended or stopped. */
  get runningSince(): number | undefined {
    return this.run?.since;
  }

  /** Starts the loops (again, after suspend). */
  start(): void {
    if (this.run || this.controller.signal.aborted) return;
    const controller = new AbortController();
    const signal = AbortSignal.any([this.controller.signal, controller.signal]);
    this.run = {
      controller,
      since: this.now(),
      loops: [...this.options.catalogs].map(([location, catalog]) => this.loop(location, catalog, signal)),
    };
  }

  /** Ends the loops but not the watch: its state stays, its streams go on, start() resumes it. */
  async suspend(): Promise<void> {
    const run = this.run;
    this.run = undefined;
    run?.controller.abort(new Error('the readiness watch was suspended'));
    await Promise.all(run?.loops ?? []);
  }

  /** Ends every loop; an analysis in flight is abandoned (the cache finishes or times it out). */
  async stop(): Promise<void> {
    this.controller.abort(new Error('the readiness watch stopped'));
    await this.suspend();
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

  private async loop(location: string, catalog: BackupCatalog, signal: AbortSignal): Promise<void> {
    const depth = this.options.depth ?? DEFAULTS.watch.depth;
    const skew = this.options.clockSkewMs ?? DEFAULTS.watch.clockSkewMs;
    const attempts = this.attempts.get(location)!;
    while (!signal.aborted) {
      try {
        const recent = await catalog.recentCompleted(depth, this.now() + skew, signal);
        this.warnFuture(location, recent.future);
        const [newest, ...older] = recent.backups;
        const state = this.states.get(location)!;
        const changed = newest?.name !== state.backup?.name;
        if (newest && (changed || this.due(attempts, newest.name, this.options.intervalMs))) {
          attempts.set(newest.name, this.now());
          await this.analyse(location, newest, signal);
        } else if (!newest && (changed || state.error)) {
          this.update(location, { location });
        }
        for (const backup of older) {
          if (signal.aborted || !this.due(attempts, backup.name, this.options.olderIntervalMs ?? DEFAULTS.watch.olderIntervalMs)) continue;
          attempts.set(backup.name, this.now());
          await this.analyseOlder(location, backup.name, signal);
        }
        for (const name of attempts.keys()) if (!recent.backups.some((b) => b.name === name)) attempts.delete(name);
      } catch (err) {
        if (signal.aborted) break;
        this.fail(location, err);
      }
      await sleep(this.listingIntervalMs, signal);
    }
  }

  private due(attempts: Map<string, number>, backup: string, intervalMs: number): boolean {
    return this.now() - (attempts.get(backup) ?? -Infinity) >= intervalMs;
  }

  private warnFuture(location: string, future: NewestBackup[]): void {
    const said = this.futureSaid.get(location) ?? new Set<string>();
    this.futureSaid.set(location, said);
    for (const b of future) {
      if (said.has(b.name)) continue;
      said.add(b.name);
      this.options.logger.warn('a Completed backup finishes in the future: a clock runs ahead; it is not taken for the newest backup', {
        storageLocation: location,
        backup: b.name,
        completedAt: b.completedAt !== undefined ? new Date(b.completedAt).toISOString() : undefined,
      });
    }
  }

  private async analyse(location: string, backup: NewestBackup, signal: AbortSignal): Promise<void> {
    const started = this.now();
    try {
      const { report } = await this.options.service.analyze(backup.name, { storageLocation: location, refresh: true, signal, watch: true });
      this.options.metrics?.analysed(location, { ok: true, seconds: (this.now() - started) / 1000 });
      const readiness = readinessOf(report, this.options.service.gate);
      const announce = await this.worthAnnouncing(location, backup.name, readiness);
      const analyzedAt = this.now();
      this.update(location, { location, backup, readiness, analyzedAt }, announce);
      this.record(location, backup.name, { readiness, analyzedAt });
    } catch (err) {
      if (signal.aborted) throw err;
      if (failureKind(err) === 'not-found')
        return this.update(location, { location, backup, notChecked: notCheckedWords(backup.name, location) });
      this.options.metrics?.analysed(location, { ok: false, seconds: (this.now() - started) / 1000 });
      // The failure belongs to this backup: a readiness of another backup no longer stands.
      const previous = this.states.get(location)!;
      const kept = previous.backup?.name === backup.name ? previous : { location };
      this.update(location, { ...kept, backup, error: errorMessage(err) });
      this.record(location, backup.name, { error: errorMessage(err), analyzedAt: this.now() });
    }
  }

  /** An older backup of the location: only its verdict is kept (what a denial points to), not the location's state. */
  private async analyseOlder(location: string, backup: string, signal: AbortSignal): Promise<void> {
    try {
      const { report } = await this.options.service.analyze(backup, { storageLocation: location, refresh: true, signal, watch: true });
      this.record(location, backup, { readiness: readinessOf(report, this.options.service.gate), analyzedAt: this.now() });
    } catch (err) {
      if (signal.aborted) throw err;
      // Not in its bucket yet: nothing to record, as for the newest.
      if (failureKind(err) !== 'not-found') this.record(location, backup, { error: errorMessage(err), analyzedAt: this.now() });
    }
  }

  /** A change of restorability from what this watch, or the leader before it, last recorded. */
  private async worthAnnouncing(location: string, backup: string, readiness: BackupReadiness): Promise<boolean> {
    const previous = this.states.get(location)!;
    if (previous.readiness) return previous.readiness.restorable !== readiness.restorable;
    const recorded = await this.options.recorded?.(backup).catch(() => undefined);
    return recorded !== readiness.restorable;
  }

  private record(location: string, backup: string, outcome: AnalysisOutcome): void {
    this.options.record?.(location, backup, outcome).catch((err: unknown) => {
      this.options.logger.warn('cannot record the verdict on the Backup', { storageLocation: location, backup, error: errorMessage(err) });
    });
  }

  private fail(location: string, err: unknown): void {
    this.options.metrics?.failed(location);
    const previous = this.states.get(location)!;
    this.update(location, { ...previous, error: errorMessage(err) });
  }

  private update(location: string, next: LocationReadiness, announce = false): void {
    const previous = this.states.get(location)!;
    if (!next.error) delete next.error;
    this.states.set(location, next);
    if (announce && next.readiness) this.announce(location, next);
    if (previous.error !== next.error && next.error) {
      this.options.logger.warn('readiness check failed', { storageLocation: location, error: next.error });
    }
    if (previous.notChecked !== next.notChecked && next.notChecked) {
      this.options.logger.warn('backup not checked yet', { storageLocation: location, backup: next.backup?.name, warning: next.notChecked });
    }
    if (!sameState(previous, next)) for (const listener of this.listeners) listener({ ...next });
  }

  private announce(location: string, next: LocationReadiness): void {
    const restorable = next.readiness!.restorable;
    const words = restorable ? 'would restore cleanly' : 'would not restore without remediation';
    const fields = { storageLocation: location, backup: next.backup?.name, restorable };
    const message = `the newest backup of storage location ${location} ${words}`;
    if (restorable) this.options.logger.info(message, fields);
    else this.options.logger.warn(message, fields);
    const change = { location, backup: next.backup?.name ?? '', restorable, message };
    this.options.announce?.(change).catch((err: unknown) => {
      this.options.logger.warn('cannot announce the change of restorability', { storageLocation: location, error: errorMessage(err) });
    });
  }
}

/** A change is a new backup, a new verdict or a new failure; a re-analysis with the same outcome is not. */
function sameState(a: LocationReadiness, b: LocationReadiness): boolean {
  return a.backup?.name === b.backup?.name && a.error === b.error && a.notChecked === b.notChecked && sameReadiness(a.readiness, b.readiness);
}

function notCheckedWords(backup: string, location: string): string {
  return `backup ${backup} is listed but not in the bucket of storage location ${location} (the bucket answered; Velero's backup sync may not have run yet): not checked yet`;
}
