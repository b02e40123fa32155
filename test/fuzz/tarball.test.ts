/**
 * Property: whatever the bytes, reading a backup and analysing its objects either succeeds or fails
 * with a BackupError naming the backup; never a TypeError or RangeError, never a hang. Inputs are
 * mutations of a valid backup: byte flips, cuts and insertions in the tar and in its gzip, random
 * bytes, and fields of the objects the analysis reads set to values of any type.
 */
import test from 'ava';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { ClusterMembership } from '../../src/backup/membership.js';
import { readBackup } from '../../src/backup/reader.js';
import { backedUpClusters } from '../../src/backup/topology.js';
import { vcenterTargetsOf } from '../../src/backup/vcenter-targets.js';
import { excludedManagementClusters } from '../../src/backup/workload-clusters.js';
import { bytesSource, exampleEntries, rawTar, type RawEntry } from '../hardening/hostile-backup.js';
import { anyJson, check, isRawError, within } from './fuzz.js';

const SOURCE = 'fuzz.tar.gz';
const READ =
  /^resources\/(clusters|machines|vsphere(?:cluster|machine|vm)s|kubeadmcontrolplanes|secrets)\.?[^/]*\/(?:[^/]+-preferredversion\/)?namespaces\/(production|capv-system)\//;
/** The example's objects of one namespace and CAPV's, and a few entries nobody reads: a small backup every stage reads. */
const ENTRIES: RawEntry[] = exampleEntries().filter((e, i) => i === 0 || READ.test(String(e.name)) || i % 40 === 1);
const TAR = rawTar(ENTRIES);
const GZIP = gzipSync(TAR);
/** The copies the reader keeps (Velero writes each object twice; the preferred version's wins). */
const KEPT = ENTRIES.map((e, i) => [e, i] as const).filter(([e]) => READ.test(String(e.name)) && String(e.name).includes('-preferredversion/'));

/** Reads and analyses `bytes`; resolves with what went wrong, undefined when nothing or a BackupError naming the source. */
async function problemWith(bytes: Buffer): Promise<string | undefined> {
  try {
    const objects = await within(readBackup(bytesSource(SOURCE, bytes)), 10_000, 'the read');
    backedUpClusters(objects);
    vcenterTargetsOf(objects);
    excludedManagementClusters(objects);
    ClusterMembership.fromBackup(objects);
    return undefined;
  } catch (err) {
    if (isRawError(err)) return `raw error: ${String((err as Error).stack ?? err)}`;
    const e = err as Error;
    if (e.name !== 'BackupError') return `not a BackupError: ${e.name}: ${e.message}`;
    if (!e.message.startsWith(`${SOURCE}: `)) return `does not name the backup: ${e.message}`;
    return undefined;
  }
}

function mutated(base: Buffer, edits: Array<{ at: number; op: 'flip' | 'cut' | 'insert'; bytes: Uint8Array }>): Buffer {
  let out = Buffer.from(base);
  for (const { at, op, bytes } of edits) {
    const i = at % Math.max(1, out.length);
    if (op === 'flip') for (let k = 0; k < bytes.length && i + k < out.length; k++) out[i + k]! ^= bytes[k]! || 1;
    else if (op === 'cut') out = out.subarray(0, i);
    else out = Buffer.concat([out.subarray(0, i), bytes, out.subarray(i)]);
  }
  return out;
}

const edits = fc.array(
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom('flip', 'flip', 'cut', 'insert' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  { minLength: 1, maxLength: 4 },
);

test('mutated tar, then gzip: succeeds or a BackupError naming the backup', async (t) => {
  await check(
    t,
    fc.asyncProperty(edits, async (e) => {
      const problem = await problemWith(gzipSync(mutated(TAR, e)));
      if (problem) throw new Error(problem);
    }),
    60,
  );
});

test('mutated gzip: succeeds or a BackupError naming the backup', async (t) => {
  await check(
    t,
    fc.asyncProperty(edits, async (e) => {
      const problem = await problemWith(mutated(GZIP, e));
      if (problem) throw new Error(problem);
    }),
    60,
  );
});

test('random bytes, gzip or not: a BackupError naming the backup', async (t) => {
  await check(
    t,
    fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), async (bytes, gzip) => {
      const problem = await problemWith(gzip ? gzipSync(bytes) : Buffer.from(bytes));
      if (problem) throw new Error(problem);
    }),
    60,
  );
});

/** Every path to a value inside `value` (objects and arrays), up to a depth. */
function pathsOf(value: unknown, prefix: string[] = [], depth = 6): string[][] {
  if (typeof value !== 'object' || value === null || depth === 0) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k], depth - 1)]);
}

/** Sets `value` at a path under metadata, spec or data (where the analysis reads; status it never does) of one kept entry. */
function tamper(entries: RawEntry[], which: number, where: number, value: unknown): string {
  const [entry, index] = KEPT[which % KEPT.length]!;
  const object = JSON.parse(entries[index]!.body.toString('utf8')) as Record<string, unknown>;
  const paths = pathsOf(object, [], 4).filter((p) => ['metadata', 'spec', 'data'].includes(p[0]!));
  const path = paths[where % paths.length]!;
  let at = object;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1)!] = value;
  entries[index] = { name: entry.name, body: Buffer.from(JSON.stringify(object)) };
  return `${String(entry.name)} ${path.join('.')} = ${JSON.stringify(value)}`;
}

test('fields of the objects the analysis reads set to any JSON value: succeeds or a BackupError naming the backup', async (t) => {
  await check(
    t,
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat(), anyJson), { minLength: 1, maxLength: 8 }), async (changes) => {
      const entries = [...ENTRIES];
      const done = changes.map(([which, where, value]) => tamper(entries, which, where, value));
      const problem = await problemWith(gzipSync(rawTar(entries)));
      if (problem) throw new Error(`${done.join('; ')}: ${problem}`);
    }),
    300,
    6000,
  );
});
