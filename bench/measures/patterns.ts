/**
 * What hostile patterns cost, in process: the longest stretch the webhook's restore scope holds the
 * event loop for the Restore (six namespace patterns of 32 `*` and a letter) and for the
 * costliest Restore it judges before calling it malformed (it pauses between slices), against a
 * plain one; an ignore-file line of `**\/` repeated 90 times over four-level inventory paths,
 * against a plain line. Before the linear-time matcher the first took seconds per review and the
 * last 67 s per analysis.
 */
import { parseIgnoreRules, ignoringRule } from '../../src/drift/ignore.js';
import { MalformedRestoreError, NamespaceFilter, restoreFilters, touchedClusters, type ScopedCluster } from '../../src/gate/restore-scope.js';
import { measure, type Measure } from '../results.js';
import { median } from '../stats.js';

export interface PatternSamples {
  scope: { attack: number[]; budget: number[]; plain: number[] };
  ignore: { attack: number[]; plain: number[] };
}

/** Clusters in as many namespaces (each namespace judged once), and VMs four folders deep. */
const NAMESPACES = 200;
const VMS = 2000;

const clusters: ScopedCluster[] = Array.from({ length: NAMESPACES }, (_, i) => ({
  namespace: `team-${i}-workload-clusters-of-the-${'a'.repeat(20)}`,
  name: `wc-${i}`,
}));

function timed(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The longest time between two turns of the event loop while the webhook judges the Restore (ms). */
async function longestStretch(spec: unknown): Promise<number> {
  let longest = 0;
  let since = process.hrtime.bigint();
  const lap = () => {
    const now = process.hrtime.bigint();
    longest = Math.max(longest, Number(now - since) / 1e6);
    since = now;
  };
  try {
    const filters = restoreFilters(spec);
    const namespaces = new NamespaceFilter(filters);
    await namespaces.judgeAll(
      clusters.map((c) => c.namespace),
      () => {
        lap();
        return new Promise((resolve) => setImmediate(resolve)).then(() => void (since = process.hrtime.bigint()));
      },
    );
    touchedClusters(filters, clusters, namespaces);
  } catch (err) {
    if (!(err instanceof MalformedRestoreError)) throw err;
  }
  lap();
  return longest;
}

export async function measurePatterns(runs: number): Promise<PatternSamples> {
  const attack = { includedNamespaces: ['x', 'y', 'z', 'q', 'j', 'k'].map((c) => `${'*'.repeat(32)}${c}`) };
  const budget = { includedNamespaces: Array.from({ length: 1000 }, (_, i) => `${'*?'.repeat(30)}*${i}`) };
  const plain = { includedNamespaces: ['tkg-prod', 'team-1-*'] };
  const paths = Array.from({ length: VMS }, (_, i) => [`vm-${i}`, `/DC0/vm/tkg/team-${i % 7}/pool-${i % 3}`] as const);
  const attackRules = parseIgnoreRules(`${'**/'.repeat(90)}jb-*\n`, 'attack.driftignore');
  const plainRules = parseIgnoreRules('/DC0/vm/**/jb-*\n', 'plain.driftignore');
  const ignore = (rules: typeof attackRules) => () => paths.forEach(([name, folder]) => ignoringRule(rules, name, folder));
  const out: PatternSamples = { scope: { attack: [], budget: [], plain: [] }, ignore: { attack: [], plain: [] } };
  for (let i = 0; i < runs; i++) {
    out.scope.attack.push(await longestStretch(attack));
    out.scope.budget.push(await longestStretch(budget));
    out.scope.plain.push(await longestStretch(plain));
    out.ignore.attack.push(timed(ignore(attackRules)));
    out.ignore.plain.push(timed(ignore(plainRules)));
  }
  return out;
}

export function patternMeasures(samples: PatternSamples): Measure[] {
  const fewMs = { on: 'ours' as const, max: 10, text: '<= 10 ms', anyScale: true };
  const { scope, ignore } = samples;
  return [
    measure({
      id: 'patterns.scope.attack',
      label: `restore scope, longest hold of the event loop: 6 patterns of 32 * and a letter, ${NAMESPACES} namespaces`,
      unit: 'ms',
      ours: median(scope.attack),
      baseline: median(scope.plain),
      baselineLabel: 'two plain patterns',
      target: fewMs,
      samples: { ours: scope.attack, baseline: scope.plain },
    }),
    measure({
      id: 'patterns.scope.budget',
      label: `restore scope, longest hold of the event loop: 1,000 distinct patterns of 30 "*?", until the step budget calls it malformed`,
      unit: 'ms',
      ours: median(scope.budget),
      baseline: median(scope.plain),
      baselineLabel: 'two plain patterns',
      target: fewMs,
      samples: { ours: scope.budget, baseline: scope.plain },
    }),
    measure({
      id: 'patterns.ignore.attack',
      label: `ignore file: one line of **/ x 90, ${VMS} VMs four folders deep`,
      unit: 'ms',
      ours: median(ignore.attack),
      baseline: median(ignore.plain),
      baselineLabel: '/DC0/vm/**/jb-*',
      target: { on: 'ratio', max: 3, text: '<= 3x the plain line', anyScale: true },
      samples: { ours: ignore.attack, baseline: ignore.plain },
    }),
  ];
}
