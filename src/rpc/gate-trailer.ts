/**
 * The gate's decision travels with a failed Execute as a trailer, so a remote caller (the plugin
 * with remoteEndpoint) records the cluster's real status rather than just the error's words:
 * `driftdetector-decision-bin`, the JSON of the decision's summary. Velero ignores trailers.
 */
import { Metadata } from '@grpc/grpc-js';
import type { GateBlockedError } from '../app/restore-gate.js';
import type { GateAction, GateStatus } from '../gate/decide.js';
import type { Verdict } from '../gate/verdict.js';
import { isMap } from '../util/values.js';

export const DECISION_TRAILER = 'driftdetector-decision-bin';

/** What a caller learns of the decision behind a failed Execute. */
export interface DecisionSummary {
  /** `namespace/name` of the Cluster. */
  cluster: string;
  status: GateStatus;
  verdict: Verdict;
  action: GateAction;
  overridden: boolean;
}

/** Trailers for an error: the decision of a blocked Cluster, nothing for any other error. */
export function trailersOf(err: unknown): Metadata {
  const metadata = new Metadata();
  // Recognised by its shape: this module stays free of the gate's code (a client loads it too).
  const decision = err instanceof Error ? (err as Partial<GateBlockedError>).decision : undefined;
  if (decision) {
    const { namespace, name, status, verdict, action, overridden } = decision;
    const summary: DecisionSummary = { cluster: `${namespace}/${name}`, status, verdict, action, overridden };
    metadata.set(DECISION_TRAILER, Buffer.from(JSON.stringify(summary)));
  }
  return metadata;
}

/** The decision a peer sent with its error; undefined when it sent none, or nothing usable. */
export function decisionOf(trailers: Metadata | undefined): DecisionSummary | undefined {
  const value = trailers?.get(DECISION_TRAILER)[0];
  if (!Buffer.isBuffer(value)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isMap(parsed)) return undefined;
  const { cluster, status, verdict, action, overridden } = parsed;
  if (typeof cluster !== 'string' || typeof status !== 'string' || (verdict !== 'ALLOW' && verdict !== 'BLOCK')) return undefined;
  if (action !== 'restore' && action !== 'pause' && action !== 'fail') return undefined;
  return { cluster, status: status as GateStatus, verdict, action, overridden: overridden === true };
}
