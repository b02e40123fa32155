/**
 * The one use case every door calls: detect the drift of one backup.
 * Sources (backup, vSphere, workload Nodes) are read here; the analysis itself is pure.
 */
import { readBackup } from '../backup/reader.js';
import type { BackupSource } from '../backup/source.js';
import { backedUpClusters } from '../backup/topology.js';
import { vcenterTargetsOf, type VCenterTarget } from '../backup/vcenter-targets.js';
import { excludedManagementClusters, kubeconfigOf, misplacedManagementLabel } from '../backup/workload-clusters.js';
import { analyzeDrift } from '../drift/analyze.js';
import type { IgnoreRules } from '../drift/ignore.js';
import type { BackupObjects } from '../model/backup.js';
import type { CertificateProblem, InventorySnapshot, VCenterListing } from '../model/inventory.js';
import type { DriftReport, ReportError } from '../model/report.js';
import { vcenterKey, type CredentialOverrides } from '../model/vcenter.js';
import type { WorkloadNodeListing } from '../model/workload.js';
import type { VimTarget } from '../vsphere/inventory.js';
import { DETECTOR_VERSION } from '../version.js';

export type DetectStage = 'backup' | 'vsphere' | 'workload' | 'analysis';

export interface ProgressEvent {
  stage: DetectStage;
  message: string;
}

/**
 * What only the door that runs the detection can say: where its credential overrides come from,
 * and how an operator gives vCenter credentials through it. The use case words the problem; the
 * door's hint says what to do about it.
 */
export interface DoorWords {
  /** E.g. `the command line or environment`; for the debug log. */
  overridesFrom: string;
  /** Appended to "no vSphere credentials (...)", e.g. `give --vsphere-username ...`. */
  credentialsHint: string;
  /** Appended to a refused vCenter certificate: how to trust it, or where its thumbprint is pinned, through this door. */
  certificateHints?: Record<CertificateProblem, string>;
  /** How to trust a vCenter (its key) with the operator's credentials, e.g. `give --vsphere-trusted-host vc01`. */
  trustHint: (vcenter: string) => string;
}

export interface DetectOptions {
  insecureSkipVerify?: boolean;
  skipAccessApiServer?: boolean;
  /** VMs the operator knows (an ignore file): out of scope unless they are Ghosts. */
  ignore?: IgnoreRules;
  /** Use this inventory snapshot instead of live vCenters. */
  inventory?: { path: string; snapshot: InventorySnapshot };
  credentials?: CredentialOverrides;
  /** The calling door's words for its messages. */
  words?: DoorWords;
  vcenterTimeoutMs?: number;
  /** Bound on the bytes kept from the backup. */
  backupMemoryBudgetBytes?: number;
  apiserverTimeoutMs?: number;
  apiserverConcurrency?: number;
  signal?: AbortSignal;
  debug?: (message: string) => void;
  onProgress?: (event: ProgressEvent) => void;
  /** Sees the backup's objects once read (the restore gate indexes which cluster each object belongs to). */
  onBackupRead?: (objects: BackupObjects) => void;
  /** For the report's metadata; tests pin it. */
  now?: () => Date;
}

/** The debug log and the progress events of one detection. */
function reporterOf(options: DetectOptions): { debug: (message: string) => void; progress: (stage: DetectStage, message: string) => void } {
  const debug = options.debug ?? (() => {});
  const progress = (stage: DetectStage, message: string) => {
    debug(`${stage}: ${message}`);
    options.onProgress?.({ stage, message });
  };
  return { debug, progress };
}

export async function detectDrift(source: BackupSource, options: DetectOptions = {}): Promise<DriftReport> {
  const { debug, progress } = reporterOf(options);

  progress('backup', `reading ${source.description}`);
  const objects = await readBackup(source, { signal: options.signal, debug, maxRetainedBytes: options.backupMemoryBudgetBytes });
  options.onBackupRead?.(objects);
  return detectDriftOf(objects, source.description, options);
}

