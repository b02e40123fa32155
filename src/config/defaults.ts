/**
 * Every default of the product, written once. The CLI's flags, the service's YAML and environment
 * variables, the plugin's ConfigMap and the modules' own options take a value from here when they
 * are not given one; help texts and docs/ state these values, they do not restate them.
 *
 * Fixed bounds that nobody can change (the largest item of a tarball, the longest override
 * reason) stay beside the code they protect: they are limits, not defaults.
 */
import type { GateConfig } from '../gate/decide.js';
import type { LogLevel } from '../util/jsonlog.js';

/** Where the readiness watch lists a location's finished backups. */
export const WATCH_SOURCES = ['auto', 'bucket', 'cluster'] as const;
export type WatchSource = (typeof WATCH_SOURCES)[number];

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/** Bound on one analysis in the service; `check` waits for that long by default. */
const SERVICE_ANALYSIS_TIMEOUT_MS = 15 * MINUTE;

export const DEFAULTS = freeze({
  /** The restore gate, in the service and in the plugin: block a drifted Cluster, fail closed. */
  gate: { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false } satisfies GateConfig,
  /** What one analysis reads, whichever door asks for it. */
  analysis: {
    skipAccessApiServer: false,
    insecureSkipVerify: false,
    /** A failed analysis is kept briefly, so that a burst of calls does not repeat it. */
    failureCacheTtlMs: 15 * SECOND,
  },
  vsphere: {
    /** Deadline of each request to a vCenter. */
    requestTimeoutMs: 30 * SECOND,
    /** Objects per RetrievePropertiesEx page. */
    pageSize: 500,
    /** vCenters read at the same time. */
    concurrency: 4,
    /** Bound on the whole inventory walk of one vCenter, every page included. */
    walkTimeoutMs: 10 * MINUTE,
    /** Pages of one walk at most: at the default page size, far more than any vCenter holds. */
    maxPages: 1000,
    /** Objects (VMs and the folders, pools... above them) of one walk at most. */
    maxObjects: 200_000,
    /** Characters of one SOAP answer at most: a page of 500 VMs is a few MiB. */
    maxResponseChars: 64 * 1024 * 1024,
  },
  /** The workload clusters' API servers, where their Nodes are read. */
  apiserver: {
    /** Bound on the whole Node listing of one workload cluster. */
    timeoutMs: 10 * SECOND,
    /** Nodes per page (`limit`). */
    pageSize: 500,
    /** Workload clusters read at the same time. */
    concurrency: 8,
  },
  /** `drift-detector remediate --apply`. */
  remediate: {
    /** A report older than this is refused: the vCenter may have moved on since. */
    maxReportAgeMs: 60 * MINUTE,
    /** Bound on one vCenter task (power off, destroy). */
    taskTimeoutMs: 5 * MINUTE,
    /** Pause between two reads of a task's state. */
    taskPollMs: 500,
  },
  /** What is read from a backup tarball. */
  backup: {
    /**
     * Bound on the bytes kept from one backup (the objects the analysis reads, Secrets slimmed):
     * a management cluster's are tens of MiB; a backup that passes this is refused.
     */
    maxRetainedBytes: 512 * 1024 * 1024,
    /**
     * Velero writes `metadata/version` first and `resources/` right after: an archive that shows
     * neither within this many entries, or this many bytes of tar data, is not a Velero backup.
     */
    probeEntries: 1000,
    probeBytes: 64 * 1024 * 1024,
  },
  /** The object storage that holds the backups. */
  storage: {
    /** Bound on each try of a request: connecting, waiting for the answer, and a download that stalls this long. */
    requestTimeoutMs: 30 * SECOND,
    /** Tries per request, retries included: alone, a store that never answers would cost tries x the timeout. */
    maxAttempts: 3,
    /** Bound on one whole read from the bucket (a backup's tarball, one look at a location's backups): every try and the download. */
    deadlineMs: 10 * MINUTE,
    /** When the location names none (the AWS SDK needs one, S3-compatible stores ignore it). */
    region: 'us-east-1',
  },
  velero: {
    /** Where Velero and its BackupStorageLocations live. */
    namespace: 'velero',
  },
  /** The plugin's reads and writes in Velero's cluster (ConfigMap, Secrets, Backups, Restores). */
  kube: {
    requestTimeoutMs: 10 * SECOND,
    /** Objects per page of a listing (`limit`). */
    pageSize: 500,
    /** How long the storage location a Backup names is kept (a Backup's spec does not change). */
    backupLocationTtlMs: 10 * MINUTE,
    /**
     * Bytes of one answer at most (a page of a listing, an object): a page of 500 Backups or
     * Nodes is a few MiB. Reading stops past it, and the call fails naming what it read. Every
     * Kubernetes call has it, the workload clusters' Node listings too.
     */
    maxResponseBytes: 64 * 1024 * 1024,
    /** An idle kept-alive connection is closed after this, well before an API server or load balancer would drop it under a request. */
    idleConnectionMs: 30 * SECOND,
  },
  /** `drift-detector serve`. */
  service: {
    listen: '127.0.0.1:50051',
    logLevel: 'info' as const satisfies LogLevel,
    analysisTimeoutMs: SERVICE_ANALYSIS_TIMEOUT_MS,
    /** How long a finished analysis is reused. */
    cacheTtlMs: 10 * MINUTE,
    /** Finished analyses kept at most; the oldest go first. */
    maxCachedAnalyses: 64,
    /** Analyses of different backups running at once. */
    maxConcurrentAnalyses: 4,
    maxReceiveMessageBytes: 128 * 1024 * 1024,
    /** Calls in flight may finish for this long after SIGTERM. */
    shutdownTimeoutMs: 10 * SECOND,
    /** Where serve's own objects live (its Lease, its verdict key) when the pod's service account does not say. */
    namespace: 'drift-detector',
    /** A result of the readiness watch stands for a fresh analysis for this long (the gate answers from it). */
    analysisMaxAgeMs: 10 * MINUTE,
  },
  /** `serve`'s readiness watch: the newest Completed backup of each location, re-analysed continuously. */
  watch: {
    enabled: false,
    /** Re-analysis of the newest backup against today's vCenters. */
    intervalMs: 10 * MINUTE,
    /** The bucket is listed at most this far apart (and at least once an interval), so a new backup is seen soon. */
    maxListingIntervalMs: 1 * MINUTE,
    /** Kubernetes Events on the BackupStorageLocation when its newest backup turns (un)restorable. */
    events: true,
    /** Where the finished backups are listed: the cluster's Backup objects when serve has a cluster, else the bucket. */
    source: 'auto' as const satisfies WatchSource,
    /** Completed backups of each location kept with a verdict: the newest, and older ones a denial can point to. */
    depth: 3,
    /** Re-analysis of the older backups of `depth` (the newest: every interval). */
    olderIntervalMs: 60 * MINUTE,
    /** A completion further than this past the service's clock is a clock that runs ahead: a warning, not the newest backup. */
    clockSkewMs: 5 * MINUTE,
    /** One replica runs the watch, through a coordination.k8s.io/v1 Lease (client-go's timings). */
    leaderElection: Object.freeze({
      enabled: true,
      leaseName: 'drift-detector-readiness',
      leaseDurationMs: 15 * SECOND,
      renewDeadlineMs: 10 * SECOND,
      retryPeriodMs: 2 * SECOND,
    }),
    /** The Secret (in the service's namespace) whose key signs the verdicts written on Backups; created when absent. */
    verdictKeySecret: 'drift-detector-verdict-key',
  },
  /** The admission webhook of `serve` (no listener unless webhook.listen is set). */
  webhook: {
    /** Answer within this, under the API server's timeoutSeconds of 10 (deploy/webhook). */
    deadlineMs: 8 * SECOND,
    /** How often the TLS files are checked for a new certificate (cert-manager rotates them in place). */
    certPollMs: 30 * SECOND,
    /** A client must finish its TLS handshake, then its request headers, within this. */
    headersTimeoutMs: 10 * SECOND,
    /** The whole request (body and answer) may take the deadline plus this. */
    requestSlackMs: 2 * SECOND,
    /** An idle keep-alive connection is closed after this (kube-apiserver reopens one at will). */
    keepAliveTimeoutMs: 5 * SECOND,
    /** Connections at once; more are closed as they come. */
    maxConnections: 1024,
    /**
     * Bytes of request bodies held at once beyond the first 64 KiB of each (a Restore's review is a
     * few KiB): past it, a large body is refused with 503 instead of held.
     */
    maxBufferedBytes: 16 * 1024 * 1024,
  },
  /** The Velero plugin, which lives for one restore. */
  plugin: {
    /** Velero gives Execute no deadline: this bounds one analysis. */
    analysisTimeoutMs: 10 * MINUTE,
    /** The analysis is kept for the life of the process (one restore). */
    cacheTtlMs: 60 * MINUTE,
    maxConcurrentAnalyses: 2,
    /** remoteTLS: TLS with the system CAs even without a CA in the Secret. */
    remoteTls: false,
    /** Deadline of each call to a remote `drift-detector serve`. */
    remoteTimeoutMs: 10 * MINUTE,
  },
  /** `drift-detector detect`. */
  detect: {
    /** Bound on the whole run: backup, every vCenter, every workload cluster. */
    timeoutMs: 60 * MINUTE,
  },
  /** `drift-detector unpause`: the forecast, the guarded unpause and its tripwire. */
  unpause: {
    /** Bound on the whole forecast: the management cluster, every vCenter, every workload cluster. */
    timeoutMs: 30 * MINUTE,
    /**
     * Bound on one call to the management cluster, every page of a listing included: thousands of
     * Machines and VSphereVMs are listed in one call.
     */
    kubeTimeoutMs: 2 * MINUTE,
    /** The tripwire lists the Machines again this often while their watch cannot be opened. */
    relistMs: 5 * SECOND,
    /** Bound on opening one watch of the Machines. */
    watchConnectTimeoutMs: 10 * SECOND,
    /** The API server ends each watch after this long; the Machines are listed again and a new watch opened. */
    watchSeconds: 300,
    /** The tripwire reads the workload cluster's etcd members this often. */
    etcdPollMs: 15 * SECOND,
  },
  /** `drift-detector check`. */
  check: {
    /** Deadline of the call: long enough for a whole analysis on the service. */
    timeoutMs: SERVICE_ANALYSIS_TIMEOUT_MS,
  },
});

/** Read-only in types and at run time: a caller that wants to change a default copies it. */
function freeze<T extends Record<string, object>>(table: T): { readonly [K in keyof T]: Readonly<T[K]> } {
  for (const section of Object.values(table)) Object.freeze(section);
  return Object.freeze(table);
}
