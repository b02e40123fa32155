/**
 * Shared settings of the property suites: a fixed seed, so a failure is reproduced by rerunning,
 * and bounded runs and time, so the suite stays quick in the unit lane.
 */
import fc from 'fast-check';

export const SEED = 20261130;

/**
 * Checks `property` for up to `numRuns` inputs or `timeLimitMs`, whichever ends first; fails the
 * test with fast-check's report (seed and counterexample) on a failure, and logs how many ran.
 */
export async function check<Ts extends [unknown, ...unknown[]]>(
  t: { log(...values: unknown[]): void; fail(message: string): void; pass(): void },
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  numRuns: number,
  timeLimitMs = 3000,
): Promise<void> {
  const details = await fc.check(property, {
    seed: SEED,
    numRuns,
    interruptAfterTimeLimit: timeLimitMs,
    markInterruptAsFailure: false,
    endOnFailure: true,
  });
  t.log(`${details.numRuns} runs (seed ${SEED})${details.interrupted ? ', stopped at the time limit' : ''}`);
  if (details.failed) t.fail(fc.defaultReportMessage(details) ?? 'property failed');
  else t.pass();
}

/** An error a parser may throw: of the domain, named as such, never a TypeError or RangeError from deep inside. */
export function isRawError(err: unknown): boolean {
  return (
    !(err instanceof Error) ||
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    err instanceof ReferenceError
  );
}

/** `promise`, or a rejection if it takes longer than `ms`: a parser must never hang. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** Any JSON value, the kinds a tampered field may hold. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), { maxKeys: 3 }),
);

/** Every path into a JSON value, parents before children. */
export function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

/** `example` with the value at some path replaced by one of `values` (default: any JSON value). */
export function mutationsOf(example: object, values: fc.Arbitrary<unknown> = anyJson): fc.Arbitrary<unknown> {
  const paths = pathsOf(example);
  return fc.tuple(fc.nat(), values).map(([where, value]) => {
    const copy = structuredClone(example) as Record<string, unknown>;
    const path = paths[where % paths.length]!;
    let at = copy;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1)!] = value;
    return copy;
  });
}
