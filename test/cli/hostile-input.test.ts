/**
 * `detect` and `serve` on hostile input, end to end: each refused with exit code 2 and a message
 * that names the file (and the entry and field), never a stack trace, a TypeError or a hang.
 */
import test from 'ava';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers/scenario.js';
import {
  deepItem,
  EXAMPLE_BACKUP,
  EXAMPLE_INVENTORY,
  exampleEntries,
  gzipTar,
  MACHINE,
  withObject,
  type RawEntry,
} from '../hardening/hostile-backup.js';

async function scratch(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await tempDir('drift-hostile-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function detect(dir: string, backup: string, ...flags: string[]) {
  return runCli([
    'detect',
    '--backup',
    backup,
    '--inventory',
    EXAMPLE_INVENTORY,
    '--skip-access-apiserver',
    '-o',
    join(dir, 'r.json'),
    ...flags,
  ]);
}

async function detectEntries(t: { teardown(fn: () => Promise<void>): void }, entries: RawEntry[]) {
  const dir = await scratch(t);
  const backup = join(dir, 'hostile.tar.gz');
  await writeFile(backup, gzipTar(entries));
  return { backup, result: await detect(dir, backup) };
}

/** Nine levels of nine aliases each: 9^9 nodes once expanded. */
const BILLION_LAUGHS = [
  'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(',')}]`),
].join('\n');

test('detect --backup /dev/zero is refused at once, not read forever', async (t) => {
  const dir = await scratch(t);
  const started = Date.now();
  const result = await detect(dir, '/dev/zero');
  t.is(result.code, 2);
  t.regex(result.stderr, /\/dev\/zero: cannot open the backup: it is a device, not a backup file/);
  t.true(Date.now() - started < 30_000);
});

test('detect: a namespace "..", named by entry', async (t) => {
  const name = 'resources/machines.cluster.x-k8s.io/namespaces/../x.json';
  const { backup, result } = await detectEntries(t, [...exampleEntries(), { name, body: Buffer.from('{"metadata":{"name":"x"}}') }]);
  t.is(result.code, 2);
  t.true(result.stderr.includes(`${backup}: ${name}: entry name has a path segment ".."`), result.stderr);
});

test('detect: a numeric label, named by entry and field', async (t) => {
  const entries = withObject(MACHINE, (o) => {
    o['metadata'].labels['cluster.x-k8s.io/cluster-name'] = 7;
  });
  const { backup, result } = await detectEntries(t, entries);
  t.is(result.code, 2);
  t.true(
    result.stderr.includes(`${backup}: resources/${MACHINE}: metadata.labels["cluster.x-k8s.io/cluster-name"] is a number, not a string`),
    result.stderr,
  );
  t.notRegex(result.stderr, /TypeError|is not a function|\n\s+at /);
});

test('detect: a 100,000-deep item, named by entry', async (t) => {
  const name = 'resources/machines.cluster.x-k8s.io/namespaces/production/deep.json';
  const { backup, result } = await detectEntries(t, [...exampleEntries(), { name, body: deepItem('deep', 100_000) }]);
  t.is(result.code, 2);
  t.true(result.stderr.includes(`${backup}: ${name}: entry is nested deeper than 512 levels`), result.stderr);
  t.notRegex(result.stderr, /RangeError|call stack/);
});

test('a billion-laughs YAML is refused naming the file: storage location, --vsphere-credentials, the service configuration', async (t) => {
  const dir = await scratch(t);
  const bomb = join(dir, 'bomb.yaml');
  await writeFile(bomb, BILLION_LAUGHS);
  const config = join(dir, 'serve.yaml');
  await writeFile(config, `storageLocations:\n  - name: default\n    file: ${bomb}\n`);
  const refused = /bomb\.yaml: not accepted: its aliases expand past 100 nodes/;
  for (const args of [
    ['detect', '--backup-name', 'b1', '--storage-location', bomb, '-o', join(dir, 'r.json')],
    ['detect', '--backup', EXAMPLE_BACKUP, '--inventory', EXAMPLE_INVENTORY, '--vsphere-credentials', bomb, '-o', join(dir, 'r.json')],
    ['serve', '--config', bomb],
    ['serve', '--config', config],
  ]) {
    const result = await runCli(args);
    t.not(result.code, 0, args.join(' '));
    t.regex(result.stderr, refused, `${args.join(' ')}: ${result.stderr}`);
    t.notRegex(result.stderr, /Excessive alias count/);
  }
});
