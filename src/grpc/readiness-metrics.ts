/**
 * The readiness watch's Prometheus metrics, named in Velero's style (`velero_backup_*`, label
 * `schedule` there, `storage_location` here). The gauges are read from the watch's state at each
 * scrape, so a location's series follow its newest backup without stale series left behind.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LocationReadiness, ReadinessMetrics } from '../app/readiness.js';
import type { ClusterReadiness } from '../app/readiness-verdict.js';

export interface ReadinessGauges extends ReadinessMetrics {
  /**
   * Where the gauges read the state from (the running watch; empty on a replica that does not run
   * it, so that only the leader's series exist), its watch.interval in seconds, and since when it
   * runs (ms since the epoch; default: the bind).
   */
  bind(snapshot: () => LocationReadiness[], intervalSeconds: number, runningSince?: () => number | undefined): void;
}

const BACKUP_LABELS = ['storage_location', 'backup'] as const;
const CLUSTER_LABELS = ['storage_location', 'backup', 'cluster'] as const;

type Analysed = LocationReadiness & Required<Pick<LocationReadiness, 'backup' | 'readiness'>>;
type Snapshot = () => LocationReadiness[];

/** A gauge rebuilt at each scrape from the locations whose newest backup has been analysed. */
function stateGauge<L extends string>(
  registry: Registry,
  snapshot: () => Snapshot,
  config: { name: string; help: string; labelNames: readonly L[] },
  set: (gauge: Gauge<L>, s: Analysed) => void,
): void {
  new Gauge({
    ...config,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()()) if (s.backup && s.readiness) set(this, s as Analysed);
    },
  });
}

function backupGauges(registry: Registry, snapshot: () => Snapshot): void {
  const perBackup = (name: string, help: string, value: (s: Analysed) => number) =>
    stateGauge(registry, snapshot, { name, help, labelNames: BACKUP_LABELS }, (g, s) =>
      g.set({ storage_location: s.location, backup: s.backup.name }, value(s)),
    );
  const perCluster = (name: string, help: string, value: (c: ClusterReadiness) => number) =>
    stateGauge(registry, snapshot, { name, help, labelNames: CLUSTER_LABELS }, (g, s) => {
      for (const c of s.readiness.clusters) {
        g.set({ storage_location: s.location, backup: s.backup.name, cluster: `${c.namespace}/${c.name}` }, value(c));
      }
    });
  perBackup(
    'drift_detector_backup_restorable',
    'Whether the newest Completed backup of the storage location would restore without remediation today (1) or not (0)',
    (s) => (s.readiness.restorable ? 1 : 0),
  );
  perCluster(
    'drift_detector_backup_ghost_machines',
    'Ghost machines per cluster of the newest backup (VMs the backup does not know)',
    (c) => c.ghostMachines,
  );
  perCluster(
    'drift_detector_backup_stale_machines',
    'Stale machines per cluster of the newest backup (gone from vSphere)',
    (c) => c.staleMachines,
  );
  perCluster(
    'drift_detector_backup_unknown_machines',
    'Unknown machines per cluster of the newest backup (not confirmable)',
    (c) => c.unknownMachines,
  );
  perBackup(
    'drift_detector_backup_infra_machines_unconfirmed',
    'Machines of the newest backup that may be management-cluster infrastructure and need confirmation',
    (s) => s.readiness.infraMachinesToConfirm,
  );
  new Gauge({
    name: 'drift_detector_backup_age_seconds',
    help: 'Age of the newest Completed backup of the storage location (since its completion)',
    labelNames: BACKUP_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()()) {
        if (s.backup?.completedAt === undefined) continue;
        this.set({ storage_location: s.location, backup: s.backup.name }, Math.max(0, (Date.now() - s.backup.completedAt) / 1000));
      }
    },
  });
  // A listed backup its bucket does not hold yet: a warning of that backup, not a failed check.
  new Gauge({
    name: 'drift_detector_backup_not_checked',
    help: 'The newest Completed backup of the storage location is listed but not in its bucket (yet), so it is not checked (1)',
    labelNames: BACKUP_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of snapshot()()) if (s.backup && s.notChecked) this.set({ storage_location: s.location, backup: s.backup.name }, 1);
    },
  });
  // The alert on a missed backup compares the age with this, not with a schedule written into the rule.
  new Gauge({
    name: 'drift_detector_backup_interval_seconds',
    help: 'Time between the completions of the newest two Completed backups of the storage location (the schedule, as observed)',
    labelNames: BACKUP_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const { location, backup } of snapshot()()) {
        if (backup?.completedAt === undefined || backup.previousCompletedAt === undefined) continue;
        this.set({ storage_location: location, backup: backup.name }, Math.max(0, (backup.completedAt - backup.previousCompletedAt) / 1000));
      }
    },
  });
}

export function createReadinessMetrics(registry: Registry): ReadinessGauges {
  let snapshot: Snapshot = () => [];
  let intervalSeconds = 0;
  backupGauges(registry, () => snapshot);
  const registers = [registry];
  // Per location, so that the alert on missing analyses matches it with the last success label for label.
  new Gauge({
    name: 'drift_detector_readiness_watch_interval_seconds',
    help: "The readiness watch's interval (watch.interval): how often each storage location's newest backup is re-analysed",
    labelNames: ['storage_location'],
    registers,
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ storage_location: s.location }, intervalSeconds);
    },
  });
  // The stale-analysis alert counts from here for a location that has never had a success.
  let startedSeconds = () => 0;
  new Gauge({
    name: 'drift_detector_readiness_watch_start_timestamp_seconds',
    help: 'When the readiness watch started watching the storage location, in seconds since the epoch',
    labelNames: ['storage_location'],
    registers,
    collect() {
      this.reset();
      for (const s of snapshot()) this.set({ storage_location: s.location }, startedSeconds());
    },
  });
  const lastSuccess = new Map<string, number>();
  new Gauge({
    name: 'drift_detector_readiness_last_success_timestamp_seconds',
    help: 'Time of the last successful readiness analysis of the storage location, in seconds since the epoch',
    labelNames: ['storage_location'],
    registers,
    collect() {
      this.reset();
      for (const s of snapshot()) {
        const at = lastSuccess.get(s.location);
        if (at !== undefined) this.set({ storage_location: s.location }, at);
      }
    },
  });
  const duration = new Histogram({
    name: 'drift_detector_readiness_analysis_duration_seconds',
    help: "Duration of one readiness analysis of a storage location's newest backup",
    labelNames: ['storage_location'],
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const failures = new Counter({
    name: 'drift_detector_readiness_analysis_failures_total',
    help: 'Readiness checks that failed (listing the backups or analysing the newest one), per storage location',
    labelNames: ['storage_location'],
    registers,
  });
  return {
    bind(source, interval, runningSince) {
      snapshot = source;
      intervalSeconds = interval;
      const bound = Date.now();
      startedSeconds = () => (runningSince?.() ?? bound) / 1000;
    },
    analysed(location, { ok, seconds }) {
      duration.observe({ storage_location: location }, seconds);
      if (ok) lastSuccess.set(location, Date.now() / 1000);
      else failures.inc({ storage_location: location });
    },
    failed(location) {
      failures.inc({ storage_location: location });
    },
  };
}
