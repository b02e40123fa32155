/**
 * Scale fixtures: a TKG backup of N clusters x M machines padded with filler resources up to a
 * target tarball size, and the vcsim inventory that goes with it (the backup's VMs with a few
 * ghosts and stale machines, plus unrelated VMs up to V).
 *
 * The filler, almost all of the bytes, does not depend on the simulator and is cached per preset
 * as one gzip member. The TKG objects name the simulator (its random port and its certificate's
 * thumbprint), so each run writes them anew as a first gzip member and appends the cached filler:
 * a valid gzip stream (RFC 1952 allows several members; gzip and zlib read them in turn) of one
 * valid tar archive.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  fillerItems,
  itemPaths,
  seedVMsFor,
  tkgBackupItems,
  writeVeleroTarball,
  type BackupDescription,
  type FixtureCluster,
  type FixtureClusterResult,
  type VeleroItem,
} from '../test/fixtures/builder.js';
import type { SeedDatacenter, SeedVM, VcsimSeed } from '../test/helpers/seed.js';
import type { Preset } from './presets.js';

/** Bump when the generated content changes, so cached fixtures are rebuilt. */
const GENERATOR_VERSION = 1;
/** Velero writes with Go's default gzip level. */
const GZIP_LEVEL = 6;
const TAR_BLOCK = 512;
/** tar-stream's finalize() writes two zero blocks, the end-of-archive marker. */
const END_OF_ARCHIVE = 2 * TAR_BLOCK;
const CLUSTERS_PER_NAMESPACE = 20;
const DATACENTERS = ['DC0', 'DC1'];
/** Where the simulator's VMs go when they belong to no TKG cluster. */
const APP_FOLDER_GROUPS = 8;
const TEMPLATES = 4;

export interface VCenterAddress {
  /** `127.0.0.1:PORT`, as `spec.server`. */
  server: string;
  thumbprint: string;
}

interface Manifest {
  generator: number;
  /** The preset's fields that shape the content (not its run counts). */
  content: FixtureContent;
  /** Uncompressed bytes of the cached filler member, its end-of-archive marker included. */
  fillerTarBytes: number;
  fillerGzipBytes: number;
  fillerItems: number;
  vms: number;
  ghosts: string[];
  stale: string[];
}

type FixtureContent = Pick<
  Preset,
  'clusters' | 'machinesPerCluster' | 'controlPlane' | 'tarballBytes' | 'vms' | 'ghosts' | 'stale' | 'fillerPadBytes'
>;

function contentOf(p: Preset): FixtureContent {
  const { clusters, machinesPerCluster, controlPlane, tarballBytes, vms, ghosts, stale, fillerPadBytes } = p;
  return { clusters, machinesPerCluster, controlPlane, tarballBytes, vms, ghosts, stale, fillerPadBytes };
}

export interface ScaleFixture {
  preset: Preset;
  dir: string;
  fillerPath: string;
  seed: VcsimSeed;
  manifest: Manifest;
}

export interface ScaleBackup {
  path: string;
  /** Uncompressed size of the tarball. */
  tarBytes: number;
  /** Size of the file. */
  gzipBytes: number;
  clusters: FixtureClusterResult[];
  /** What the drift report should find. */
  expected: { clusters: number; machines: number; ghosts: number; stale: number };
}

