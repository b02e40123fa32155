/** driftdetector.v1.DriftDetector: GetReadiness and WatchReadiness, from the readiness watch's state. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { DomainError } from '../app/errors.js';
import type { LocationReadiness, ReadinessWatch } from '../app/readiness.js';
import { serverStream, unary, type CallContext, type CallEnvironment } from '../rpc/calls.js';

interface ReadinessRequest {
  storage_location: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString());

export function locationMessage(s: LocationReadiness) {
  return {
    storage_location: s.location,
    backup: s.backup?.name ?? '',
    backup_completed_at: iso(s.backup?.completedAt),
    analyzed: s.readiness !== undefined,
    restorable: s.readiness?.restorable ?? false,
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
  };
}

function watchOf(watch: ReadinessWatch | undefined): ReadinessWatch {
  if (!watch) throw new DomainError('misconfigured', 'the readiness watch is not running');
  return watch;
}

/** The locations a request asks for; an unknown name is invalid. */
function selected(watch: ReadinessWatch, request: ReadinessRequest, ctx: CallContext): LocationReadiness[] {
  const all = watch.snapshot();
  if (!request.storage_location) return all;
  ctx.fields['storageLocation'] = request.storage_location;
  const one = all.filter((s) => s.location === request.storage_location);
  if (!one.length) {
    throw new DomainError('invalid-argument', `storage location "${request.storage_location.slice(0, 80)}" is not configured`);
  }
  return one;
}

export function readinessImplementation(env: CallEnvironment, readiness: ReadinessWatch | undefined): UntypedServiceImplementation {
  return {
    GetReadiness: unary<ReadinessRequest, unknown>(env, 'GetReadiness', async (request, ctx) => ({
      locations: selected(watchOf(readiness), request, ctx).map(locationMessage),
    })),

    WatchReadiness: serverStream<ReadinessRequest, unknown>(env, 'WatchReadiness', async (request, ctx, write) => {
      const watch = watchOf(readiness);
      const wanted = new Set(selected(watch, request, ctx).map((s) => s.location));
      await new Promise<void>((resolve) => {
        const unsubscribe = watch.subscribe((state) => {
          if (wanted.has(state.location)) write({ locations: [locationMessage(state)] });
        });
        write({
          locations: watch
            .snapshot()
            .filter((s) => wanted.has(s.location))
            .map(locationMessage),
        });
        const end = () => {
          unsubscribe();
          ctx.signal.removeEventListener('abort', end);
          watch.stopped.removeEventListener('abort', end);
          resolve();
        };
        if (ctx.signal.aborted || watch.stopped.aborted) return end();
        ctx.signal.addEventListener('abort', end, { once: true });
        watch.stopped.addEventListener('abort', end, { once: true });
      });
    }),
  };
}
