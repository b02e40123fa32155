/**
 * `npm run bench [-- --preset default|small|quick] [--cache-dir DIR] [--results FILE]`:
 * runs the benchmark, writes the results file and prints the table.
 */
import { parseArgs } from 'node:util';
import { PRESETS } from './presets.js';
import { runBench } from './run.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'default' },
    'cache-dir': { type: 'string' },
    results: { type: 'string' },
  },
});
if (!PRESETS[values.preset]) {
  process.stderr.write(`bench: --preset: unknown preset "${values.preset}" (known: ${Object.keys(PRESETS).join(', ')})\n`);
  process.exit(2);
}

const results = await runBench({
  preset: values.preset,
  ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
  ...(values.results ? { resultsPath: values.results } : {}),
});
const m = results.machine;
process.stdout.write(
  `\n${results.table}\n\n` +
    `preset ${results.preset}, ${results.wallSeconds} s wall; ${m.nproc} x ${m.cpu}, ${m.memoryGiB} GiB, node ${m.node}\n`,
);
const wrong = Object.entries(results.reportChecks).filter(([, check]) => !check.ok);
for (const [preset, check] of wrong) {
  process.stderr.write(
    `bench: the ${preset} detect report is not what the fixture holds: found ${JSON.stringify(check.found)}, expected ${JSON.stringify(check.expected)}\n`,
  );
}
if (wrong.length > 0) process.exitCode = 1;
