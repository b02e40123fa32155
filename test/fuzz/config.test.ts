/**
 * Property: every configuration parser either reads its input or refuses it with a message that
 * starts with the file's name; never a TypeError, RangeError or the YAML parser's bare error.
 * Inputs: random text, YAML of random values, the README's examples with a value replaced by any
 * value, and alias bombs.
 */
import test from 'ava';
import fc from 'fast-check';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { parseStorageLocationFile } from '../../src/storage/storage-location.js';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { parseCredentialsYaml } from '../../src/config/vcenter-credentials.js';
import { tempDir } from '../helpers/scenario.js';
import { anyJson, check, isRawError } from './fuzz.js';

const SERVICE = {
  listen: '127.0.0.1:50051',
  logLevel: 'info',
  storageLocations: [
    { name: 'minio', bucket: 'velero', prefix: 'tkg', s3Url: 'http://127.0.0.1:9000', s3ForcePathStyle: true, region: 'minio' },
  ],
  gate: { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false },
  analysis: { cacheTTL: '10m', timeout: '15m', skipAccessApiServer: false, vcenterTimeout: '30s' },
  watch: { enabled: false, interval: '10m' },
  shutdownTimeout: '10s',
};
const LOCATION = {
  apiVersion: 'velero.io/v1',
  kind: 'BackupStorageLocation',
  metadata: { name: 'default', namespace: 'velero' },
  spec: {
    provider: 'aws',
    objectStorage: { bucket: 'velero', prefix: 'tkg' },
    config: { region: 'minio', s3Url: 'http://127.0.0.1:9000', s3ForcePathStyle: 'true' },
  },
};
const CREDENTIALS = {
  'vc01.example.com': { username: 'u@vsphere.local', password: 'p' },
  'vc02.example.com:8443': { username: 'v', password: 'q' },
};

/** Every path to a value inside `value`. */
function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

/** YAML texts: random, of random values, the example with one value replaced, an alias bomb. */
function yamlTexts(example: object): fc.Arbitrary<string> {
  const paths = pathsOf(example);
  return fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
    fc.tuple(fc.nat(), anyJson).map(([where, value]) => {
      const copy = structuredClone(example) as Record<string, unknown>;
      const path = paths[where % paths.length]!;
      let at = copy;
      for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
      at[path.at(-1)!] = value;
      return stringify(copy);
    }),
    fc
      .tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }))
      .map(([levels, width]) =>
        [
          `a0: &a0 [x, x]`,
          ...Array.from({ length: levels }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(width).fill(`*a${i}`).join(', ')}]`),
        ].join('\n'),
      ),
    fc.tuple(fc.string({ maxLength: 60 }), fc.nat()).map(([junk, at]) => {
      const text = stringify(example);
      const i = at % text.length;
      return text.slice(0, i) + junk + text.slice(i);
    }),
  );
}

/** What is wrong with how `run` ended, or undefined when it read the text or refused it naming `file`. */
async function problemWith(run: () => unknown, file: string): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    if (isRawError(err)) return `raw error: ${String((err as Error).stack ?? err)}`;
    const message = (err as Error).message;
    return message.startsWith(`${file}: `) ? undefined : `does not name ${file}: ${message}`;
  }
}

test('the examples parse: the properties start from valid input', async (t) => {
  t.notThrows(() => parseStorageLocationFile(stringify(LOCATION), '/x/bsl.yaml'));
  t.notThrows(() => parseCredentialsYaml(stringify(CREDENTIALS), 'creds.yaml'));
  const dir = await tempDir('drift-fuzz-config-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'serve.yaml'), stringify(SERVICE));
  await t.notThrowsAsync(loadServiceConfig({ file: join(dir, 'serve.yaml'), env: {} }));
  t.deepEqual(parseYaml(stringify(SERVICE)), SERVICE);
});

test('storage-location file: read, or refused naming the file', async (t) => {
  await check(
    t,
    fc.asyncProperty(yamlTexts(LOCATION), async (text) => {
      const problem = await problemWith(() => parseStorageLocationFile(text, '/x/bsl.yaml'), 'bsl.yaml');
      if (problem) throw new Error(problem);
    }),
    300,
  );
});

test('vCenter credentials file: read, or refused naming the file', async (t) => {
  await check(
    t,
    fc.asyncProperty(yamlTexts(CREDENTIALS), async (text) => {
      const problem = await problemWith(() => parseCredentialsYaml(text, 'creds.yaml'), 'creds.yaml');
      if (problem) throw new Error(problem);
    }),
    300,
  );
});

test('service configuration: read, or refused naming the file', async (t) => {
  const dir = await tempDir('drift-fuzz-config-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'serve.yaml');
  await check(
    t,
    fc.asyncProperty(yamlTexts(SERVICE), async (text) => {
      await writeFile(file, text);
      const problem = await problemWith(() => loadServiceConfig({ file, env: {} }), 'serve.yaml');
      if (problem) throw new Error(problem);
    }),
    150,
  );
});
