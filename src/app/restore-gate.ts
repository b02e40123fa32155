/**
 * The restore gate's use case: judge one item of a Velero restore (docs/restore-gate.md §7).
 * A Cluster API Cluster is judged against the analysis of the restore's backup and comes back
 * annotated (and paused, with pauseOnDrift), or the gate fails it so Velero keeps the Cluster out of
 * the restore. Any other object follows the decision for the backed-up cluster it belongs to
 * (backup/membership.ts): skipped when that cluster is blocked, marked paused or overridden when it
 * is, untouched when it belongs to no cluster. The item bytes are always returned: Velero
 * unmarshals them even when nothing changed or the item is skipped.
 *
 * When the analysis itself fails, failurePolicy decides: Fail fails the item (block mode) with the
 * cause and its kind; Ignore restores it with `driftdetector.dev/status: CheckFailed` and the cause
 * in `driftdetector.dev/check-error` (see gate/decide.ts).
 */
import { claimedCluster, type ClusterKey } from '../backup/membership.js';
import {
  CAPI_PAUSED_ANNOTATION,
  decide,
  decideOnCheckFailure,
  GATE_ANNOTATION_PREFIX,
  OVERRIDE_REASON_ANNOTATION,
  type GateDecision,
} from '../gate/decide.js';
import { restoreOverride } from '../gate/override.js';
import type { DriftReport } from '../model/report.js';
import { parseUntrustedJson } from '../util/json.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';
import { checkBackupName, type DriftService } from './drift-service.js';
import { DomainError, type ErrorKind } from './errors.js';
import { failureKind } from './failures.js';
import { analyzeRestoreBackup } from './restore-backup.js';
import { DEFAULTS } from '../config/defaults.js';

/** One RestoreItemAction Execute, as Velero sends it: JSON of the item, the Restore and the item as backed up. */
export interface ExecuteInput {
  plugin?: string;
  item: Buffer | Uint8Array;
  restore: Buffer | Uint8Array;
  itemFromBackup?: Buffer | Uint8Array;
  /** The BackupStorageLocation the restore's backup is in, when the caller knows it (a remote-mode plugin); else the default. */
  storageLocation?: string;
}

export interface ExecuteOutput {
  item: Buffer;
  /** Velero must not create the item: it belongs to a blocked cluster. */
  skipRestore?: boolean;
  /** For a Cluster: the decision it was restored by. */
  decision?: GateDecision;
}

/** What a door gives one judgement: the caller's signal, and fields for its log line. */
export interface GateCall {
  signal: AbortSignal;
  fields: Record<string, unknown>;
}

/** What a door may count of the gate's decisions. */
export interface GateMetrics {
  verdicts: { inc(labels: { verdict: string; action: string; source: string }): void };
}

type KubeObject = {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown; annotations?: unknown; labels?: unknown; ownerReferences?: unknown };
  spec?: Record<string, unknown>;
};

/** The restore's backup analysed, or why it was not. */
type Unanalysed = { cause: string; kind: ErrorKind; absent: boolean };
type Analysis = { report: DriftReport } | Unanalysed;

/** What every item of one Execute is judged with. */
interface Judgement {
  backupName: string;
  /** The Restore's namespace, where its Backup object is. */
  namespace: string;
  storageLocation: string | undefined;
  override: Record<string, string>;
  signal: AbortSignal;
}

function parseJson(bytes: Buffer | Uint8Array | undefined, field: string): KubeObject {
  if (!bytes || bytes.length === 0) throw new DomainError('invalid-argument', `${field}: empty`);
  let value: unknown;
  try {
    value = parseUntrustedJson(bytes);
  } catch (err) {
    throw new DomainError('invalid-argument', `${field}: ${errorMessage(err)}`);
  }
  if (!isMap(value)) throw new DomainError('invalid-argument', `${field}: not a JSON object`);
  return value;
}

