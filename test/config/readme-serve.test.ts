/** The README's smallest serve.yaml is a configuration serve starts with, as the README says. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadServiceConfig } from '../../src/app/service-config.js';
import { tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('README: the smallest serve.yaml loads, serving on the default loopback address without TLS', async (t) => {
  const block = /The smallest\n`serve\.yaml`[\s\S]*?```yaml\n([\s\S]*?)```/.exec(README)?.[1];
  if (!block) return t.fail('README: no smallest serve.yaml');
  const dir = await tempDir('drift-readme-');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const credentials = join(dir, 'cloud');
  await writeFile(credentials, '[default]\naws_access_key_id=a\naws_secret_access_key=b\n');
  const file = join(dir, 'serve.yaml');
  t.true(block.includes('/path/to/cloud'), 'the example names its credentials file');
  await writeFile(file, block.replace('/path/to/cloud', credentials));
  const config = await loadServiceConfig({ file, env: {} });
  t.is(config.listen, DEFAULTS.service.listen);
  t.is(config.tls, undefined);
  t.deepEqual(
    config.storageLocations.map((l) => [l.name, l.location.bucket, l.location.credentialsFile]),
    [['default', 'velero', credentials]],
  );
});
