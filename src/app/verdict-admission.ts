/**
 * Admission from the verdict on the Backup object: any replica, the one that never analysed
 * included, answers a Restore in the time of one GET when the readiness watch's signed verdict on
 * its backup is fresh (analysis.maxAge) and decides the Restore alone. It decides alone when the
 * backup is Restorable (no cluster blocks, whatever the Restore selects), or, in mode block, when
 * it is Blocked or Unconfirmed and the Restore restores every cluster without an override. Anything
 * else (a Failed, stale, unsigned or forged verdict; filters; an override) is left to the analysis.
 *
 * A denial, from a verdict or an analysis, points to the newest backup of the same location (and
 * schedule) whose verdict is Restorable, with its age and the command that restores it.
 */
import type { AdmissionVerdict } from '../gate/admission.js';
import { overrideCommands } from '../gate/admission.js';
import type { GateConfig } from '../gate/decide.js';
import { restoreOverride } from '../gate/override.js';
import { restoresEverything as unfiltered } from '../gate/restore-scope.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage, isMap } from '../util/values.js';
import type { BackupVerdict } from './backup-verdict.js';
import { backupPlace, type BackupVerdicts } from './backup-verdicts.js';

export interface VerdictAdmissionOptions {
  verdicts: BackupVerdicts;
  gate: GateConfig;
  /** How old a verdict may be and still answer (analysis.maxAge). */
  maxAgeMs: number;
  /** How old a Restorable verdict may be and still be pointed to (older backups are re-analysed less often). */
  pointerMaxAgeMs: number;
  /** A completion further in the future than this is a clock running ahead. */
  clockSkewMs: number;
  /** The location of a backup whose Backup object names none. */
  defaultLocation: string;
  logger: Logger;
  now?: () => number;
}

type Restore = { metadata?: { labels?: unknown; annotations?: unknown }; spec?: unknown };

export class VerdictAdmission {
  private readonly now: () => number;

  constructor(private readonly options: VerdictAdmissionOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The answer from the backup's verdict, or undefined: the analysis decides. Never throws. */
  async answer(restore: Restore, origin: { backup: string; schedule?: string }, signal: AbortSignal): Promise<AdmissionVerdict | undefined> {
    const { logger } = this.options;
    let read;
    try {
      read = await this.options.verdicts.read(origin.backup, signal);
    } catch (err) {
      logger.debug('no verdict on the Backup object', { backup: origin.backup, error: errorMessage(err) });
      return undefined;
    }
    if (!read.verdict.trusted) {
      if (read.verdict.reason === 'forged')
        logger.warn('the Backup carries a restore verdict this service did not sign: analysing', { backup: origin.backup });
      return undefined;
    }
    const verdict = read.verdict.verdict;
    const age = this.now() - verdict.analyzedAt;
    if (age > this.options.maxAgeMs || age < -this.options.clockSkewMs) return undefined;
    const answer = await this.decide(restore, origin, verdict, read.backup, signal);
    if (answer)
      logger.info(answer.allowed ? 'restore admitted from the Backup verdict' : 'restore denied from the Backup verdict', {
        backup: origin.backup,
        verdict: verdict.verdict,
      });
    return answer;
  }

  private async decide(
    restore: Restore,
    origin: { backup: string; schedule?: string },
    verdict: BackupVerdict,
    backup: unknown,
    signal: AbortSignal,
  ): Promise<AdmissionVerdict | undefined> {
    if (verdict.verdict === 'Restorable') return { allowed: true, warnings: [] };
    if (verdict.verdict === 'Failed') return undefined;
    if (this.options.gate.mode === 'annotate') {
      return { allowed: true, warnings: [`backup ${origin.backup}: ${verdict.summary}: its clusters will be restored annotated`] };
    }
    if (!restoresEverything(restore)) return undefined;
    const from = origin.schedule ? `--from-schedule ${origin.schedule}` : `--from-backup ${origin.backup}`;
    const lines = [
      `drift-detector denied this restore: backup ${origin.backup}${origin.schedule ? ` (newest of schedule ${origin.schedule})` : ''}: ` +
        `${verdict.summary} (verdict ${verdict.verdict}, analysed ${ageText(this.now() - verdict.analyzedAt)} ago).`,
      ...overrideCommands(from),
      ...(await this.pointer(origin, backup, signal)),
    ];
    return { allowed: false, message: lines.join('\n'), warnings: [] };
  }

  /**
   * The line a denial adds: the newest Restorable backup of the denied backup's location (and
   * schedule), or that there is none; nothing when that cannot be known. `backup` is its Backup
   * object when already read.
   */
  async pointer(
    origin: { backup: string; schedule?: string; storageLocation?: string },
    backup: unknown,
    signal: AbortSignal,
  ): Promise<string[]> {
    let place = backup === undefined ? {} : backupPlace(backup);
    if (backup === undefined && !origin.storageLocation) {
      place = await this.options.verdicts
        .read(origin.backup, signal)
        .then((r) => backupPlace(r.backup))
        .catch(() => ({}));
    }
    const location = origin.storageLocation ?? place.location ?? this.options.defaultLocation;
    const schedule = origin.schedule ?? place.schedule;
    const now = this.now();
    const found = await this.options.verdicts.pointer(
      {
        location,
        ...(schedule ? { schedule } : {}),
        exclude: origin.backup,
        maxAgeMs: this.options.pointerMaxAgeMs,
        now,
        notAfter: now + this.options.clockSkewMs,
      },
      signal,
    );
    if (found === 'unknown') return [];
    const of = `storage location ${location}${schedule ? ` (schedule ${schedule})` : ''}`;
    if (!found) return [`No recent backup of ${of} has a Restorable verdict: none is known to restore cleanly.`];
    const completed = found.completedAt !== undefined ? `completed ${ageText(now - found.completedAt)} ago, ` : '';
    return [
      `Backup ${found.name} of ${of} would restore cleanly (${completed}analysed ${ageText(now - found.analyzedAt)} ago):`,
      `  velero restore create --from-backup ${found.name}`,
    ];
  }
}

/** A Restore with no filter and no override: it restores every cluster of the backup, as the verdict judged them. */
function restoresEverything(restore: Restore): boolean {
  const metadata = restore.metadata;
  const overrides = restoreOverride(
    isMap(metadata?.labels) ? metadata.labels : undefined,
    isMap(metadata?.annotations) ? metadata.annotations : undefined,
  );
  return unfiltered(restore.spec) && Object.keys(overrides).length === 0;
}

/** An age people read: `40 s`, `12 min`, `5 h`, `3 days`. */
export function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
