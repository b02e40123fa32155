/** driftdetector.v1.DriftDetector: GetReadiness and WatchReadiness, from the readiness watch's state or, on a follower, the signed verdicts. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { verdictOfReadiness } from '../app/backup-verdict.js';
import { DomainError } from '../app/errors.js';
import type { LocationReadiness } from '../app/readiness.js';
import type { ReadinessView } from '../app/readiness-view.js';
import { serverStream, unary, type CallContext, type CallEnvironment } from '../rpc/calls.js';

interface ReadinessRequest {
  storage_location: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export function locationMessage(s: LocationReadiness) {
  const verdict = s.readiness && s.analyzedAt !== undefined ? verdictOfReadiness(s.readiness, s.analyzedAt) : s.verdict;
  const judged = verdict && verdict.verdict !== 'Failed' ? verdict : undefined;
  return {
    storage_location: s.location,
    backup: s.backup?.name ?? '',
    backup_completed_at: iso(s.backup?.completedAt),
    analyzed: judged !== undefined,
    restorable: judged?.verdict === 'Restorable',
    summary_status: s.readiness?.status ?? '',
    clusters: (s.readiness?.clusters ?? []).map((c) => ({
      namespace: c.namespace,
      name: c.name,
      status: c.status,
      verdict: c.verdict,
      ghost_machines: c.ghostMachines,
      stale_machines: c.staleMachines,
      unknown_machines: c.unknownMachines,
    })),
    infra_machines_to_confirm: s.readiness?.infraMachinesToConfirm ?? 0,
    analyzed_at: iso(s.analyzedAt),
    error: s.error ?? '',
    not_checked: s.notChecked ?? '',
    verdict: judged?.verdict ?? '',
    verdict_summary: judged?.summary ?? '',
    from_verdicts: s.readiness === undefined && s.verdict !== undefined,
  };
}

function viewOf(view: ReadinessView | undefined): ReadinessView {
  if (!view) throw new DomainError('misconfigured', 'the readiness watch is not running');
  return view;
}

/** The locations a request asks for; an unknown name is invalid. */
function wanted(view: ReadinessView, request: ReadinessRequest, ctx: CallContext): Set<string> {
  const all = view.locations();
  if (!request.storage_location) return new Set(all);
  ctx.fields['storageLocation'] = request.storage_location;
  if (!all.includes(request.storage_location)) {
    throw new DomainError('invalid-argument', `storage location "${request.storage_location.slice(0, 80)}" is not configured`);
  }
  return new Set([request.storage_location]);
}

/** GetReadiness and WatchReadiness: the same answer on every replica (readiness-view.ts). */
export function readinessImplementation(env: CallEnvironment, readiness: ReadinessView | undefined): UntypedServiceImplementation {
  return {
    GetReadiness: unary<ReadinessRequest, unknown>(env, 'GetReadiness', async (request, ctx) => {
      const view = viewOf(readiness);
      const locations = wanted(view, request, ctx);
      return { locations: (await view.snapshot(ctx.signal)).filter((s) => locations.has(s.location)).map(locationMessage) };
    }),

    WatchReadiness: serverStream<ReadinessRequest, unknown>(env, 'WatchReadiness', async (request, ctx, write) => {
      const view = viewOf(readiness);
      const locations = wanted(view, request, ctx);
      const ended = AbortSignal.any([ctx.signal, view.stopped]);
      await view.follow(locations, (states) => write({ locations: states.map(locationMessage) }), ended);
    }),
  };
}
