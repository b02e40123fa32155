/**
 * Hostile variants of the example backup, written byte by byte: a plain ustar writer lets a test
 * put anything in a name (invalid UTF-8, `..`, a second copy) that a tar library would refuse or fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BackupSource } from '../../src/backup/source.js';
import { ROOT } from '../plugin/helpers.js';

export const EXAMPLE_BACKUP = join(ROOT, 'examples/backup/my-backup-data.tar.gz');
export const EXAMPLE_INVENTORY = join(ROOT, 'examples/inventory.json');

export interface RawEntry {
  name: string | Buffer;
  body: Buffer;
}

/** The example backup's file entries, in archive order. */
export function exampleEntries(): RawEntry[] {
  const tar = gunzipSync(readFileSync(EXAMPLE_BACKUP));
  const entries: RawEntry[] = [];
  let pax: string | undefined;
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(cString(header, 124, 12) || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
      continue;
    }
    const prefix = cString(header, 345, 155);
    const name = pax ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    pax = undefined;
    if (type === '0' || type === '\0') entries.push({ name, body: Buffer.from(body) });
  }
  return entries;
}

function cString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field
    .subarray(0, end < 0 ? length : end)
    .toString('utf8')
    .trim();
}

/** A plain tar of `entries` (ustar headers, names split into prefix and name), ended by two zero blocks. */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const { name, body } of entries) {
    const header = Buffer.alloc(512);
    const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : name;
    let split = bytes.length <= 100 ? -1 : bytes.lastIndexOf(0x2f, bytes.length - 2);
    while (split > 155) split = bytes.lastIndexOf(0x2f, split - 1);
    if (split >= 0) {
      bytes.copy(header, 0, split + 1);
      bytes.copy(header, 345, 0, split);
    } else bytes.copy(header, 0, 0, Math.min(100, bytes.length));
    header.write('0000644\0', 100, 'ascii');
    header.write('0000000\0', 108, 'ascii');
    header.write('0000000\0', 116, 'ascii');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    header.write('00000000000\0', 136, 'ascii');
    header.write('0', 156, 'ascii');
    header.write('ustar\0', 257, 'ascii');
    header.write('00', 263, 'ascii');
    header.fill(0x20, 148, 156);
    const sum = header.reduce((a, b) => a + b, 0);
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    parts.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function gzipTar(entries: RawEntry[]): Buffer {
  return gzipSync(rawTar(entries));
}

/** The example's entries with the JSON of the first entry whose name ends with `suffix` changed by `mutate`. */
export function withObject(suffix: string, mutate: (object: Record<string, any>) => void): RawEntry[] {
  let done = false;
  return exampleEntries().map((entry) => {
    if (done || !String(entry.name).endsWith(suffix)) return entry;
    done = true;
    const object = JSON.parse(entry.body.toString('utf8')) as Record<string, any>;
    mutate(object);
    return { name: entry.name, body: Buffer.from(JSON.stringify(object)) };
  });
}

/** A backup source that streams `bytes` as one chunk. */
export function bytesSource(description: string, bytes: Buffer): BackupSource {
  return { description, open: async () => Readable.from([bytes]) };
}

export const MACHINE = 'machines.cluster.x-k8s.io/namespaces/production/prod-payments-control-plane-gtd2l.json';
export const VSPHERE_VM = 'vspherevms.infrastructure.cluster.x-k8s.io/namespaces/production/prod-payments-control-plane-gtd2l.json';
export const CLUSTER = 'clusters.cluster.x-k8s.io/namespaces/production/prod-payments.json';
export const VSPHERE_CLUSTER = 'vsphereclusters.infrastructure.cluster.x-k8s.io/namespaces/production/prod-payments.json';

/** An item nested `depth` levels deep under spec. */
export function deepItem(name: string, depth: number): Buffer {
  return Buffer.from(`{"metadata":{"name":"${name}"},"spec":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);
}
