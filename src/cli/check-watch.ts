/**
 * `drift-detector check --watch`: follows the service's WatchReadiness, one block of lines per
 * change of a storage location, until the call's deadline (--timeout) or Ctrl-C. The exit code
 * is that of the last state seen: 0 every location's newest backup restorable, 1 not, 2 error.
 */
import { statusName, ServiceError } from '../rpc/service-error.js';
import type { CheckFlags } from './check-flags.js';
import { connect, explainedFailure } from './check-run.js';
import { EXIT_ACTION_NEEDED, EXIT_OK } from './errors.js';

interface LocationReadiness {
  storage_location: string;
  backup: string;
  analyzed: boolean;
  restorable: boolean;
  summary_status: string;
  clusters: Array<{ namespace: string; name: string; status: string; verdict: string; ghost_machines: number; unknown_machines: number }>;
  analyzed_at: string;
  error: string;
  /** Absent from a service older than this client. */
  not_checked?: string;
  verdict?: string;
  verdict_summary?: string;
  /** A replica that does not run the watch answered from the signed verdict: no per-cluster lines. */
  from_verdicts?: boolean;
}

export function renderReadiness(l: LocationReadiness): string {
  const head = !l.backup
    ? `NONE  ${l.storage_location}: no Completed backup`
    : !l.analyzed
      ? `WAIT  ${l.storage_location}: backup ${l.backup} ${l.not_checked ? 'not checked yet' : 'not analysed yet'}`
      : `${l.restorable ? 'CLEAN' : 'DRIFT'} ${l.storage_location}: backup ${l.backup} (${l.summary_status || l.verdict}) analysed ${l.analyzed_at}`;
  const lines = [head];
  if (l.not_checked) lines.push(`  warning: ${l.not_checked}`);
  if (l.from_verdicts && l.verdict_summary) lines.push(`  ${l.verdict_summary}`);
  for (const c of l.clusters.filter((c) => c.verdict === 'BLOCK')) {
    lines.push(
      `  BLOCK ${`${c.namespace}/${c.name}`.padEnd(32)} ${c.status.padEnd(30)} ghost ${c.ghost_machines}, unknown ${c.unknown_machines}`,
    );
  }
  if (l.error) lines.push(`  check failed: ${l.error}`);
  return `${lines.join('\n')}\n`;
}

export async function runWatch(flags: CheckFlags): Promise<void> {
  const client = await connect(flags);
  const last = new Map<string, LocationReadiness>();
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  try {
    await client.stream<{ locations: LocationReadiness[] }>(
      'WatchReadiness',
      { storage_location: flags.storageLocation ?? '' },
      (message) => {
        for (const l of message.locations) {
          last.set(l.storage_location, l);
          process.stdout.write(renderReadiness(l));
        }
      },
      { timeoutMs: flags.timeout, signal: controller.signal },
    );
  } catch (err) {
    // The deadline is how a bounded watch ends; anything else is an error.
    if (!(err instanceof ServiceError) || statusName(err.code) !== 'DEADLINE_EXCEEDED' || last.size === 0) {
      if (err instanceof ServiceError) throw await explainedFailure('check --watch', flags, err);
      throw new Error(`check --watch at ${flags.server}: ${String(err)}`, { cause: err });
    }
  } finally {
    process.off('SIGINT', interrupt);
    client.close();
  }
  const clean = [...last.values()].every((l) => l.analyzed && l.restorable);
  process.exitCode = clean ? EXIT_OK : EXIT_ACTION_NEEDED;
}
