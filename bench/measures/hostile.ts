/**
 * Peak RSS under hostile input, at two sizes of the same attack: a backup of many large Secret
 * entries (the Secret bomb), and a vCenter that answers every page with a token for one more.
 * Each run is a fresh process; flat means the larger attack costs what the smaller one does.
 */
import { startFakeVim } from '../../test/vsphere/fake-vim.js';
import type { Preset } from '../presets.js';
import { expectExit, lastJsonLine, probePath, runProcess } from '../processes.js';
import { measure, MiB, type Measure } from '../results.js';
import { median } from '../stats.js';

export interface HostileRun {
  ms: number;
  maxRssBytes: number;
  outcome: string;
}

/** Secret bombs by size, the smaller first; walks of the endless vCenter (stopped at a cap) and of one that ends there. */
export interface HostileSamples {
  secrets: [HostileRun[], HostileRun[]];
  paging: { endless: HostileRun[]; finite: HostileRun[] };
}

const RUN_TIMEOUT_MS = 5 * 60_000;
/** VMs per page of the endless vCenter. */
const ENDLESS_PAGE_VMS = 10;

async function probe(args: string[]): Promise<HostileRun> {
  const result = expectExit(
    await runProcess(process.execPath, [probePath('hostile'), ...args], { timeoutMs: RUN_TIMEOUT_MS }),
    `hostile ${args[0]}`,
  );
  return lastJsonLine<HostileRun>(result, 'hostile probe');
}

export async function measureHostile(preset: Preset, runs: number): Promise<HostileSamples> {
  const { secretMiB, secrets, pages: cap } = preset.hostile;
  const repeat = async (args: string[]) => {
    const out: HostileRun[] = [];
    for (let i = 0; i < runs; i++) out.push(await probe(args));
    return out;
  };
  const bombs = [
    await repeat(['secrets', String(secrets[0]), String(secretMiB)]),
    await repeat(['secrets', String(secrets[1]), String(secretMiB)]),
  ];
  const walk = async (endlessPages: number | undefined, maxPages: number) => {
    const fake = await startFakeVim({ vms: [], pageSize: ENDLESS_PAGE_VMS, endless: true, ...(endlessPages ? { endlessPages } : {}) });
    try {
      return await repeat(['paging', fake.server, fake.thumbprint, String(maxPages)]);
    } finally {
      await fake.stop();
    }
  };
  // The attacker pages forever and is stopped at the cap; the honest vCenter has as many pages and ends.
  return { secrets: [bombs[0]!, bombs[1]!], paging: { endless: await walk(undefined, cap), finite: await walk(cap, cap + 1) } };
}

export function hostileMeasures(samples: HostileSamples, preset: Preset): Measure[] {
  const { secretMiB, secrets, pages } = preset.hostile;
  const rss = (runs: HostileRun[]) => runs.map((r) => r.maxRssBytes / MiB);
  const flat = { on: 'ratio' as const, max: 1.25, text: '<= 1.25x (flat)' };
  return [
    measure({
      id: 'hostile.secrets.rss',
      label: `Secret bomb peak RSS, ${secrets[1]} x ${secretMiB} MiB`,
      unit: 'MiB',
      ours: median(rss(samples.secrets[1])),
      baseline: median(rss(samples.secrets[0])),
      baselineLabel: `${secrets[0]} x ${secretMiB} MiB`,
      target: flat,
      samples: { ours: rss(samples.secrets[1]), baseline: rss(samples.secrets[0]) },
      note: `readBackup of ${secrets[1] * secretMiB} MiB of Secrets with a key the analysis never reads: ${samples.secrets[1][0]?.outcome}`,
    }),
    measure({
      id: 'hostile.paging.rss',
      label: `endless-paging vCenter peak RSS, cap ${pages} pages`,
      unit: 'MiB',
      ours: median(rss(samples.paging.endless)),
      baseline: median(rss(samples.paging.finite)),
      baselineLabel: `a vCenter of ${pages} pages`,
      target: flat,
      samples: { ours: rss(samples.paging.endless), baseline: rss(samples.paging.finite) },
      note: `${ENDLESS_PAGE_VMS} VMs a page; listVCenter with maxPages ${pages}: ${samples.paging.endless[0]?.outcome}`,
    }),
  ];
}