/** What an Execute is about, read leniently for reports: the gate itself validates the JSON fully. */
export interface ExecuteTarget {
  isCluster: boolean;
  /** The item's kind, for log lines. */
  kind: string;
  /** `namespace/name` of the item (the Cluster's, for a Cluster). */
  cluster: string;
  restore?: { name: string; namespace: string; uid?: string };
  /** The Restore's spec.backupName, when it is text. */
  backupName?: string;
}

/** Just enough of the item and the Restore to report on; unreadable JSON is left to the gate, which names the problem. */
export function peekExecute(input: ExecuteInput): ExecuteTarget {
  const restoreObject = peekJson(input.restore);
  const backupName = textOrUndefined(restoreObject?.spec?.['backupName']);
  const item = peekJson(input.item);
  if (!item) return { isCluster: true, kind: 'object', cluster: '?', ...(backupName !== undefined ? { backupName } : {}) };
  const metadata = isMap(item.metadata) ? item.metadata : {};
  const cluster = `${textOrUndefined(metadata.namespace) ?? ''}/${textOrUndefined(metadata.name) ?? '?'}`;
  const restoreMetadata: Record<string, unknown> = isMap(restoreObject?.metadata) ? restoreObject.metadata : {};
  const [name, namespace, uid] = ['name', 'namespace', 'uid'].map((key) => textOrUndefined(restoreMetadata[key]));
  const restore = name && namespace ? { name, namespace, ...(uid !== undefined ? { uid } : {}) } : undefined;
  return {
    isCluster: isCapiCluster(item),
    kind: textOrUndefined(item.kind) ?? 'object',
    cluster,
    ...(restore ? { restore } : {}),
    ...(backupName !== undefined ? { backupName } : {}),
  };
}

function peekJson(bytes: Buffer | Uint8Array | undefined): KubeObject | undefined {
  try {
    return parseJson(bytes, '');
  } catch {
    return undefined;
  }
}

/** A Cluster API Cluster (any cluster.x-k8s.io version): the only item the gate judges. */
export function isCapiCluster(o: { kind?: unknown; apiVersion?: unknown }): boolean {
  return o.kind === 'Cluster' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('cluster.x-k8s.io/');
}

