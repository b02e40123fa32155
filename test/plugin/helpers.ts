/**
 * Running the plugin as Velero does: the single executable (dist/drift-detector, built by `npm run
 * build:plugin`) driven by the Go host harness (test/harness/bin/veleroplugin, built by `npm run
 * build:harness` with Debian's go-plugin), and Velero-shaped items.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureBackup, VeleroItem } from '../fixtures/builder.js';
import { requireIntegrationLane } from '../helpers/lane.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the tests');
    dir = parent;
  }
}

export const ROOT = repoRoot();
export const SEA = join(ROOT, 'dist', 'drift-detector');
export const HARNESS = join(ROOT, 'test', 'harness', 'bin', 'veleroplugin');
export const PLUGIN_NAME = 'driftdetector.dev/restore-gate';

/** A missing build fails the test with the command that makes it. */
export function requireBuilt(): void {
  requireIntegrationLane('the single executable and the go-plugin host');
  if (!existsSync(SEA)) throw new Error(`${SEA} is missing: run npm run build:plugin`);
  if (!existsSync(HARNESS)) throw new Error(`${HARNESS} is missing: run npm run build:harness`);
}

export interface HarnessCall {
  rpc: 'ListPlugins' | 'AppliesTo' | 'Execute' | 'Restore';
  plugin?: string;
  item?: Buffer;
  restore?: Buffer;
  itemFromBackup?: Buffer;
  /** Restore: the items in restore order, through every action whose AppliesTo matches them. */
  items?: RestoreItem[];
}

export interface RestoreItem {
  /** `resource.group`, as Velero names it (core: `secrets`). */
  resource: string;
  item: Buffer;
  itemFromBackup: Buffer;
}

/** What became of one item of a Restore call. */
export interface RestoredItem {
  resource: string;
  namespace: string;
  name: string;
  /** The actions that ran on it, in order. */
  actions: string[];
  error?: string;
  code?: string;
  skipRestore: boolean;
  /** Base64: the item as the last action left it. */
  item?: string;
}

export interface HarnessResult {
  rpc: string;
  ok: boolean;
  error?: string;
  code?: string;
  plugins?: Array<{ command: string; kind: string; name: string }>;
  registrationErrors?: string[];
  resourceSelector?: {
    includedNamespaces?: string[];
    excludedNamespaces?: string[];
    includedResources?: string[];
    excludedResources?: string[];
    selector?: string;
  };
  /** Base64 in the harness's JSON. */
  item?: string;
  skipRestore: boolean;
  items?: RestoredItem[];
  ms: number;
}

export interface HarnessOutcome {
  startError?: string;
  protocol?: string;
  negotiatedVersion?: number;
  network?: string;
  address?: string;
  results: HarnessResult[];
  killMs: number;
  exited: boolean;
}

/** One line of the host's log (hclog JSON); lines the plugin wrote come back under @module `velero.<file>`. */
export type HostLogLine = Record<string, unknown> & { '@level': string; '@message': string; '@module'?: string };

export interface HarnessRun {
  outcome: HarnessOutcome;
  hostLog: HostLogLine[];
  /** The lines go-plugin re-logged from the plugin's stderr. */
  pluginLog: HostLogLine[];
  /** What the plugin left in its TMPDIR (its socket, its proto copy): nothing, after a clean exit. */
  leftovers: string[];
}

/**
 * How Velero's host process is started, given its plan file, the environment it runs with and the
 * directory (its TMPDIR) that holds the plan: by default the harness on this machine.
 */
export type HostLauncher = (plan: string, env: NodeJS.ProcessEnv, dir: string) => { file: string; args: string[]; env: NodeJS.ProcessEnv };

const localHost: HostLauncher = (plan, env) => ({ file: HARNESS, args: [plan], env });

/**
 * Velero's host starting `command args...` with the environment `env` (plus go-plugin's own
 * variables), making the calls, then killing the plugin.
 */
export async function runHarness(options: {
  command?: string;
  args?: string[];
  calls: HarnessCall[];
  env?: NodeJS.ProcessEnv;
  launch?: HostLauncher;
}): Promise<HarnessRun> {
  requireBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'drift-harness-'));
  const plan = join(dir, 'plan.json');
  const command = options.command ?? SEA;
  await writeFile(
    plan,
    JSON.stringify({
      command,
      args: options.args ?? [],
      callTimeoutSeconds: 90,
      calls: options.calls.map((c) => ({
        rpc: c.rpc,
        plugin: c.plugin ?? '',
        ...(c.item ? { item: c.item.toString('base64') } : {}),
        ...(c.restore ? { restore: c.restore.toString('base64') } : {}),
        ...(c.itemFromBackup ? { itemFromBackup: c.itemFromBackup.toString('base64') } : {}),
        ...(c.items
          ? {
              items: c.items.map((i) => ({
                resource: i.resource,
                item: i.item.toString('base64'),
                itemFromBackup: i.itemFromBackup.toString('base64'),
              })),
            }
          : {}),
      })),
    }),
  );
  const host = (options.launch ?? localHost)(plan, { PATH: process.env['PATH'], HOME: process.env['HOME'], TMPDIR: dir, ...options.env }, dir);
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(host.file, host.args, { env: host.env, timeout: 180_000, maxBuffer: 64 * 1024 * 1024 }, (err, out, errText) =>
      err ? reject(new Error(`harness failed: ${err.message}\n${errText}`)) : resolve({ stdout: out, stderr: errText }),
    );
  });
  const hostLog = stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as HostLogLine;
      } catch {
        throw new Error(`the host's log is hclog JSON, but this line is not: ${line}`);
      }
    });
  const pluginModule = `velero.${command.split('/').pop()}`;
  const leftovers = (await readdir(dir)).filter((name) => name !== 'plan.json');
  await rm(dir, { recursive: true, force: true });
  return { outcome: JSON.parse(stdout) as HarnessOutcome, hostLog, pluginLog: hostLog.filter((l) => l['@module'] === pluginModule), leftovers };
}

export function itemOf(result: HarnessResult): Buffer {
  if (!result.item) throw new Error(`${result.rpc} returned no item: ${result.error ?? ''}`);
  return Buffer.from(result.item, 'base64');
}

/** The backed-up object of that resource and name (the pristine copy: Velero's itemFromBackup). */
export function backedUpObject(backup: FixtureBackup, resource: string, namespace: string, name: string): VeleroItem['object'] {
  const found = backup.items.find(
    (i) => i.resource === resource && i.object.metadata.name === name && (i.object.metadata.namespace ?? '') === namespace,
  );
  if (!found) throw new Error(`no ${resource} ${namespace}/${name} in the fixture backup`);
  return structuredClone(found.object);
}

/** What Velero sends as `item`: the backed-up object after resetMetadataAndStatus (pkg/restore/restore.go). */
export function veleroItem(object: Record<string, any>): Record<string, any> {
  const item = structuredClone(object);
  for (const key of [
    'generateName',
    'selfLink',
    'uid',
    'resourceVersion',
    'generation',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'ownerReferences',
  ]) {
    delete item['metadata']?.[key];
  }
  delete item['status'];
  return item;
}
