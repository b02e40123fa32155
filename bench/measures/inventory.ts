/**
 * vSphere inventory: our listVCenter walk against the Go reference (govmomi's property collector
 * over a ContainerView, same properties, same page size), on the same simulator. Each walk runs in
 * a fresh process, as a `detect` run pays it; the warm figures are the later walks of one process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Vcsim } from '../../test/helpers/vcsim.js';
import { expectExit, probePath, runProcess, type ProcessResult } from '../processes.js';

export interface Walk {
  ms: number;
  vms: number;
  capv: number;
  withFolder: number;
  withPool: number;
}

export interface InventorySamples {
  ours: Walk[];
  govmomi: Walk[];
  /** Walks after the first in one process. */
  oursWarm: Walk[];
  govmomiWarm: Walk[];
}

const WALK_TIMEOUT_MS = 5 * 60_000;
/** Walks per process for the warm figures; the first is dropped. */
const WARM_WALKS = 4;

export function govmomiBinary(repoRoot: string): string {
  const binary = join(repoRoot, 'test', 'harness', 'bin', 'govmomi-inventory');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run build:harness`);
  return binary;
}

export async function measureInventory(vcsim: Vcsim, binary: string, runs: number): Promise<InventorySamples> {
  const samples: InventorySamples = { ours: [], govmomi: [], oursWarm: [], govmomiWarm: [] };
  for (let i = 0; i < runs; i++) {
    samples.govmomi.push(...(await govmomi(vcsim, binary, 1)));
    samples.ours.push(...(await ours(vcsim, 1)));
  }
  samples.govmomiWarm = (await govmomi(vcsim, binary, WARM_WALKS)).slice(1);
  samples.oursWarm = (await ours(vcsim, WARM_WALKS)).slice(1);
  const mismatch = [...samples.ours, ...samples.govmomi].find((w) => !sameListing(w, samples.govmomi[0]!));
  if (mismatch) throw new Error(`the two walks disagree: ${JSON.stringify(mismatch)} vs ${JSON.stringify(samples.govmomi[0])}`);
  return samples;
}

async function ours(vcsim: Vcsim, walks: number): Promise<Walk[]> {
  const result = await runProcess(process.execPath, [probePath('list-vcenter'), vcsim.server, vcsim.thumbprint, String(walks)], {
    timeoutMs: WALK_TIMEOUT_MS,
  });
  return parseWalks(expectExit(result, 'listVCenter probe'));
}

async function govmomi(vcsim: Vcsim, binary: string, walks: number): Promise<Walk[]> {
  const result = await runProcess(binary, ['-url', vcsim.url, '-thumbprint', vcsim.thumbprint, '-runs', String(walks)], {
    timeoutMs: WALK_TIMEOUT_MS,
  });
  return parseWalks(expectExit(result, 'govmomi-inventory'));
}

function parseWalks(result: ProcessResult): Walk[] {
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Walk);
}

/** Both programs must find the same VMs, CAPV markers, folders and pools, or the timing means nothing. */
function sameListing(a: Walk, b: Walk): boolean {
  return a.vms === b.vms && a.capv === b.capv && a.withFolder === b.withFolder && a.withPool === b.withPool;
}
