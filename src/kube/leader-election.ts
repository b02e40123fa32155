/**
 * One leader among the replicas of `serve`, through a Lease, with client-go's leader-election
 * semantics (k8s.io/client-go/tools/leaderelection):
 * - a candidate tries every retry period (jittered) to take the Lease; it may when nobody holds it,
 *   or when the holder's record has not changed for a lease duration as observed on this replica's
 *   own clock (the holder's renewTime is another machine's clock, so it is compared, never trusted);
 * - the leader renews every retry period; when no renewal succeeded for the renew deadline (shorter
 *   than the lease duration) it stops leading before anyone else may start;
 * - every write names the resourceVersion it read: a 409 Conflict means another replica wrote first;
 * - stopping, the leader first stops its work, then releases the Lease (holderIdentity empty), so
 *   another replica takes it at its next try instead of after the lease duration.
 */
import type { Logger } from '../util/jsonlog.js';
import { sleep } from '../util/sleep.js';
import { errorMessage } from '../util/values.js';
import { microTime, type LeaseClient, type LeaseRecord, type ObservedLease } from './lease.js';

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderElectionOptions extends LeaseTiming {
  lease: LeaseClient;
  /** This replica, unique among them: its pod name and a random part. */
  identity: string;
  logger: Logger;
  /** Starts the leader's work; `signal` aborts when leadership ends. Awaited before the release. */
  lead: (signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** client-go's JitterFactor: candidates retry between 1 and 2.2 retry periods apart. */
const JITTER = 1.2;

export class LeaderElector {
  private readonly controller = new AbortController();
  private running?: Promise<void>;
  private observed?: { lease: ObservedLease; at: number };
  private leading = false;
  private lastError?: string;
  private readonly now: () => number;

  constructor(private readonly options: LeaderElectionOptions) {
    this.now = options.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Ends the leader's work (awaited), then releases the Lease if this replica holds it. */
  async stop(): Promise<void> {
    this.controller.abort(new Error('leader election stopped'));
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal)) await this.lead(signal);
      else await sleep(this.options.retryPeriodMs * (1 + Math.random() * JITTER), signal);
    }
  }

  private async lead(signal: AbortSignal): Promise<void> {
    const { logger, retryPeriodMs, renewDeadlineMs } = this.options;
    this.leading = true;
    logger.info('leading: this replica runs the readiness watch', { lease: this.leaseName, identity: this.options.identity });
    const leadership = new AbortController();
    const work = this.options.lead(leadership.signal).catch((err: unknown) => {
      logger.error('the leader could not start its work', { error: errorMessage(err) });
    });
    let renewed = this.now();
    while (!signal.aborted) {
      await sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      const outcome = await this.renew(AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, renewed + renewDeadlineMs - this.now()))]));
      if (outcome === 'renewed') renewed = this.now();
      else if (outcome === 'taken' || this.now() - renewed >= renewDeadlineMs) {
        logger.warn('leadership lost: the Lease was not renewed in time or another replica holds it', {
          lease: this.leaseName,
          renewDeadlineMs,
        });
        break;
      }
    }
    leadership.abort(new Error('leadership ended'));
    await work;
    this.leading = false;
    if (signal.aborted) await this.release();
  }

  private async renew(signal: AbortSignal): Promise<'renewed' | 'failed' | 'taken'> {
    if (await this.tryAcquireOrRenew(signal)) return 'renewed';
    const holder = this.observed?.lease.record.holderIdentity;
    return holder !== undefined && holder !== '' && holder !== this.options.identity ? 'taken' : 'failed';
  }

  /** One try, as client-go's tryAcquireOrRenew: true when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { lease, identity, leaseDurationMs } = this.options;
    try {
      const now = this.now();
      const fresh: LeaseRecord = {
        holderIdentity: identity,
        leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      const current = await lease.read(signal);
      this.lastError = undefined;
      if (!current) return this.wrote(await lease.create(fresh, signal));
      this.observe(current);
      const record = current.record;
      const mine = record.holderIdentity === identity;
      const held = record.holderIdentity !== '' && this.observed!.at + leaseDurationMs > this.now();
      if (!mine && held) return false;
      const next: LeaseRecord = mine
        ? { ...fresh, acquireTime: record.acquireTime ?? fresh.acquireTime!, leaseTransitions: record.leaseTransitions }
        : { ...fresh, leaseTransitions: record.leaseTransitions + 1 };
      return this.wrote(await lease.update(current.resourceVersion, next, signal));
    } catch (err) {
      // Said once per cause: a missing Role would otherwise be logged every retry period.
      const error = errorMessage(err);
      if (!this.controller.signal.aborted && error !== this.lastError) {
        this.options.logger.warn('cannot acquire or renew the Lease', { lease: this.leaseName, error });
      }
      this.lastError = error;
      return false;
    }
  }

  private wrote(written: ObservedLease | undefined): boolean {
    if (!written) return false;
    this.observed = { lease: written, at: this.now() };
    return true;
  }

  /** A record that changed since the last read starts its lease duration now, on this clock. */
  private observe(current: ObservedLease): void {
    const before = this.observed?.lease.record;
    const same = before && JSON.stringify(before) === JSON.stringify(current.record);
    if (!same) this.observed = { lease: current, at: this.now() };
    else this.observed = { lease: current, at: this.observed!.at };
  }

  /** Hands the Lease over at once: holder empty, so the next candidate's try takes it. */
  private async release(): Promise<void> {
    const held = this.observed?.lease;
    if (!held || held.record.holderIdentity !== this.options.identity) return;
    const now = microTime(this.now());
    const record: LeaseRecord = { ...held.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
    try {
      const released = await this.options.lease.update(held.resourceVersion, record, AbortSignal.timeout(this.options.renewDeadlineMs));
      if (released) this.options.logger.info('Lease released', { lease: this.leaseName });
    } catch (err) {
      this.options.logger.warn('cannot release the Lease: another replica takes it when it expires', {
        lease: this.leaseName,
        error: errorMessage(err),
      });
    }
  }

  private get leaseName(): string {
    return `${this.options.lease.namespace}/${this.options.lease.name}`;
  }
}
