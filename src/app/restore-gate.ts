/**
 * The restore gate's use case: judge one Cluster item of a Velero restore (docs/restore-gate.md).
 * A Cluster API Cluster is judged against the analysis of the restore's backup and comes back
 * annotated (and paused, with pauseOnDrift), or the gate fails it so Velero keeps the Cluster out of
 * the restore. On success the item bytes are always returned: Velero unmarshals them even when
 * nothing changed; any other item passes untouched.
 *
 * When the analysis itself fails, failurePolicy decides: Fail fails the item (block mode) with the
 * cause and its kind; Ignore restores it with `driftdetector.dev/status: CheckFailed` and the cause
 * in `driftdetector.dev/check-error` (see gate/decide.ts).
 */
import { decide, decideOnCheckFailure, OVERRIDE_REASON_ANNOTATION, type GateDecision } from '../gate/decide.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';
import { checkBackupName, type DriftService } from './drift-service.js';
import { DomainError, type ErrorKind } from './errors.js';
import { failureKind } from './failures.js';

/** One RestoreItemAction Execute, as Velero sends it: JSON of the item, the Restore and the item as backed up. */
export interface ExecuteInput {
  plugin?: string;
  item: Buffer | Uint8Array;
  restore: Buffer | Uint8Array;
  itemFromBackup?: Buffer | Uint8Array;
}

export interface ExecuteOutput {
  item: Buffer;
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
  metadata?: { name?: unknown; namespace?: unknown; annotations?: unknown };
  spec?: Record<string, unknown>;
};

function parseJson(bytes: Buffer | Uint8Array | undefined, field: string): KubeObject {
  if (!bytes || bytes.length === 0) throw new DomainError('invalid-argument', `${field}: empty`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new DomainError('invalid-argument', `${field}: not valid JSON (${bytes.length} bytes)`);
  }
  if (!isMap(value)) throw new DomainError('invalid-argument', `${field}: not a JSON object`);
  return value;
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
  constructor(
    private readonly service: DriftService,
    private readonly logger: Logger,
    private readonly metrics?: GateMetrics,
  ) {}

  async execute(input: ExecuteInput, call: GateCall): Promise<ExecuteOutput> {
    const item = parseJson(input.item, 'item');
    // Velero only sends what AppliesTo selected; anything else passes untouched.
    if (!isCapiCluster(item)) return { item: Buffer.from(input.item) };
    const restore = parseJson(input.restore, 'restore');
    const backupName = checkBackupName(restore.spec?.['backupName'], 'restore: spec.backupName');
    const restoreAnnotations = stringMap(restore.metadata?.annotations);
    // The item's namespace is still the backed-up one (Velero maps it after the actions run).
    const fromBackup = input.itemFromBackup && input.itemFromBackup.length ? parseJson(input.itemFromBackup, 'itemFromBackup') : undefined;
    const namespace = [item.metadata?.namespace, fromBackup?.metadata?.namespace].find((n): n is string => typeof n === 'string') ?? '';
    const name = item.metadata?.name;
    if (typeof name !== 'string' || name === '') throw new DomainError('invalid-argument', 'item: metadata.name: required');
    Object.assign(call.fields, {
      backup: backupName,
      cluster: `${namespace}/${name}`,
      restore: typeof restore.metadata?.name === 'string' ? restore.metadata.name : undefined,
    });

    const decision = await this.judge(backupName, namespace, name, restoreAnnotations, call.signal);
    const metadata = (item.metadata ??= {});
    metadata.annotations = { ...stringMap(metadata.annotations), ...decision.annotations };
    if (decision.paused) item.spec = { ...(item.spec ?? {}), paused: true };
    return { item: Buffer.from(JSON.stringify(item)), decision };
  }

  /** The decision for the Cluster; a decision to fail the item is thrown as a GateBlockedError. */
  private async judge(
    backupName: string,
    namespace: string,
    name: string,
    annotations: Record<string, string>,
    signal: AbortSignal,
  ): Promise<GateDecision> {
    const gate = this.service.gate;
    let decision: GateDecision;
    let failure: ErrorKind | undefined;
    try {
      const { report } = await this.service.analyze(backupName, { signal });
      decision = decide(report, namespace, name, annotations, gate);
    } catch (err) {
      // The caller went away: nothing to decide for.
      if (signal.aborted) throw err;
      failure = failureKind(err);
      decision = decideOnCheckFailure(namespace, name, annotations, gate, errorMessage(err));
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
