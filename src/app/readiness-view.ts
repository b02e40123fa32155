/**
 * What GetReadiness and WatchReadiness show, the same on every replica (docs/replicas.md): the
 * replica that runs the readiness watch answers from its state; a replica that does not (a
 * follower, under leader election) answers from the verdicts the leader signed on the Backup
 * objects, read through the API server, so that a call through the Service gets the same backup
 * and verdict whichever replica it reaches. Without a cluster there are no verdicts and one
 * replica: the watch's state is the answer.
 */
import { sleep } from '../util/sleep.js';
import { errorMessage } from '../util/values.js';
import type { BackupVerdicts, SignedBackup } from './backup-verdicts.js';
import type { LocationReadiness, ReadinessWatch } from './readiness.js';

export interface ReadinessViewOptions {
  watch: ReadinessWatch;
  /** The signed verdicts on Backups; undefined without a cluster. */
  verdicts?: BackupVerdicts;
  /** A completion further in the future than this is a clock running ahead (watch.clockSkew). */
  clockSkewMs: number;
  now?: () => number;
}

export class ReadinessView {
  private readonly now: () => number;

  constructor(private readonly options: ReadinessViewOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Aborted when the watch stops: a stream that follows the view ends too. */
  get stopped(): AbortSignal {
    return this.options.watch.stopped;
  }

  /** The configured locations' names, in configuration order. */
  locations(): string[] {
    return this.options.watch.snapshot().map((s) => s.location);
  }

  /** Every configured location's readiness, in configuration order. */
  async snapshot(signal?: AbortSignal): Promise<LocationReadiness[]> {
    const { watch, verdicts } = this.options;
    if (!verdicts || watch.runningSince !== undefined) return watch.snapshot();
    let newest;
    try {
      newest = await verdicts.newestSigned(this.now() + this.options.clockSkewMs, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // Unknown here, and why: as the leader's state says a listing it cannot make.
      const error = `this replica does not run the readiness watch and cannot read the verdicts on the Backups: ${errorMessage(err)}`;
      return watch.snapshot().map(({ location }) => ({ location, error }));
    }
    return watch.snapshot().map(({ location }) => {
      const signed = newest.get(location);
      return signed ? stateOfVerdict(location, signed) : { location };
    });
  }

  /**
   * Calls `send` with every location of `wanted` at once, then with each location whose readiness
   * changed, until `signal` aborts: the watch's changes while this replica runs it, the verdicts
   * read again every listing interval of the watch while it does not.
   */
  async follow(wanted: ReadonlySet<string>, send: (states: LocationReadiness[]) => void, signal: AbortSignal): Promise<void> {
    const sent = new Map<string, string>();
    const changed = (states: LocationReadiness[]) =>
      states.filter((s) => {
        const text = JSON.stringify(s);
        if (!wanted.has(s.location) || sent.get(s.location) === text) return false;
        sent.set(s.location, text);
        return true;
      });
    const first = await this.snapshot(signal);
    changed(first);
    send(first.filter((s) => wanted.has(s.location)));
    const unsubscribe = this.options.watch.subscribe((state) => {
      const fresh = changed([state]);
      if (fresh.length) send(fresh);
    });
    // What the watch changed while the first answer was read.
    if (this.options.watch.runningSince !== undefined) {
      const missed = changed(this.options.watch.snapshot());
      if (missed.length) send(missed);
    }
    try {
      while (!signal.aborted) {
        await sleep(this.options.watch.listingIntervalMs, signal);
        if (signal.aborted || this.options.watch.runningSince !== undefined) continue;
        const fresh = changed(await this.snapshot(signal).catch(() => []));
        if (fresh.length) send(fresh);
      }
    } finally {
      unsubscribe();
    }
  }
}

/** A location's readiness as its newest signed verdict tells it: the verdict, not the per-cluster detail. */
function stateOfVerdict(location: string, signed: SignedBackup): LocationReadiness {
  const backup = { name: signed.name, ...(signed.completedAt !== undefined ? { completedAt: signed.completedAt } : {}) };
  const { verdict } = signed;
  if (verdict.verdict === 'Failed') return { location, backup, error: verdict.summary, verdict };
  return { location, backup, analyzedAt: verdict.analyzedAt, verdict };
}
