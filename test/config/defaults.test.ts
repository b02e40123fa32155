/**
 * Every default is written once, in DEFAULTS; what states a default elsewhere (the flags' help,
 * the README's tables and example, the deployed manifests that spell defaults out) agrees with it.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadServiceConfig, type ServiceConfig } from '../../src/app/service-config.js';
import { KNOWN_KEYS, OVERRIDES } from '../../src/config/service-sources.js';
import { durationText, parseDuration } from '../../src/config/values.js';
import { defaultPluginSettings, parsePluginSettings } from '../../src/plugin/settings.js';
import { tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function subcommand(name: string): Command {
  return buildProgram().commands.find((c) => c.name() === name)!;
}

function flagDefault(command: Command, flag: string): unknown {
  return command.options.find((o) => o.long === flag)?.defaultValue;
}

/** The default as the help shows it: a duration with its unit. */
function flagDefaultText(command: Command, flag: string): string {
  const option = command.options.find((o) => o.long === flag);
  return option?.defaultValueDescription ?? String(option?.defaultValue);
}

async function serviceDefaults(): Promise<ServiceConfig> {
  const dir = await tempDir('drift-defaults-');
  try {
    await writeFile(join(dir, 'bsl.yaml'), 'bucket: b\n');
    return await loadServiceConfig({ env: {}, overrides: { storageLocation: join(dir, 'bsl.yaml') } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the table cannot be changed by a caller', (t) => {
  t.true(Object.isFrozen(DEFAULTS));
  t.true(Object.isFrozen(DEFAULTS.gate));
  t.throws(() => {
    (DEFAULTS.gate as { mode: string }).mode = 'annotate';
  });
});

test('the doors fall back to the same defaults', async (t) => {
  const service = await serviceDefaults();
  const plugin = defaultPluginSettings();
  t.deepEqual(service.gate, { ...DEFAULTS.gate });
  t.deepEqual(plugin.gate, { ...DEFAULTS.gate });
  t.is(service.listen, DEFAULTS.service.listen);
  t.is(service.shutdownTimeoutMs, DEFAULTS.service.shutdownTimeoutMs);
  t.is(service.storageLocations[0]!.timeoutMs, DEFAULTS.storage.requestTimeoutMs);
  t.is(service.storageLocations[0]!.deadlineMs, DEFAULTS.storage.deadlineMs);
  t.like(service.analysis, {
    vcenterTimeoutMs: DEFAULTS.vsphere.requestTimeoutMs,
    apiserverTimeoutMs: DEFAULTS.apiserver.timeoutMs,
    apiserverConcurrency: DEFAULTS.apiserver.concurrency,
    timeoutMs: DEFAULTS.service.analysisTimeoutMs,
  });
  t.like(plugin, {
    vsphereTimeoutMs: service.analysis.vcenterTimeoutMs,
    apiserverTimeoutMs: service.analysis.apiserverTimeoutMs,
    storageTimeoutMs: service.storageLocations[0]!.timeoutMs,
    storageDeadlineMs: service.storageLocations[0]!.deadlineMs,
    skipAccessApiServer: service.analysis.skipAccessApiServer,
    insecureSkipVerify: service.analysis.insecureSkipVerify,
  });

  const detect = subcommand('detect');
  t.is(flagDefault(detect, '--vsphere-timeout'), DEFAULTS.vsphere.requestTimeoutMs);
  t.is(flagDefault(detect, '--apiserver-timeout'), DEFAULTS.apiserver.timeoutMs);
  t.is(flagDefault(detect, '--apiserver-concurrency'), DEFAULTS.apiserver.concurrency);
  t.is(flagDefault(detect, '--s3-timeout'), DEFAULTS.storage.requestTimeoutMs);
  t.is(flagDefault(detect, '--s3-deadline'), DEFAULTS.storage.deadlineMs);
  t.is(flagDefault(subcommand('check'), '--timeout'), DEFAULTS.check.timeoutMs);
  t.is(flagDefaultText(detect, '--s3-timeout'), durationText(DEFAULTS.storage.requestTimeoutMs));
  // serve's flags must not have commander defaults (they would hide the file's values); their help says them.
  const serve = subcommand('serve');
  t.true(serve.options.every((o) => o.defaultValue === undefined));
  const help = serve.helpInformation().replace(/\s+/g, ' ');
  t.true(help.includes(`(default: ${DEFAULTS.service.listen})`));
  t.true(help.includes(`(default: ${durationText(DEFAULTS.service.cacheTtlMs)})`));
});

test("README: the detect flags' defaults are the commander defaults", (t) => {
  const detect = subcommand('detect');
  const rows = [...README.matchAll(/^\| `(--[a-z0-9-]+)[^`]*` \| .*\(default (\S+)\) \|$/gm)];
  t.true(rows.length >= 3, 'the flag table states defaults');
  for (const [, flag, value] of rows) t.is(flagDefaultText(detect, flag!), value!, flag);
});

test("README: the plugin settings table states the plugin's defaults", (t) => {
  const settings = defaultPluginSettings();
  const expected: Record<string, string> = {
    mode: settings.gate.mode,
    failurePolicy: settings.gate.failurePolicy,
    pauseOnDrift: String(settings.gate.pauseOnDrift),
    skipAccessAPIServer: String(settings.skipAccessApiServer),
    insecureSkipVerify: String(settings.insecureSkipVerify),
    analysisTimeout: durationText(settings.analysisTimeoutMs),
    vsphereTimeout: durationText(settings.vsphereTimeoutMs),
    apiserverTimeout: durationText(settings.apiserverTimeoutMs),
    storageTimeout: durationText(settings.storageTimeoutMs),
    storageDeadline: durationText(settings.storageDeadlineMs),
    remoteTLS: String(DEFAULTS.plugin.remoteTls),
    remoteTimeout: durationText(DEFAULTS.plugin.remoteTimeoutMs),
  };
  const stated: Record<string, string> = {};
  // The table under the plugin's "### Configure" heading, up to the next heading.
  const section = /^### Configure\n([\s\S]*?)^#/m.exec(README)![1]!;
  for (const [, keys, values] of section.matchAll(/^\| (`[a-zA-Z]+`(?:, `[a-zA-Z]+`)*) \| (`[^|]+`) \|/gm)) {
    const names = [...keys!.matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]!);
    const texts = [...values!.matchAll(/`"?([^`"]+)"?`/g)].map((m) => m[1]!);
    names.forEach((name, i) => (stated[name] = texts[i]!));
  }
  t.deepEqual(stated, expected);
});

