/**
 * buildah as the image checks use it: a private vfs storage under a temporary directory (runs do not
 * collide, nothing outlives the checks), chroot isolation (no daemon, no OCI runtime, no registry),
 * images read back through their OCI configuration, containers started the way a runtime would.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
}

export interface Image {
  name: string;
  architecture: string;
  os: string;
  config: ImageConfig;
  /** As buildah reports it (uncompressed, e.g. "124 MB"). */
  size: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  user?: string;
  env?: Record<string, string>;
  /** `host:container[:ro]` bind mounts. */
  volumes?: string[];
}

/** Fails, naming the package to install, when buildah is not on PATH. */
export function requireBuildah(): void {
  const found = spawnSync('buildah', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0)
    throw new Error('buildah is not installed: apt-get install buildah (the image checks build and run the images with it)');
}

/** Every file (not directory) below a root filesystem, as absolute paths inside it. */
export async function rootfsFiles(rootfs: string, below = '/'): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(rootfs, below), { withFileTypes: true })) {
    const path = join(below, entry.name);
    if (entry.isDirectory()) found.push(...(await rootfsFiles(rootfs, path)));
    else found.push(path);
  }
  return found.sort();
}

/** Never rejects: the exit code says how it went (-1: not started or killed). */
function buildah(args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile('buildah', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export class Buildah {
  private readonly containers = new Set<string>();

  private constructor(readonly root: string) {}

  static async create(): Promise<Buildah> {
    requireBuildah();
    return new Buildah(await mkdtemp(join(tmpdir(), 'drift-images-')));
  }

  /** The storage options every call takes; scripts/build-images.sh --root ROOT uses the same. */
  get storage(): string[] {
    return ['--root', join(this.root, 'storage'), '--runroot', join(this.root, 'run'), '--storage-driver', 'vfs'];
  }

  async exec(args: string[], timeoutMs = 300_000): Promise<string> {
    const result = await this.tryExec(args, timeoutMs);
    if (result.code !== 0) throw new Error(`buildah ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
    return result.stdout;
  }

  tryExec(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    return buildah([...this.storage, ...args], timeoutMs);
  }

  async image(name: string): Promise<Image> {
    const info = JSON.parse(await this.exec(['inspect', '--type', 'image', name])) as {
      OCIv1: { architecture: string; os: string; config?: ImageConfig };
    };
    const listed = JSON.parse(await this.exec(['images', '--json', name])) as Array<{ size: string }>;
    return { name, architecture: info.OCIv1.architecture, os: info.OCIv1.os, config: info.OCIv1.config ?? {}, size: listed[0]?.size ?? '?' };
  }

  /** A working container of the image, removed by remove(). */
  async from(image: string): Promise<string> {
    const id = (await this.exec(['from', '--pull=never', '--quiet', image])).trim();
    this.containers.add(id);
    return id;
  }

  /** The container's root filesystem on this machine (vfs: a plain directory). */
  async mount(container: string): Promise<string> {
    return (await this.exec(['mount', container])).trim();
  }

  /** `buildah run` arguments: chroot isolation, the host's network (loopback tests). */
  runArgs(container: string, command: string[], options: RunOptions = {}): string[] {
    return [
      ...this.storage,
      'run',
      '--isolation',
      'chroot',
      ...(options.user ? ['--user', options.user] : []),
      ...Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...(options.volumes ?? []).flatMap((v) => ['--volume', v]),
      container,
      '--',
      ...command,
    ];
  }

  run(container: string, command: string[], options: RunOptions = {}): Promise<RunResult> {
    return buildah(this.runArgs(container, command, options), 120_000);
  }

  /** The image's entrypoint and command, as its user, as a runtime starts a container of it. */
  runEntrypoint(container: string, image: Image, options: Omit<RunOptions, 'user'> = {}): Promise<RunResult> {
    const command = [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
    if (command.length === 0) throw new Error(`${image.name} has neither entrypoint nor command`);
    return this.run(container, command, { ...options, ...(image.config.User ? { user: image.config.User } : {}) });
  }

  async remove(): Promise<void> {
    for (const id of this.containers) await this.tryExec(['rm', id]);
    this.containers.clear();
    await rm(this.root, { recursive: true, force: true });
  }
}
