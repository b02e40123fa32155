/** Installing the tool as the README says: `npm install -g .` puts `drift-detector` on PATH; npm's install-script policy is declared. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';

const run = promisify(execFile);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
  engines: { node: string };
};

test('npm install -g . (from the built clone) puts a working drift-detector on PATH', async (t) => {
  const prefix = await tempDir('drift-install-');
  await run('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, ROOT], { timeout: 60_000 });
  const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
  const version = await run('drift-detector', ['--version'], { env, cwd: prefix, timeout: 30_000 });
  t.is(version.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  const example = ['--backup', join(ROOT, 'examples/backup/my-backup-data.tar.gz'), '--inventory', join(ROOT, 'examples/inventory.json')];
  const detect = await run('drift-detector', ['detect', ...example, '--skip-access-apiserver', '-o', join(prefix, 'report.json')], {
    env,
    cwd: prefix,
    timeout: 60_000,
  });
  t.regex(detect.stdout, /JSON report written to /);
});

test('allowScripts names exactly the dependencies with install scripts (npm 11 warns about the others on every npm ci)', (t) => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const withScripts = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.hasInstallScript)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
  t.deepEqual(Object.keys(packageJson.allowScripts ?? {}).sort(), withScripts);
  t.true(Object.values(packageJson.allowScripts ?? {}).every((allowed) => allowed));
});

test("README: Prerequisites state the engines' Node version", (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const min = /^>=(\d+\.\d+)$/.exec(packageJson.engines.node)![1]!;
  t.regex(readme, new RegExp(`Node\\.js ${min.replace('.', '\\.')} or later`));
  t.true(readme.includes('npm install -g .'));
});
