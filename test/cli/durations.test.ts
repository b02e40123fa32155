/**
 * Every time flag and configuration key takes a duration with its unit (`30s`, `5m`, `1h30m`); a
 * bare number is refused with a message that shows the unit, whatever door it comes through.
 * Options that only `remediate --apply` reads are refused without it.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Option } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { parsePluginSettings } from '../../src/plugin/settings.js';
import { runCli, tempDir } from '../helpers/scenario.js';

const TIME_WORDS = /(timeout|deadline|interval|ttl|-age)$/i;

function timeOptions(): Array<{ command: string; option: Option }> {
  return buildProgram()
    .commands.filter((c) => c.name() !== 'serve')
    .flatMap((c) => c.options.filter((o) => TIME_WORDS.test(o.long ?? '')).map((option) => ({ command: c.name(), option })));
}

test('every time flag of the commands takes a duration with a unit, in ms, and refuses a bare number showing the unit', (t) => {
  const options = timeOptions();
  t.true(options.length >= 8, options.map((o) => o.option.long).join(' '));
  for (const { command, option } of options) {
    const name = `${command} ${option.long}`;
    const parse = (value: string) => (option.parseArg as (value: string) => unknown)(value);
    t.regex(option.flags, /<duration>$/, name);
    t.is(parse('5m'), 300_000, name);
    t.is(parse('1h30m'), 5_400_000, name);
    t.is(parse('30s'), 30_000, name);
    t.throws(() => parse('5'), { message: `${option.long} 5: give a unit, e.g. 5s or 5m` }, name);
    t.throws(() => parse('0s'), { message: /more than zero/ }, name);
    t.regex(String(option.defaultValueDescription), /^\d+(ms|s|m|h)$/, `${name}: its default is shown with a unit`);
  }
});

test('detect --timeout 5 fails before any work, showing the unit', async (t) => {
  const result = await runCli(['detect', '--backup', 'absent.tar.gz', '-o', '-', '--timeout', '5']);
  t.is(result.code, 2);
  t.regex(result.stderr, /^Error: --timeout 5: give a unit, e.g\. 5s or 5m\n/);
  t.is(result.stdout, '');
});

test('serve: a bare number in a flag, an environment variable or the YAML is refused, naming where it came from', async (t) => {
  const dir = await tempDir();
  const location = join(dir, 'bsl.yaml');
  await writeFile(location, 'bucket: b\n');
  await t.throwsAsync(loadServiceConfig({ env: {}, overrides: { storageLocation: location, watchInterval: '5' } }), {
    message: '--watch-interval: 5: give a unit, e.g. 5s or 5m',
  });
  await t.throwsAsync(loadServiceConfig({ env: { DRIFT_DETECTOR_ANALYSIS_TIMEOUT: '30' }, overrides: { storageLocation: location } }), {
    message: 'DRIFT_DETECTOR_ANALYSIS_TIMEOUT: 30: give a unit, e.g. 30s or 30m',
  });
  const file = join(dir, 'serve.yaml');
  await writeFile(file, `storageLocations: [{ name: a, bucket: b, timeout: 20 }]\nwatch: { interval: 5m }\n`);
  await t.throwsAsync(loadServiceConfig({ file, env: {} }), {
    message: /serve\.yaml: storageLocations\[0\]\.timeout: 20: give a unit, e\.g\. 20s or 20m$/,
  });
  await writeFile(file, `storageLocations: [{ name: a, bucket: b, timeout: 20s }]\nwatch: { interval: 1h30m }\n`);
  t.is((await loadServiceConfig({ file, env: {} })).watch.intervalMs, 5_400_000);
});

test("the plugin's ConfigMap: a bare number is refused showing the unit", (t) => {
  t.throws(() => parsePluginSettings({ analysisTimeout: '600' }, 'ConfigMap velero/p'), {
    message: 'ConfigMap velero/p: analysisTimeout: 600: give a unit, e.g. 600s or 600m',
  });
});

test('remediate: --yes, --etcd-member-removed and --max-report-age without --apply are refused', async (t) => {
  const dir = await tempDir();
  const report = join(dir, 'report.json');
  await writeFile(report, '{}');
  for (const [flags, message] of [
    [['--yes'], /^Error: --yes only means something with --apply: add --apply to act, or leave it out for the plan\n/],
    [['--etcd-member-removed', 'cp-1'], /^Error: --etcd-member-removed only means something with --apply/],
    [['--yes', '--max-report-age', '1h'], /^Error: --yes and --max-report-age only mean something with --apply/],
  ] as const) {
    const result = await runCli(['remediate', '--report', report, ...flags]);
    t.is(result.code, 2, flags.join(' '));
    t.regex(result.stderr, message, flags.join(' '));
  }
});
