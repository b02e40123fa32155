/**
 * End-to-end scenarios: a TKG backup from the fixture builder and a vcsim seeded with its VMs
 * "as they are now" (the test mutates them to model what changed after the backup).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { buildBackup, seedVMsFor, type BackupDescription, type FixtureBackup, type FixtureCluster } from '../fixtures/builder.js';
import type { SeedDatacenter, SeedVM, VcsimSeed } from './seed.js';
import { startVcsim, type Vcsim } from './vcsim.js';

/** Stands for the simulator's address in a description; replaced once vcsim runs. */
export const VCSIM = 'vcsim.invalid';

export interface ScenarioOptions {
  /** What changed in vSphere after the backup. */
  mutate?: (datacenters: SeedDatacenter[], backup: FixtureBackup) => void;
  /** What the backup says of the vCenter's certificate: 'pinned' (its real thumbprint, default), 'none', or another thumbprint. */
  thumbprint?: string;
  /** Credentials vcsim accepts (default: any). */
  login?: { username: string; password: string };
  /** Replace the vCenter address in the backup (e.g. a closed port). */
  server?: string;
}

export interface Scenario {
  backup: FixtureBackup;
  vcsim: Vcsim;
  seed: VcsimSeed;
}

export async function scenario(t: ExecutionContext, description: BackupDescription, options: ScenarioOptions = {}): Promise<Scenario> {
  const before = await buildBackup(description);
  const datacenters = seedVMsFor(before);
  options.mutate?.(datacenters, before);
  const seed: VcsimSeed = { datacenters, ...(options.login ?? {}) };
  const vcsim = await startVcsim(seed);
  t.teardown(() => vcsim.stop());
  const thumbprint =
    options.thumbprint === undefined || options.thumbprint === 'pinned'
      ? vcsim.thumbprint
      : options.thumbprint === 'none'
        ? undefined
        : options.thumbprint;
  const server = options.server ?? vcsim.server;
  const pointAt = (c: FixtureCluster): FixtureCluster =>
    c.vcenter.server === VCSIM ? { ...c, vcenter: { ...c.vcenter, server, ...(thumbprint ? { thumbprint } : { thumbprint: undefined }) } } : c;
  const backup = await buildBackup({ ...description, clusters: description.clusters.map(pointAt) });
  return { backup, vcsim, seed };
}

/**
 * A VM that appeared after the backup, looking like a CAPV machine (guestinfo.metadata), in the
 * folder and pool tkgCluster uses.
 */
export function capvVM(name: string, extra: Partial<SeedVM> = {}): SeedVM {
  return {
    name,
    uuid: randomUUID(),
    instanceUuid: randomUUID(),
    folder: 'tkg',
    resourcePool: 'tkg',
    extraConfig: { 'guestinfo.metadata': Buffer.from(`instance-id: "${name}"\n`).toString('base64') },
    ...extra,
  };
}

/** A TKG cluster on the simulator's vCenter, in folder `tkg` and pool `tkg` of DC0. */
export function tkgCluster(name: string, extra: Partial<FixtureCluster> = {}): FixtureCluster {
  return {
    name,
    vcenter: {
      server: VCSIM,
      datacenter: '/DC0',
      folder: '/DC0/vm/tkg',
      resourcePool: '/DC0/host/DC0_C0/Resources/tkg',
      ...extra.vcenter,
    },
    controlPlane: 1,
    workers: 2,
    ...extra,
  };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(root, 'build/src/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `drift-detector` as a user would, in its own process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export async function tempDir(prefix = 'drift-e2e-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