/** The cached fixture of a preset, generated first when missing or made by another generator version. */
export async function prepareFixture(preset: Preset, cacheDir: string, log: (msg: string) => void): Promise<ScaleFixture> {
  const dir = join(cacheDir, preset.name);
  const fillerPath = join(dir, 'filler.tar.gz');
  const seedPath = join(dir, 'seed.json');
  const manifestPath = join(dir, 'manifest.json');
  const cached = await readManifest(manifestPath);
  if (cached && cached.generator === GENERATOR_VERSION && JSON.stringify(cached.content) === JSON.stringify(contentOf(preset))) {
    const [filler, seed] = await Promise.all([stat(fillerPath).catch(() => undefined), readFile(seedPath, 'utf8').catch(() => undefined)]);
    if (filler?.size === cached.fillerGzipBytes && seed !== undefined) {
      return { preset, dir, fillerPath, seed: JSON.parse(seed) as VcsimSeed, manifest: cached };
    }
  }

  log(
    `fixture ${preset.name}: generating (${preset.clusters} clusters x ${preset.machinesPerCluster} machines, ${mib(preset.tarballBytes)} tarball, ${preset.vms} VMs)`,
  );
  const started = Date.now();
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });

  // The TKG part's size with a stand-in address of the same length as the real ones.
  const probe = join(dir, 'head-probe.tar');
  const { clusters } = await writeHeadTar(preset, { server: '127.0.0.1:65535', thumbprint: STAND_IN_THUMBPRINT }, probe);
  const headBytes = (await stat(probe)).size - END_OF_ARCHIVE;
  await rm(probe);

  const fillerTemp = `${fillerPath}.tmp`;
  const filler = await writeFiller(preset, Math.max(0, preset.tarballBytes - headBytes), namespacesOf(preset), fillerTemp);
  await rename(fillerTemp, fillerPath);
  const fillerGzipBytes = (await stat(fillerPath)).size;

  const { seed, ghosts, stale } = seedFor(preset, clusters);
  await writeFile(seedPath, JSON.stringify(seed));
  const manifest: Manifest = {
    generator: GENERATOR_VERSION,
    content: contentOf(preset),
    fillerTarBytes: await gzipMemberSize(fillerPath),
    fillerGzipBytes,
    fillerItems: filler.items,
    vms: seed.datacenters.reduce((n, d) => n + d.vms.length, 0),
    ghosts,
    stale,
  };
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  log(
    `fixture ${preset.name}: ${mib(headBytes + manifest.fillerTarBytes)} tarball, ${manifest.vms} VMs in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { preset, dir, fillerPath, seed, manifest };
}

/**
 * Writes the backup tarball for a simulator at `vcenter`: the TKG objects (naming it) as the first
 * gzip member, then the cached filler.
 */
export async function writeScaleBackup(fixture: ScaleFixture, vcenter: VCenterAddress, path: string): Promise<ScaleBackup> {
  const headTar = `${path}.head.tar`;
  try {
    const { clusters } = await writeHeadTar(fixture.preset, vcenter, headTar);
    const headSize = (await stat(headTar)).size;
    await checkEndOfArchive(headTar, headSize);
    // Everything but the end-of-archive marker: the filler's entries follow in the same archive.
    await pipeline(
      createReadStream(headTar, { end: headSize - END_OF_ARCHIVE - 1 }),
      createGzip({ level: GZIP_LEVEL }),
      createWriteStream(path),
    );
    await pipeline(createReadStream(fixture.fillerPath), createWriteStream(path, { flags: 'a' }));
    const workload = clusters.filter((c) => !c.management);
    return {
      path,
      tarBytes: headSize - END_OF_ARCHIVE + fixture.manifest.fillerTarBytes,
      gzipBytes: (await stat(path)).size,
      clusters,
      expected: {
        clusters: workload.length,
        machines: workload.reduce((n, c) => n + c.machines.length, 0),
        ghosts: fixture.manifest.ghosts.length,
        stale: fixture.manifest.stale.length,
      },
    };
  } finally {
    await rm(headTar, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The backup

const STAND_IN_THUMBPRINT = Array.from({ length: 20 }, () => 'AA').join(':');

function namespacesOf(preset: Preset): string[] {
  const count = Math.ceil(preset.clusters / CLUSTERS_PER_NAMESPACE);
  return Array.from({ length: count }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
}

/** Clusters spread over tenant namespaces and two datacenters; every other one class-based (TKG 2). */
export function describeBackup(preset: Preset, vcenter: VCenterAddress): BackupDescription {
  const namespaces = namespacesOf(preset);
  const clusters: FixtureCluster[] = [];
  for (let i = 0; i < preset.clusters; i++) {
    const nsIndex = Math.floor(i / CLUSTERS_PER_NAMESPACE);
    const namespace = namespaces[nsIndex]!;
    const dc = DATACENTERS[nsIndex % DATACENTERS.length]!;
    clusters.push({
      name: `wc-${String(i).padStart(4, '0')}`,
      namespace,
      classBased: i % 2 === 1,
      vcenter: {
        server: vcenter.server,
        thumbprint: vcenter.thumbprint,
        datacenter: `/${dc}`,
        folder: `/${dc}/vm/tkg/${namespace}`,
        resourcePool: `/${dc}/host/${dc}_C0/Resources/tkg`,
      },
      controlPlane: preset.controlPlane,
      workers: preset.machinesPerCluster - preset.controlPlane,
    });
  }
  return { seed: `bench-${preset.name}`, clusters, managementCluster: true, filler: false };
}

async function writeHeadTar(preset: Preset, vcenter: VCenterAddress, path: string): Promise<{ clusters: FixtureClusterResult[] }> {
  const { items, secondary, clusters } = tkgBackupItems(describeBackup(preset, vcenter));
  await writeVeleroTarball(path, [...items, ...secondary], { gzip: false });
  return { clusters };
}

async function checkEndOfArchive(path: string, size: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    const tail = Buffer.alloc(END_OF_ARCHIVE);
    await file.read(tail, 0, END_OF_ARCHIVE, size - END_OF_ARCHIVE);
    if (size < END_OF_ARCHIVE || tail.some((b) => b !== 0)) throw new Error(`${path}: does not end with the tar end-of-archive marker`);
  } finally {
    await file.close();
  }
}

/** Filler items until their tar entries reach `targetBytes`, written as one gzip member. */
async function writeFiller(preset: Preset, targetBytes: number, namespaces: string[], path: string): Promise<{ items: number }> {
  let items = 0;
  function* upToTarget(): Generator<VeleroItem> {
    let bytes = 0;
    const all = fillerItems({ seed: `bench-${preset.name}`, namespaces, count: Number.MAX_SAFE_INTEGER, padBytes: preset.fillerPadBytes });
    for (const item of all) {
      if (bytes >= targetBytes) return;
      bytes += tarEntriesBytes(item);
      items++;
      yield item;
    }
  }
  await writeVeleroTarball(path, upToTarget(), { formatVersion: null, gzipLevel: GZIP_LEVEL });
  return { items };
}

/** The tar bytes of an item's entries: a header block and the body in whole blocks, per copy. */
function tarEntriesBytes(item: VeleroItem): number {
  const body = Buffer.byteLength(JSON.stringify(item.object));
  return itemPaths(item).length * (TAR_BLOCK + Math.ceil(body / TAR_BLOCK) * TAR_BLOCK);
}

/** The uncompressed size of a single-member gzip file under 4 GiB (the ISIZE trailer). */
async function gzipMemberSize(path: string): Promise<number> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const trailer = Buffer.alloc(4);
    await file.read(trailer, 0, 4, size - 4);
    return trailer.readUInt32LE(0);
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The simulator's inventory

/**
 * The backup's VMs as vSphere holds them now: `stale` workers deleted (Stale machines), `ghosts`
 * workers added to existing MachineDeployments (Ghosts), then unrelated VMs and templates, outside
 * any TKG folder and without CAPV metadata, up to `preset.vms`.
 */
function seedFor(preset: Preset, clusters: FixtureClusterResult[]): { seed: VcsimSeed; ghosts: string[]; stale: string[] } {
  const datacenters: SeedDatacenter[] = seedVMsFor({ clusters });
  const byName = new Map(datacenters.map((d) => [d.name, d]));
  const workload = clusters.filter((c) => !c.management);
  const spread = <T>(list: T[], n: number): T[] =>
    Array.from({ length: Math.min(n, list.length) }, (_, i) => list[Math.floor((i * list.length) / n)]!);

  const stale: string[] = [];
  for (const cluster of spread(workload, preset.stale)) {
    const worker = cluster.machines.find((m) => !m.controlPlane) ?? cluster.machines[0]!;
    const dc = byName.get(worker.datacenter.replace(/^\/+/, ''))!;
    dc.vms = dc.vms.filter((vm) => vm.name !== worker.name);
    stale.push(worker.name);
  }

  const ghosts: string[] = [];
  // Offset by one so a cluster does not get both a stale machine and a ghost.
  for (const [i, cluster] of spread(workload.slice(1), preset.ghosts).entries()) {
    const model = cluster.machines.find((m) => !m.controlPlane) ?? cluster.machines[0]!;
    const dc = byName.get(model.datacenter.replace(/^\/+/, ''))!;
    const existing = dc.vms.find((vm) => vm.name === model.name) ?? dc.vms[0]!;
    const name = `${cluster.machineDeploymentName}-6f7d9c8b5-gh${String(i).padStart(3, '0')}`;
    dc.vms.push({ ...existing, name, uuid: uuidFrom('bios', name), instanceUuid: uuidFrom('instance', name), extraConfig: capvMetadata(name) });
    ghosts.push(name);
  }

  const unrelated = Math.max(0, preset.vms - datacenters.reduce((n, d) => n + d.vms.length, 0));
  for (let i = 0; i < unrelated; i++) {
    const dc = datacenters[i % datacenters.length]!;
    const group = `apps/group-${i % APP_FOLDER_GROUPS}`;
    dc.folders = [...new Set([...(dc.folders ?? []), 'apps', group])];
    const template = i < TEMPLATES;
    const name = template ? `ubuntu-2204-kube-v1.28-template-${i}` : `app-${String(i).padStart(5, '0')}`;
    const vm: SeedVM = {
      name,
      uuid: uuidFrom('bios', name),
      instanceUuid: uuidFrom('instance', name),
      folder: group,
      ...(template ? { template: true } : {}),
    };
    dc.vms.push(vm);
  }
  return { seed: { datacenters }, ghosts, stale };
}

function capvMetadata(name: string): Record<string, string> {
  const metadata = `instance-id: "${name}"\nlocal-hostname: "${name}"\nwait-on-network:\n  ipv4: true\n`;
  return { 'guestinfo.metadata': Buffer.from(metadata).toString('base64'), 'guestinfo.metadata.encoding': 'base64' };
}

/** A stable UUID per name, so a regenerated fixture is the same fixture. */
function uuidFrom(kind: string, name: string): string {
  const h = createHash('sha256').update(`${kind}\0${name}`).digest('hex');
  return `${kind === 'bios' ? '42' : h.slice(0, 2)}${h.slice(2, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

async function readManifest(path: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

export function mib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
