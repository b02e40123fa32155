/**
 * Velero's side of a plugin image, offline: a stand-in for Velero's server image (glibc and no C++
 * runtime, like paketobuildpacks/ubuntu-noble-run-tiny and the distroless images before it) with
 * Velero's host (the Go harness) at /velero-host, run as a non-root user other than the copier's;
 * Velero's rule for which files under /plugins are plugins; the glibc of each Velero image.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, lstat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HARNESS, ROOT } from '../plugin/helpers.js';
import { rootfsFiles, type Buildah } from './buildah.js';

/** Velero's image runs as its own non-root user (cnb in the paketo images), not the copier's 65532. */
export const VELERO_USER = '1000:1000';

/** Velero's server image by release, and its glibc (vmware-tanzu/velero Dockerfile at each tag). */
export const VELERO_IMAGES = [
  { velero: 'v1.10-v1.12', image: 'gcr.io/distroless/base-nossl-debian11', glibc: '2.31' },
  { velero: 'v1.13-v1.18', image: 'paketobuildpacks/run-jammy-tiny', glibc: '2.35' },
  { velero: 'main since 2026-05', image: 'paketobuildpacks/ubuntu-noble-run-tiny', glibc: '2.39' },
] as const;

/**
 * The files Velero runs as plugins (pkg/plugin/clientmgmt/process/registry.go readPluginsDir):
 * every file below the directory, subdirectories included, with any execute bit.
 */
export async function veleroPluginFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory()) found.push(...(await veleroPluginFiles(path)));
    else if ((info.mode & 0o111) !== 0) found.push(path);
  }
  return found;
}

export interface VeleroStandIn {
  container: string;
  rootfs: string;
  /** The glibc version its libc.so.6 reports. */
  glibc: string;
  /** Any libstdc++ or libgcc_s in it (none, or the check proves nothing). */
  cxxRuntime: string[];
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    ),
  );
}

export async function veleroStandIn(buildah: Buildah): Promise<VeleroStandIn> {
  const container = await buildah.from('scratch');
  const rootfs = await buildah.mount(container);
  await run('bash', [
    join(ROOT, 'scripts', 'debian-rootfs.sh'),
    '--user',
    `cnb:${VELERO_USER}`,
    rootfs,
    'base-files',
    'netbase',
    'tzdata',
    'ca-certificates',
    'libc6',
  ]);
  await copyFile(HARNESS, join(rootfs, 'velero-host'));
  await chmod(join(rootfs, 'velero-host'), 0o755);
  const files = await rootfsFiles(rootfs);
  const libc = files.find((f) => basename(f) === 'libc.so.6');
  if (!libc) throw new Error('the Velero stand-in has no libc.so.6');
  const banner = (await buildah.run(container, [libc])).stdout;
  const glibc = /release version (\d+\.\d+)/.exec(banner)?.[1];
  if (!glibc) throw new Error(`cannot tell the stand-in's glibc version from: ${banner}`);
  return { container, rootfs, glibc, cxxRuntime: files.filter((f) => /^(libstdc\+\+|libgcc_s)\.so/.test(basename(f))) };
}