test('README: the service configuration example shows the defaults', async (t) => {
  const block = /### Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(README)![1]!;
  const example = parseYaml(block) as Record<string, any>;
  const service = await serviceDefaults();
  t.is(example['listen'], service.listen);
  t.is(example['logLevel'], service.logLevel);
  t.deepEqual(example['gate'], service.gate);
  t.is(parseDuration(example['shutdownTimeout']), service.shutdownTimeoutMs);
  const analysis = example['analysis'] as Record<string, unknown>;
  t.is(parseDuration(analysis['cacheTTL']), service.analysis.cacheTtlMs);
  t.is(parseDuration(analysis['timeout']), service.analysis.timeoutMs);
  t.is(parseDuration(analysis['vcenterTimeout']), service.analysis.vcenterTimeoutMs);
  t.is(parseDuration(analysis['apiserverTimeout']), service.analysis.apiserverTimeoutMs);
  t.is(analysis['skipAccessApiServer'], service.analysis.skipAccessApiServer);
});

test('deploy: the manifests that spell the gate and timeouts out use the defaults', async (t) => {
  const plugin = parseYaml(readFileSync(join(ROOT, 'deploy', 'plugin', 'configmap.yaml'), 'utf8')) as { data: Record<string, string> };
  // Where the settings came from differs by construction; what they say must not.
  t.deepEqual(
    { ...parsePluginSettings(plugin.data, 'configmap.yaml'), origin: '' },
    { ...defaultPluginSettings(), origin: '' },
    'the plugin ConfigMap says what the plugin does without it',
  );

  const [serviceConfigMap] = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'service', 'configmap.yaml'), 'utf8')).map((d) => d.toJS());
  const config = parseYaml(serviceConfigMap.data['config.yaml']) as Record<string, any>;
  const service = await serviceDefaults();
  t.deepEqual(config['gate'], service.gate);
  t.is(parseDuration(config['analysis']['cacheTTL']), service.analysis.cacheTtlMs);
  t.is(parseDuration(config['analysis']['timeout']), service.analysis.timeoutMs);
  t.is(parseDuration(config['storageLocations'][0]['timeout']), DEFAULTS.storage.requestTimeoutMs);
  t.is(parseDuration(config['storageLocations'][0]['deadline']), DEFAULTS.storage.deadlineMs);
  t.is(parseDuration(config['shutdownTimeout']), service.shutdownTimeoutMs);
});

test("README: the detect flag table lists exactly detect's options", (t) => {
  const section = /^## `drift-detector detect`\n([\s\S]*?)^#/m.exec(README)![1]!;
  const documented = [...section.matchAll(/^\| `(?:-[a-zA-Z], )?(--[a-z0-9-]+)/gm)].map((m) => m[1]!).sort();
  const options = [...subcommand('detect').options.map((o) => o.long!), '--debug'].sort();
  t.deepEqual(documented, options);
});

test("README: the service's configuration table names every key, with its flag and variable", (t) => {
  const section = /^### Configuration\n([\s\S]*?)^#/m.exec(README)![1]!;
  const rows = [...section.matchAll(/^\| (`[a-zA-Z.]+`[^|]*) \| ([^|]+) \| ([^|]+) \|$/gm)];
  const byKey = new Map<string, string>();
  for (const [, keys, overrides] of rows) for (const [, key] of keys!.matchAll(/`([a-zA-Z.]+)`/g)) byKey.set(key!, overrides!);
  const sections = Object.entries(KNOWN_KEYS).flatMap(([section, keys]) =>
    section === '' ? keys.filter((k) => !(k in KNOWN_KEYS)) : keys.map((k) => `${section}.${k}`),
  );
  for (const key of sections) t.true(byKey.has(key), `${key} is in the table`);
  for (const o of OVERRIDES) t.true(byKey.get(o.key)?.includes(`\`${o.flagName}\``) && byKey.get(o.key)?.includes(`\`${o.env}\``), o.key);
  const flagsOnly = [...section.matchAll(/`(DRIFT_DETECTOR_[A-Z_]+)`/g)].map((m) => m[1]!);
  t.deepEqual([...new Set(flagsOnly)].sort(), OVERRIDES.map((o) => o.env).sort(), 'no variable the service does not read');
});
