/**
 * The two lanes of `npm test` together run every test file exactly once: each file of the
 * integration list exists, and `.ci/run` runs the fast lane before the integration lane.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { ROOT } from '../plugin/helpers.js';

const load = async (file: string) => (await import(join(ROOT, file))) as { default: { files: string[] }; INTEGRATION_TESTS?: string[] };

test('every file of the integration list exists, and the integration lane runs exactly that list', async (t) => {
  const unit = await load('ava.unit.config.mjs');
  const integration = await load('ava.integration.config.mjs');
  const listed = unit.INTEGRATION_TESTS ?? [];
  t.true(listed.length > 0);
  for (const file of listed) t.true(existsSync(join(ROOT, file)), `${file} is in INTEGRATION_TESTS but does not exist`);
  t.deepEqual(integration.default.files, listed);
  for (const file of listed) t.true(unit.default.files.includes(`!${file}`), `${file} is not left out of the unit lane`);
});

test('npm test and .ci/run run the unit lane first, then the integration lane', (t) => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  t.is(scripts['test'], 'npm run test:unit && npm run test:integration');
  const run = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  const unitAt = run.indexOf('suite unit npm run --silent test:unit');
  const integrationAt = run.indexOf('suite integration npm run --silent test:integration');
  t.true(unitAt > 0 && integrationAt > unitAt);
});
