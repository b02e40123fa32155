/** The plugin's environment: the README's table, the code's list and the variables src/plugin reads agree. */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../../src/config/defaults.js';
import { PLUGIN_ENVIRONMENT } from '../../src/plugin/environment.js';
import { MAGIC_COOKIE_KEY } from '../../src/plugin/protocol.js';
import { ROOT } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const source = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The rows of the table under "### The plugin's environment": each variable named, who sets it, what it does. */
function readmeRows(): Map<string, { setBy: string; text: string }> {
  const section = /^### The plugin's environment\n([\s\S]*?)^#/m.exec(README)?.[1];
  if (!section) throw new Error('README: no section "### The plugin\'s environment"');
  const rows = new Map<string, { setBy: string; text: string }>();
  for (const [, names, setBy, text] of section.matchAll(/^\| (`[A-Z0-9_]+`(?:, `[A-Z0-9_]+`)*) \| ([^|]+) \| ([^\n]+) \|$/gm)) {
    for (const [, name] of names!.matchAll(/`([A-Z0-9_]+)`/g)) rows.set(name!, { setBy: setBy!.trim(), text: text! });
  }
  return rows;
}

test("README: the plugin's environment table lists exactly the code's variables, with who sets them", (t) => {
  const rows = readmeRows();
  t.deepEqual([...rows.keys()].sort(), PLUGIN_ENVIRONMENT.map((v) => v.name).sort());
  for (const v of PLUGIN_ENVIRONMENT) t.is(rows.get(v.name)?.setBy, v.setBy, v.name);
  t.regex(rows.get('VELERO_NAMESPACE')!.text, new RegExp(`Default: \`${DEFAULTS.velero.namespace}\``));
});

test('every variable src/plugin reads is in the list, and so are those its cluster and bucket access honour', (t) => {
  const listed = new Set(PLUGIN_ENVIRONMENT.map((v) => v.name));
  const dir = join(ROOT, 'src', 'plugin');
  const read = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const [, name] of source(join('src', 'plugin', file)).matchAll(/env\['([A-Z][A-Z0-9_]*)'\](?!\s*=[^=])/g)) read.add(name!); // reads, not writes (TMPDIR)
  }
  t.true(read.size >= 4, 'the scan finds the reads');
  for (const name of read) t.true(listed.has(name), `src/plugin reads ${name}, which the list (and the README) lack`);
  t.true(listed.has(MAGIC_COOKIE_KEY));
  t.true(source('src/kube/config.ts').includes("env['KUBECONFIG']") && listed.has('KUBECONFIG'));
  t.true(source('src/storage/s3-client.ts').includes("env['AWS_SHARED_CREDENTIALS_FILE']") && listed.has('AWS_SHARED_CREDENTIALS_FILE'));
});

test("README: the action names Velero lists are the service's RestoreItemAction names", async (t) => {
  const { RESTORE_GATE_NAMES } = await import('../../src/rpc/restore-gate-actions.js');
  for (const name of RESTORE_GATE_NAMES) t.true(README.includes(`\`${name}\``), name);
});
