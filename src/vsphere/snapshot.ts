import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { InventorySnapshot, InventoryVM, VCenterInventory } from '../model/inventory.js';

const KIND = 'DriftDetectorInventory';
const VERSION = 1;

/**
 * Writes an inventory snapshot atomically: a temporary file in the same directory, flushed,
 * then renamed over `path`, so a reader sees the old file or the whole new one, never half.
 */
export async function writeInventorySnapshot(path: string, vcenters: VCenterInventory[], takenAt: Date): Promise<void> {
  try {
    await writeFileAtomic(path, inventorySnapshotText(vcenters, takenAt), 0o644);
  } catch (err) {
    throw new Error(`${path}: cannot write the inventory snapshot: ${(err as Error).message}`, { cause: err });
  }
}

/** The snapshot file's text (JSON, one trailing newline). */
export function inventorySnapshotText(vcenters: VCenterInventory[], takenAt: Date): string {
  const snapshot: InventorySnapshot = { kind: KIND, version: VERSION, takenAt: takenAt.toISOString(), vcenters };
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

/** Reads and validates a snapshot; errors name the file and the field, e.g. `x.json: vcenters[0].vms[3].name: expected a string`. */
export async function readInventorySnapshot(path: string): Promise<InventorySnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the inventory snapshot: ${(err as Error).message}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseSnapshot(raw, new FieldReader(path));
}

/** Reports a bad field as `<file>: <field path>: <problem>`. */
class FieldReader {
  constructor(private readonly file: string) {}

  fail(field: string, problem: string): never {
    throw new Error(`${this.file}: ${field ? `${field}: ` : ''}${problem}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (!value || typeof value !== 'object' || Array.isArray(value)) this.fail(field, 'expected an object');
    return value as Record<string, unknown>;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'expected an array');
    return value;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.fail(field, 'expected a string');
    return value;
  }

  optionalString(value: unknown, field: string): string | undefined {
    return value === undefined ? undefined : this.string(value, field);
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'expected true or false');
    return value;
  }
}

function parseSnapshot(raw: unknown, read: FieldReader): InventorySnapshot {
  const top = read.object(raw, '');
  if (top.kind !== KIND) read.fail('kind', `expected "${KIND}", found ${JSON.stringify(top.kind)}`);
  if (top.version !== VERSION) read.fail('version', `expected ${VERSION}, found ${JSON.stringify(top.version)}`);
  const takenAt = read.string(top.takenAt, 'takenAt');
  if (Number.isNaN(Date.parse(takenAt))) read.fail('takenAt', `expected an ISO 8601 time, found ${JSON.stringify(takenAt)}`);
  const vcenters = read.array(top.vcenters, 'vcenters').map((entry, i) => {
    const field = `vcenters[${i}]`;
    const vcenter = read.object(entry, field);
    const key = read.string(vcenter.vcenter, `${field}.vcenter`);
    if (key.trim() === '') read.fail(`${field}.vcenter`, 'expected a vCenter name, found an empty string');
    const vms = read.array(vcenter.vms, `${field}.vms`).map((vm, j) => parseVM(vm, `${field}.vms[${j}]`, read));
    return { vcenter: key, vms };
  });
  return { kind: KIND, version: VERSION, takenAt, vcenters };
}

function parseVM(raw: unknown, field: string, read: FieldReader): InventoryVM {
  const vm = read.object(raw, field);
  const parsed: InventoryVM = {
    moref: read.string(vm.moref, `${field}.moref`),
    name: read.string(vm.name, `${field}.name`),
    template: read.boolean(vm.template, `${field}.template`),
    capvMetadata: read.boolean(vm.capvMetadata, `${field}.capvMetadata`),
  };
  const biosUuid = read.optionalString(vm.biosUuid, `${field}.biosUuid`);
  const instanceUuid = read.optionalString(vm.instanceUuid, `${field}.instanceUuid`);
  const optional = {
    biosUuid: biosUuid?.toLowerCase(),
    instanceUuid: instanceUuid?.toLowerCase(),
    powerState: read.optionalString(vm.powerState, `${field}.powerState`),
    datacenter: read.optionalString(vm.datacenter, `${field}.datacenter`),
    folder: read.optionalString(vm.folder, `${field}.folder`),
    resourcePool: read.optionalString(vm.resourcePool, `${field}.resourcePool`),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (parsed as unknown as Record<string, unknown>)[key] = value;
  }
  return parsed;
}