function stringMap(value: unknown): Record<string, string> {
  if (!isMap(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The item's annotations without any gate annotation it brought from the backup, plus `added`:
 * the audit trail cannot be forged through a backup. Undefined when that changes nothing.
 */
function gateAnnotated(item: KubeObject, added: Record<string, string>): Record<string, string> | undefined {
  const own = stringMap(item.metadata?.annotations);
  const kept = Object.fromEntries(Object.entries(own).filter(([key]) => !key.startsWith(GATE_ANNOTATION_PREFIX)));
  const result = { ...kept, ...added };
  const same = Object.keys(result).length === Object.keys(own).length && Object.entries(result).every(([k, v]) => own[k] === v);
  return same ? undefined : result;
}

function textOf(value: unknown): string {
  return textOrUndefined(value) ?? '';
}

function textOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `Kind namespace/name` of an item, for log lines. */
function describeItem(item: KubeObject, namespace: string, name: string): string {
  return `${typeof item.kind === 'string' ? item.kind : 'object'} ${namespace ? `${namespace}/` : ''}${name}`;
}

/**
 * The gate failed the item: the Execute error, with the decision behind it for the caller's summary.
 * Its kind is `blocked`, or the kind of the failed check that made the gate block.
 */
export class GateBlockedError extends DomainError {
  constructor(
    kind: ErrorKind,
    readonly decision: GateDecision,
  ) {
    super(kind, decision.error!);
  }
}

export class RestoreGate {
  /** Decisions per report, by cluster and override: every object of a cluster asks the same question. */
  private readonly decisions = new WeakMap<DriftReport, Map<string, GateDecision>>();

  constructor(
    private readonly service: DriftService,
    private readonly logger: Logger,
    private readonly metrics?: GateMetrics,
  ) {}

  async execute(input: ExecuteInput, call: GateCall): Promise<ExecuteOutput> {
    const item = parseJson(input.item, 'item');
    const restore = parseJson(input.restore, 'restore');
    const backupName = checkBackupName(restore.spec?.['backupName'], 'restore: spec.backupName');
    const override = restoreOverride(stringMap(restore.metadata?.labels), stringMap(restore.metadata?.annotations));
    // The item's namespace is still the backed-up one (Velero maps it after the actions run).
    const fromBackup = input.itemFromBackup && input.itemFromBackup.length ? parseJson(input.itemFromBackup, 'itemFromBackup') : undefined;
    const namespace = textOf(item.metadata?.namespace) || textOf(fromBackup?.metadata?.namespace);
    const name = item.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new DomainError('invalid-argument', 'item: metadata.name: required');
    const restoreName = typeof restore.metadata?.name === 'string' ? restore.metadata.name : undefined;
    const restoreNamespace = typeof restore.metadata?.namespace === 'string' ? restore.metadata.namespace : DEFAULTS.velero.namespace;
    const judgement = { backupName, namespace: restoreNamespace, storageLocation: input.storageLocation, override, signal: call.signal };
    if (input.storageLocation !== undefined) call.fields['storageLocation'] = input.storageLocation;
    if (!isCapiCluster(item)) {
      Object.assign(call.fields, { backup: backupName, object: describeItem(item, namespace, name), restore: restoreName });
      return this.executeMember(input, item, fromBackup ?? item, judgement);
    }
    Object.assign(call.fields, { backup: backupName, cluster: `${namespace}/${name}`, restore: restoreName });
    const decision = await this.judge(judgement, namespace, name);
    const metadata = (item.metadata ??= {});
    metadata.annotations = gateAnnotated(item, decision.annotations) ?? stringMap(metadata.annotations);
    if (decision.paused) item.spec = { ...(item.spec ?? {}), paused: true };
    return { item: Buffer.from(JSON.stringify(item)), decision };
  }

  /**
   * Any other object: the decision of its cluster. Skipped when the cluster is blocked (the
   * Cluster item carries the full message), marked when paused or overridden, untouched when it
   * belongs to no cluster of the backup. Owners are read from the backed-up copy: Velero has
   * already removed them from the item.
   */
  private async executeMember(input: ExecuteInput, item: KubeObject, backedUp: KubeObject, judgement: Judgement): Promise<ExecuteOutput> {
    const untouched = { item: Buffer.from(input.item) };
    const found = await this.memberDecision(backedUp, judgement);
    if (!found) return untouched;
    const { cluster, decision } = found;
    const object = describeItem(item, textOf(backedUp.metadata?.namespace), textOf(item.metadata?.name));
    const fields = { backup: judgement.backupName, cluster: `${cluster.namespace}/${cluster.name}`, object, status: decision.status };
    if (decision.action === 'fail') {
      this.logger.warn(
        `skipped ${object}: Cluster ${cluster.namespace}/${cluster.name} is blocked by drift-detector (${decision.status})`,
        fields,
      );
      return { ...untouched, skipRestore: true };
    }
    const added: Record<string, string> = {};
    if (decision.overridden) added[OVERRIDE_REASON_ANNOTATION] = decision.annotations[OVERRIDE_REASON_ANNOTATION]!;
    if (decision.paused) added[CAPI_PAUSED_ANNOTATION] = 'true';
    const annotations = gateAnnotated(item, added);
    if (!annotations) return untouched;
    if (decision.paused) this.logger.info(`restoring ${object} paused: Cluster ${cluster.namespace}/${cluster.name} has drift`, fields);
    item.metadata = { ...(item.metadata ?? {}), annotations };
    return { item: Buffer.from(JSON.stringify(item)) };
  }

  /** The object's cluster and its decision; undefined for an object of no cluster. */
  private async memberDecision(object: KubeObject, judgement: Judgement): Promise<{ cluster: ClusterKey; decision: GateDecision } | undefined> {
    const { override } = judgement;
    const analysis = await this.analysisOf(judgement);
    if (!('report' in analysis)) {
      // Without the analysis only what the object says of itself tells its cluster.
      const cluster = claimedCluster(object);
      return cluster && { cluster, decision: this.withoutReport(analysis, cluster.namespace, cluster.name, override) };
    }
    const { report } = analysis;
    const cluster = this.service.membershipOf(report).clusterOf(object);
    if (!cluster) return undefined;
    let byCluster = this.decisions.get(report);
    if (!byCluster) this.decisions.set(report, (byCluster = new Map<string, GateDecision>()));
    const key = JSON.stringify([cluster.namespace, cluster.name, override]);
    let decision = byCluster.get(key);
    if (!decision) byCluster.set(key, (decision = decide(report, cluster.namespace, cluster.name, override, this.service.gate)));
    return { cluster, decision };
  }

  /** The analysis of the restore's backup, found by the rule every gating door shares (restore-backup.ts). */
  private async analysisOf({ backupName, namespace, storageLocation, signal }: Judgement): Promise<Analysis> {
    let analysis;
    try {
      analysis = await analyzeRestoreBackup(this.service, {
        backup: backupName,
        namespace,
        ...(storageLocation !== undefined ? { storageLocation } : {}),
        signal,
      });
    } catch (err) {
      // The caller went away: nothing to decide for.
      if (signal.aborted) throw err;
      return { cause: errorMessage(err), kind: failureKind(err), absent: false };
    }
    if (analysis.outcome === 'analysed') return { report: analysis.report };
    if (analysis.outcome === 'absent') return { cause: analysis.warning, kind: 'not-found', absent: true };
    return { cause: `backup ${backupName}: ${analysis.message}`, kind: failureKind(analysis.error), absent: false };
  }

  /** No report: a backup absent from its bucket is restored unchecked; a location that failed is failurePolicy's. */
  private withoutReport(analysis: Unanalysed, namespace: string, name: string, override: Record<string, string>): GateDecision {
    const gate = analysis.absent ? { ...this.service.gate, failurePolicy: 'Ignore' as const } : this.service.gate;
    return decideOnCheckFailure(namespace, name, override, gate, analysis.cause);
  }

  /** The decision for the Cluster; a decision to fail the item is thrown as a GateBlockedError. */
  private async judge(judgement: Judgement, namespace: string, name: string): Promise<GateDecision> {
    const { backupName, override } = judgement;
    const gate = this.service.gate;
    let decision: GateDecision;
    let failure: ErrorKind | undefined;
    const analysis = await this.analysisOf(judgement);
    if ('report' in analysis) {
      decision = decide(analysis.report, namespace, name, override, gate);
    } else {
      failure = analysis.kind;
      decision = this.withoutReport(analysis, namespace, name, override);
    }
    this.metrics?.verdicts.inc({ verdict: decision.verdict, action: decision.action, source: 'execute' });
    const fields = {
      backup: backupName,
      cluster: `${namespace}/${name}`,
      status: decision.status,
      verdict: decision.verdict,
      action: decision.action,
    };
    if (decision.action === 'fail') {
      this.logger.warn('restore of the Cluster blocked', { ...fields, reason: decision.reason });
      throw new GateBlockedError(failure === undefined || failure === 'internal' ? 'blocked' : failure, decision);
    }
    this.logger.info(decision.overridden ? 'restore of the Cluster allowed by override' : 'restore of the Cluster allowed', {
      ...fields,
      ...(decision.overridden ? { overrideReason: decision.annotations[OVERRIDE_REASON_ANNOTATION] } : {}),
    });
    return decision;
  }
}