/** The detection of a backup already read (remediate reads it once for both the check and its own needs). */
export async function detectDriftOf(objects: BackupObjects, backup: string, options: DetectOptions = {}): Promise<DriftReport> {
  const { debug, progress } = reporterOf(options);
  const clusters = backedUpClusters(objects);
  const excluded = excludedManagementClusters(objects);
  const machines = clusters.reduce((n, c) => n + c.machines.length, 0);
  progress('backup', `${clusters.length} clusters, ${machines} machines`);
  const errors: ReportError[] = excluded.map((e) => ({ scope: `cluster:${e.namespace}/${e.name}`, message: e.reason, severity: 'warning' }));
  for (const c of objects.clusters) {
    const namespace = c.metadata.namespace ?? '';
    const message = misplacedManagementLabel(namespace, c.metadata.name, c.metadata.labels);
    if (message) errors.push({ scope: `cluster:${namespace}/${c.metadata.name}`, message, severity: 'warning' });
  }

  const targets = vcenterTargetsOf(objects);
  let vcenters: VCenterListing[];
  if (options.inventory) {
    progress('vsphere', `using inventory snapshot ${options.inventory.path} taken ${options.inventory.snapshot.takenAt}`);
    vcenters = fromSnapshot(targets, options.inventory.path, options.inventory.snapshot);
  } else {
    progress('vsphere', `listing ${targets.length} vCenter(s): ${targets.map((t) => t.vcenter).join(', ')}`);
    vcenters = await listLive(targets, options, debug);
    // A listing cut short by the caller's deadline is no finding about the vCenter: the run failed.
    options.signal?.throwIfAborted();
  }
  for (const v of vcenters) {
    progress('vsphere', v.ok ? `${v.vcenter}: ${v.vms.length} VMs` : `${v.vcenter}: not listed: ${v.reason}`);
  }

  let workloads: WorkloadNodeListing[] | undefined;
  if (options.skipAccessApiServer) {
    progress('workload', 'API servers not contacted (asked to skip them)');
  } else {
    const requests = clusters.flatMap((c) => {
      const kubeconfig = kubeconfigOf(objects, c.namespace, c.name);
      return kubeconfig ? [{ namespace: c.namespace, cluster: c.name, kubeconfig }] : [];
    });
    progress('workload', `reading Nodes of ${requests.length} workload cluster(s)`);
    // The Kubernetes client is heavy to load; only runs that read Nodes pay for it.
    const { listAllWorkloadNodes } = await import('../workload/nodes.js');
    workloads = await listAllWorkloadNodes(requests, {
      timeoutMs: options.apiserverTimeoutMs,
      concurrency: options.apiserverConcurrency,
      insecureSkipVerify: options.insecureSkipVerify,
      signal: options.signal,
      debug,
    });
  }

  options.signal?.throwIfAborted();
  progress('analysis', 'comparing');
  const report = analyzeDrift({ clusters, vcenters, workloads, errors, ignore: options.ignore });
  report.metadata = {
    backup,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    detectorVersion: DETECTOR_VERSION,
    apiServerAccess: !options.skipAccessApiServer,
    vcenters: vcenters.map((v) => v.vcenter),
    ...(options.ignore ? { ignoreFile: options.ignore.source } : {}),
  };
  progress('analysis', `done: ${report.summary.status}`);
  return report;
}

function fromSnapshot(targets: VCenterTarget[], path: string, snapshot: InventorySnapshot): VCenterListing[] {
  return targets.map((t) => {
    const found = snapshot.vcenters.find((v) => v.vcenter === t.vcenter);
    return found
      ? { ok: true, ...found }
      : { ok: false, vcenter: t.vcenter, reason: `the inventory snapshot ${path} holds no vCenter ${t.vcenter}` };
  });
}

