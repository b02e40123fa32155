import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import type { BackupSource } from '../../src/backup/source.js';
import type { FixtureVCenter } from '../fixtures/builder.js';

export const VCENTER: FixtureVCenter = {
  server: 'vc01.example.com',
  thumbprint: '3A:1F:62:C0:9E:5B:77:20:41:0D:AB:CF:12:34:56:78:9A:BC:DE:F0',
  datacenter: '/DC0',
  folder: '/DC0/vm/tkg',
  resourcePool: '/DC0/host/DC0_C0/Resources/tkg',
  username: 'tkg-user@vsphere.local',
  password: 'S3cr3t-vsphere-pw',
};

/** A scratch directory per test file, removed afterwards. */
export async function scratchDir(): Promise<{ path: (name: string) => string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'drift-backup-test-'));
  return { path: (name) => join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface StreamedEntry {
  name: string;
  /** A body, or a size to stream as zero-filled chunks produced on demand. */
  body: string | { size: number };
}

/**
 * A source whose plain-tar bytes are produced on demand, so an entry can be far larger than
 * anything a test could hold (or never end). `destroyed()` tells whether the reader let go of it.
 */
export function streamedSource(description: string, entries: StreamedEntry[]): BackupSource & { destroyed(): boolean } {
  let stream: Readable | undefined;
  return {
    description,
    destroyed: () => stream?.destroyed ?? false,
    async open() {
      const pack = tarPack();
      stream = Readable.from(pack);
      void (async () => {
        const chunk = Buffer.alloc(64 * 1024);
        for (const entry of entries) {
          if (typeof entry.body === 'string') {
            await new Promise<void>((resolve, reject) =>
              pack.entry({ name: entry.name, mode: 0o755, type: 'file' }, entry.body as string, (err) => (err ? reject(err) : resolve())),
            );
            continue;
          }
          const { size } = entry.body;
          const sink = pack.entry({ name: entry.name, size, mode: 0o755, type: 'file' });
          for (let written = 0; written < size && !sink.destroyed; written += chunk.length) {
            // Yield to the event loop as a socket or file would, so timers (an abort) can fire.
            await new Promise((resolve) => setImmediate(resolve));
            const part = chunk.subarray(0, Math.min(chunk.length, size - written));
            if (!sink.write(part)) {
              await new Promise<void>((resolve) => {
                const done = () => {
                  sink.off('drain', done);
                  sink.off('close', done);
                  resolve();
                };
                sink.on('drain', done);
                sink.on('close', done);
              });
            }
          }
          sink.end(undefined);
        }
        pack.finalize();
      })().catch(() => {
        // The reader destroyed the stream: nothing more to produce.
      });
      return stream;
    },
  };
}
