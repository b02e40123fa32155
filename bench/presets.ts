/**
 * Benchmark scales. `default` is the management-cluster scale of issue 6; each preset has a
 * companion at a tenth of its scale, for the growth measure and the small-tarball RSS.
 */

export interface Preset {
  name: string;
  /** Workload clusters in the backup (the old management cluster comes on top, as in a real backup). */
  clusters: number;
  /** Machines per cluster: `controlPlane` of them control plane, the rest workers. */
  machinesPerCluster: number;
  controlPlane: number;
  /** Size of the uncompressed tarball; filler resources make up what the TKG objects do not. */
  tarballBytes: number;
  /** VMs in the simulated vCenter: the backup's machines, minus `stale`, plus `ghosts`, plus unrelated VMs. */
  vms: number;
  ghosts: number;
  stale: number;
  /** Incompressible bytes per filler ConfigMap (helm-release-like payloads); JSON is the rest. */
  fillerPadBytes: number;
  /** Runs whose median is taken. */
  runs: { scan: number; inventory: number; detect: number; serviceCold: number };
  /** Execute calls for the latency percentiles, and for the calls-per-second measure. */
  executeCalls: number;
  /**
   * Hostile input: Secret bombs of two sizes (entries of `secretMiB`), and the page cap a vCenter
   * that pages forever is stopped at (1000, the default, at full scale).
   */
  hostile: { secretMiB: number; secrets: [number, number]; pages: number };
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const PRESETS: Record<string, Preset> = {
  default: {
    name: 'default',
    clusters: 500,
    machinesPerCluster: 10,
    controlPlane: 3,
    tarballBytes: GiB,
    vms: 8_000,
    ghosts: 12,
    stale: 12,
    fillerPadBytes: 8 * 1024,
    runs: { scan: 5, inventory: 7, detect: 5, serviceCold: 3 },
    executeCalls: 3_000,
    hostile: { secretMiB: 15, secrets: [20, 80], pages: 1000 },
  },
  small: {
    name: 'small',
    clusters: 50,
    machinesPerCluster: 10,
    controlPlane: 3,
    tarballBytes: 100 * MiB,
    vms: 800,
    ghosts: 3,
    stale: 3,
    fillerPadBytes: 8 * 1024,
    runs: { scan: 3, inventory: 5, detect: 3, serviceCold: 2 },
    executeCalls: 1_000,
    hostile: { secretMiB: 15, secrets: [20, 80], pages: 1000 },
  },
  quick: {
    name: 'quick',
    clusters: 6,
    machinesPerCluster: 3,
    controlPlane: 1,
    tarballBytes: 4 * MiB,
    vms: 40,
    ghosts: 1,
    stale: 1,
    fillerPadBytes: 8 * 1024,
    runs: { scan: 2, inventory: 2, detect: 2, serviceCold: 1 },
    executeCalls: 100,
    hostile: { secretMiB: 15, secrets: [4, 16], pages: 200 },
  },
};

/** The companion at a tenth of the scale: `small` for `default`, a derived preset otherwise. */
export function tenthOf(preset: Preset): Preset {
  if (preset.name === 'default') return PRESETS.small!;
  return {
    ...preset,
    name: `${preset.name}-tenth`,
    clusters: Math.max(1, Math.round(preset.clusters / 10)),
    tarballBytes: Math.round(preset.tarballBytes / 10),
    vms: Math.max(1, Math.round(preset.vms / 10)),
    ghosts: Math.max(1, Math.round(preset.ghosts / 10)),
    stale: Math.max(1, Math.round(preset.stale / 10)),
  };
}

export function presetNamed(name: string): Preset {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`--preset: unknown preset "${name}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return preset;
}

/** Machines in the backup's workload clusters. */
export function machineCount(preset: Preset): number {
  return preset.clusters * preset.machinesPerCluster;
}