async function listLive(targets: VCenterTarget[], options: DetectOptions, debug: (m: string) => void): Promise<VCenterListing[]> {
  const { ready, missing } = withCredentials(targets, options.credentials, options.words);
  for (const t of ready) debug(`vsphere: ${vcenterKey(t.server)}: credentials from ${t.credentialsFrom}`);
  const { listVCenters } = await import('../vsphere/inventory.js');
  const listed = await listVCenters(ready, {
    insecureSkipVerify: options.insecureSkipVerify,
    timeoutMs: options.vcenterTimeoutMs,
    signal: options.signal,
    debug,
  });
  const from = new Map(ready.map((t) => [vcenterKey(t.server), t.credentialsFrom]));
  const hinted = listed.map((l) => withLoginHint(withCertificateHint(l, options.words?.certificateHints), from.get(l.vcenter), options.words));
  return [...hinted, ...missing];
}

/** Credentials a vCenter refused: where they came from, and how the door takes others. */
function withLoginHint(listing: VCenterListing, credentialsFrom: string | undefined, words: DoorWords | undefined): VCenterListing {
  if (listing.ok || !listing.loginRefused || !words?.credentialsHint) return listing;
  return {
    ...listing,
    reason: `${listing.reason}; they came from ${credentialsFrom ?? 'the backup'}: to give others, ${words.credentialsHint}`,
  };
}

/** A refused certificate's reason with the door's hint (how to trust or pin it there). */
export function withCertificateHint(listing: VCenterListing, hints: Record<CertificateProblem, string> | undefined): VCenterListing {
  if (listing.ok || !listing.certificate || !hints) return listing;
  return { ...listing, reason: `${listing.reason}; ${hints[listing.certificate]}` };
}

/**
 * Pairs each vCenter with its credentials: per-vCenter overrides, then global overrides, then what
 * the backup holds. A vCenter without credentials becomes a failed listing that says what is
 * missing, and with the door's hint, how to give it.
 */
export function withCredentials(
  targets: VCenterTarget[],
  overrides: CredentialOverrides | undefined,
  words: DoorWords = { overridesFrom: 'the operator', credentialsHint: '', trustHint: () => '' },
): { ready: (VimTarget & { credentialsFrom: string })[]; missing: VCenterListing[] } {
  const ready: (VimTarget & { credentialsFrom: string })[] = [];
  const missing: VCenterListing[] = [];
  for (const target of targets) {
    const perServer = Object.entries(overrides?.byServer ?? {}).find(([server]) => vcenterKey(server) === target.vcenter)?.[1];
    const username = perServer?.username ?? overrides?.username ?? target.credentials?.username;
    const password = perServer?.password ?? overrides?.password ?? target.credentials?.password;
    if (!username || !password) {
      missing.push({
        ok: false,
        vcenter: target.vcenter,
        reason: `no vSphere credentials${target.credentialsProblem ? ` (${target.credentialsProblem})` : ''}${words.credentialsHint ? `: ${words.credentialsHint}` : ''}`,
      });
      continue;
    }
    const overridden = perServer?.username || perServer?.password || overrides?.username || overrides?.password;
    const trust = overrides?.trust;
    const operatorThumbprint = trust?.thumbprints?.[target.vcenter];
    // The backup's thumbprint vouches for the backup's password, not for the operator's.
    const operatorPassword = Boolean(perServer?.password || overrides?.password);
    const trusted = !operatorPassword || operatorThumbprint !== undefined || trust?.hosts?.includes(target.vcenter) === true;
    const thumbprint = operatorThumbprint ?? (trusted ? target.thumbprint : undefined);
    ready.push({
      server: target.server,
      ...(thumbprint ? { thumbprint } : {}),
      ...(trust?.ca ? { ca: trust.ca } : {}),
      ...(trusted ? {} : { untrustedHint: words.trustHint(target.vcenter) }),
      username,
      password,
      credentialsFrom: overridden ? words.overridesFrom : (target.credentialsFrom ?? 'the backup'),
    });
  }
  return { ready, missing };
}
