/**
 * What an ELF file asks of the machine that loads it: its architecture (from the header: a plugin
 * built for another architecture than its image's fails as "exec format error") and the newest
 * glibc symbol version it references (objdump -p: a library that needs a newer glibc than the image
 * has fails at load, "version `GLIBC_2.36' not found").
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

/** e_machine values, named as OCI image configurations name architectures. */
const MACHINES: Record<number, string> = { 3: '386', 40: 'arm', 62: 'amd64', 183: 'arm64', 21: 'ppc64le', 22: 's390x', 243: 'riscv64' };

export async function elfArchitecture(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(20), 0, 20, 0);
    if (bytesRead < 20 || buffer.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${path} is not an ELF file`);
    const machine = buffer[5] === 2 ? buffer.readUInt16BE(18) : buffer.readUInt16LE(18);
    return MACHINES[machine] ?? `e_machine ${machine}`;
  } finally {
    await file.close();
  }
}

/** "2.36" < "2.4" is false: versions compare numerically, part by part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The newest GLIBC_x.y among the file's version references, or undefined when it references none. */
export async function glibcNeeded(path: string): Promise<string | undefined> {
  const dump = await new Promise<string>((resolve, reject) =>
    execFile('objdump', ['-p', path], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new Error('objdump is not installed: apt-get install binutils'));
      else if (err) reject(new Error(`objdump -p ${path}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    }),
  );
  const at = dump.indexOf('Version References:');
  if (at < 0) return undefined;
  const references = dump.slice(at);
  const versions = [...references.matchAll(/\bGLIBC_(\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => m[1]!);
  return versions.sort(compareVersions).at(-1);
}
