/**
 * The readiness watch's verdict, written on the Backup object itself (docs/restore-gate.md, "The
 * verdict on the Backup"): a label operators select on
 * (`kubectl get backups -L driftdetector.dev/restore-verdict`), the time of the analysis and a
 * one-line summary in annotations, and an HMAC-SHA256 over the Backup's uid, the verdict, the time
 * and the summary, keyed by a Secret only the service reads. Anyone may label a Backup; only a
 * label whose signature verifies under that key, on that very Backup (uid), is this service's
 * verdict. Pure: the key and the clock are arguments.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { redacted } from '../util/redact.js';
import { isMap } from '../util/values.js';
import type { BackupReadiness, ClusterReadiness } from './readiness-verdict.js';

export const VERDICT_LABEL = 'driftdetector.dev/restore-verdict';
export const ANALYZED_AT_ANNOTATION = 'driftdetector.dev/analyzed-at';
export const SUMMARY_ANNOTATION = 'driftdetector.dev/restore-summary';
export const SIGNATURE_ANNOTATION = 'driftdetector.dev/verdict-signature';

export const RESTORE_VERDICTS = ['Restorable', 'Blocked', 'Unconfirmed', 'Failed'] as const;
export type RestoreVerdict = (typeof RESTORE_VERDICTS)[number];

export interface BackupVerdict {
  verdict: RestoreVerdict;
  /** One line: `2 clusters blocked: tkg/prod (1 ghost), ...`. */
  summary: string;
  /** When the analysis finished, ms since the epoch. */
  analyzedAt: number;
}

/** Longest summary kept: a line people read in `kubectl describe`, not the report. */
const MAX_SUMMARY = 300;
/** Most clusters named in a summary; the rest are counted. */
const MAX_NAMED = 5;

/** The verdict of an analysis that finished. */
export function verdictOfReadiness(readiness: BackupReadiness, analyzedAt: number): BackupVerdict {
  if (readiness.restorable) {
    const n = readiness.clusters.length;
    const summary = n === 0 ? 'no Cluster API clusters to judge' : `${plural(n, 'cluster')} would restore cleanly`;
    return { verdict: 'Restorable', summary, analyzedAt };
  }
  const blocking = readiness.clusters.filter((c) => c.verdict === 'BLOCK');
  const drifted = blocking.filter((c) => c.status === 'ManualRemediationRequired');
  // Drift a person must clean up outranks clusters nobody could confirm.
  const [verdict, shown, word] = drifted.length
    ? (['Blocked', drifted, 'blocked'] as const)
    : (['Unconfirmed', blocking, 'unconfirmed'] as const);
  const named = shown.slice(0, MAX_NAMED).map(clusterPhrase);
  if (shown.length > MAX_NAMED) named.push(`and ${shown.length - MAX_NAMED} more`);
  return { verdict, summary: cut(`${plural(shown.length, 'cluster')} ${word}: ${named.join(', ')}`), analyzedAt };
}

/** The verdict of an analysis that failed: never trusted to allow, kept so people see why. */
export function verdictOfFailure(error: string, analyzedAt: number): BackupVerdict {
  return { verdict: 'Failed', summary: cut(`analysis failed: ${redacted(error, { max: MAX_SUMMARY })}`), analyzedAt };
}

function clusterPhrase(c: ClusterReadiness): string {
  const counts = [
    c.ghostMachines ? plural(c.ghostMachines, 'ghost') : '',
    c.unknownMachines ? `${plural(c.unknownMachines, 'machine')} unconfirmed` : '',
  ].filter(Boolean);
  return `${c.namespace}/${c.name} (${counts.length ? counts.join(', ') : c.status})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function cut(text: string): string {
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 3)}...` : text;
}

/** The HMAC of a verdict on the Backup with this uid. Every field is length-delimited (JSON), so no two inputs collide. */
export function signVerdict(key: Buffer, uid: string, v: BackupVerdict): string {
  const message = JSON.stringify(['driftdetector.dev/restore-verdict/v1', uid, v.verdict, isoTime(v.analyzedAt), v.summary]);
  return createHmac('sha256', key).update(message).digest('base64url');
}

/** The merge patch that writes a verdict on a Backup: labels and annotations only, nothing of Velero's. */
export function verdictPatch(key: Buffer, uid: string, v: BackupVerdict): object {
  return {
    metadata: {
      labels: { [VERDICT_LABEL]: v.verdict },
      annotations: {
        [ANALYZED_AT_ANNOTATION]: isoTime(v.analyzedAt),
        [SUMMARY_ANNOTATION]: v.summary,
        [SIGNATURE_ANNOTATION]: signVerdict(key, uid, v),
      },
    },
  };
}

export type ReadVerdict =
  | { trusted: true; verdict: BackupVerdict }
  /** No verdict, or one this service did not write (a label by hand, a copy from another Backup, a changed summary). */
  | { trusted: false; reason: 'none' | 'forged' };

/** The service's verdict on this Backup object, if it carries one whose signature verifies under `key`. */
export function readVerdict(backup: unknown, key: Buffer): ReadVerdict {
  const metadata = isMap(backup) && isMap(backup['metadata']) ? backup['metadata'] : {};
  const labels = isMap(metadata['labels']) ? metadata['labels'] : {};
  const annotations = isMap(metadata['annotations']) ? metadata['annotations'] : {};
  const verdict = labels[VERDICT_LABEL];
  if (verdict === undefined) return { trusted: false, reason: 'none' };
  const uid = metadata['uid'];
  const at = annotations[ANALYZED_AT_ANNOTATION];
  const summary = annotations[SUMMARY_ANNOTATION];
  const signature = annotations[SIGNATURE_ANNOTATION];
  const analyzedAt = typeof at === 'string' ? Date.parse(at) : NaN;
  if (
    typeof uid !== 'string' ||
    uid === '' ||
    !RESTORE_VERDICTS.includes(verdict as RestoreVerdict) ||
    !Number.isFinite(analyzedAt) ||
    typeof summary !== 'string' ||
    typeof signature !== 'string'
  ) {
    return { trusted: false, reason: 'forged' };
  }
  const claimed: BackupVerdict = { verdict: verdict as RestoreVerdict, summary, analyzedAt };
  const expected = Buffer.from(signVerdict(key, uid, claimed));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { trusted: false, reason: 'forged' };
  return { trusted: true, verdict: claimed };
}

/** RFC 3339 to the millisecond: what the annotation holds and what the signature covers. */
function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
