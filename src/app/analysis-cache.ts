/**
 * One analysis per backup, however many calls ask for it (docs/restore-gate.md: the analysis runs
 * once per backup and process). Calls for a backup whose analysis is in flight wait for it
 * (single flight) and see its progress; a finished report is reused for `ttlMs`; a failure only
 * for `failureTtlMs`, long enough to answer a burst of Velero items with one error instead of one
 * scan each, short enough that a fixed bucket or network is seen on the next try.
 */
import { DEFAULTS } from '../config/defaults.js';
import type { ProgressEvent } from './detect.js';
import { DomainError } from './errors.js';
import type { DriftReport } from '../model/report.js';

export interface AnalysisRequest {
  /** The storage location's name. */
  location: string;
  backup: string;
  skipAccessApiServer: boolean;
}

export type RunAnalysis = (
  request: AnalysisRequest,
  hooks: { onProgress: (event: ProgressEvent) => void; signal: AbortSignal },
) => Promise<DriftReport>;

export interface AnalysisCacheOptions {
  run: RunAnalysis;
  ttlMs: number;
  failureTtlMs: number;
  /** Bound on one analysis, whoever waits for it. */
  timeoutMs: number;
  /** Finished entries kept at most; the oldest go first. */
  maxEntries?: number;
  /**
   * Analyses running at once, at most (default DEFAULTS.service.maxConcurrentAnalyses): each one
   * streams a tarball and lists vCenters, so a caller asking for many backups must not be able to
   * exhaust the process.
   */
  maxRunning?: number;
  now?: () => number;
  onOutcome?: (outcome: { request: AnalysisRequest; ok: boolean; seconds: number; error?: unknown }) => void;
}

export type CacheUse = 'miss' | 'cached' | 'shared';

export interface AnalysisResult {
  report: DriftReport;
  use: CacheUse;
}

interface Running {
  state: 'running';
  promise: Promise<DriftReport>;
  events: ProgressEvent[];
  listeners: Set<(event: ProgressEvent) => void>;
}

interface Settled {
  state: 'done' | 'failed';
  report?: DriftReport;
  error?: unknown;
  expires: number;
}

/** Progress events kept for late joiners; an analysis emits a handful per vCenter and stage. */
const MAX_REPLAYED_EVENTS = 200;

export function analysisKey(request: AnalysisRequest): string {
  return JSON.stringify([request.location, request.backup, request.skipAccessApiServer]);
}

export class AnalysisCache {
  private readonly entries = new Map<string, Running | Settled>();
  /** The controllers of the analyses running now, so that a shutdown can stop their work. */
  private readonly controllers = new Set<AbortController>();
  private readonly now: () => number;

  constructor(private readonly options: AnalysisCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The report for `request`. `signal` ends this caller's wait only: the analysis goes on for the
   * other callers and the cache. `refresh` skips a finished entry but still joins one in flight.
   */
  async get(
    request: AnalysisRequest,
    opts: {
      onProgress?: (event: ProgressEvent) => void;
      signal?: AbortSignal;
      refresh?: boolean;
      onUse?: (use: CacheUse) => void;
      /** How long this caller's result is kept when it starts the analysis; default the cache's ttlMs. */
      ttlMs?: number;
    } = {},
  ): Promise<AnalysisResult> {
    opts.signal?.throwIfAborted();
    const key = analysisKey(request);
    let entry = this.entries.get(key);
    if (entry && entry.state !== 'running' && (entry.expires <= this.now() || opts.refresh)) {
      this.entries.delete(key);
      entry = undefined;
    }
    if (entry && entry.state !== 'running') {
      opts.onUse?.('cached');
      if (entry.state === 'failed') throw entry.error;
      return { report: entry.report!, use: 'cached' };
    }
    const use: CacheUse = entry ? 'shared' : 'miss';
    if (!entry && this.running() >= (this.options.maxRunning ?? DEFAULTS.service.maxConcurrentAnalyses)) {
      throw new DomainError('busy', `${this.running()} analyses are already running; try backup ${request.backup} again when one has finished`);
    }
    opts.onUse?.(use);
    const running = entry ?? this.start(key, request, opts.ttlMs ?? this.options.ttlMs);
    if (opts.onProgress) {
      for (const event of running.events) opts.onProgress(event);
      running.listeners.add(opts.onProgress);
    }
    try {
      return { report: await waitFor(running.promise, opts.signal), use };
    } finally {
      if (opts.onProgress) running.listeners.delete(opts.onProgress);
    }
  }

  /** Drops every finished entry (e.g. after the configuration of a location changed). */
  clear(): void {
    for (const [key, entry] of this.entries) if (entry.state !== 'running') this.entries.delete(key);
  }

  /** Stops the work of every running analysis (their sockets, streams and timers); their waiters get `reason`. */
  abortAll(reason: Error): void {
    for (const controller of this.controllers) controller.abort(reason);
  }

  get size(): number {
    return this.entries.size;
  }

  private running(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'running') n++;
    return n;
  }

  private start(key: string, request: AnalysisRequest, ttlMs: number): Running {
    const running: Running = { state: 'running', events: [], listeners: new Set(), promise: undefined as unknown as Promise<DriftReport> };
    const onProgress = (event: ProgressEvent) => {
      if (running.events.length < MAX_REPLAYED_EVENTS) running.events.push(event);
      for (const listener of running.listeners) {
        try {
          listener(event);
        } catch {
          // A listener whose call went away must not break the analysis for the others.
        }
      }
    };
    const started = this.now();
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(
      () =>
        controller.abort(
          new DomainError('timeout', `the analysis of backup ${request.backup} did not finish within ${this.options.timeoutMs / 1000} s`),
        ),
      this.options.timeoutMs,
    );
    const signal = controller.signal;
    running.promise = (async () => {
      try {
        const report = await this.options.run(request, { onProgress, signal });
        this.settle(key, { state: 'done', report, expires: this.now() + ttlMs });
        this.options.onOutcome?.({ request, ok: true, seconds: (this.now() - started) / 1000 });
        return report;
      } catch (err) {
        // Whatever the analysis threw once its time was up, the cause is the timeout.
        const error: unknown = signal.aborted ? signal.reason : err;
        this.settle(key, { state: 'failed', error, expires: this.now() + this.options.failureTtlMs });
        this.options.onOutcome?.({ request, ok: false, seconds: (this.now() - started) / 1000, error });
        throw error;
      } finally {
        clearTimeout(timer);
        this.controllers.delete(controller);
      }
    })();
    // Nobody may be waiting any more when it fails; the waiters see the error themselves.
    running.promise.catch(() => {});
    this.entries.set(key, running);
    return running;
  }

  private settle(key: string, entry: Settled): void {
    this.entries.set(key, entry);
    const max = this.options.maxEntries ?? DEFAULTS.service.maxCachedAnalyses;
    if (this.entries.size <= max) return;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= max) break;
      if (e.state !== 'running' && k !== key) this.entries.delete(k);
    }
  }
}

function waitFor<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
