/**
 * The bundled example's report, as `npm run example` makes it (its inventory snapshot, no API
 * server), and the same backup with its vCenter out of reach: the live listing of
 * vcenter.example.com fails as it does on any machine where that name does not resolve.
 */
import { resolve } from 'node:path';
import { detectDrift } from '../../src/app/detect.js';
import { fileBackupSource } from '../../src/backup/file-source.js';
import type { DriftReport } from '../../src/model/report.js';
import { readInventorySnapshot } from '../../src/vsphere/snapshot.js';

export const EXAMPLE_BACKUP = 'examples/backup/my-backup-data.tar.gz';
export const EXAMPLE_INVENTORY = 'examples/inventory.json';

const now = () => new Date('2026-12-01T09:00:00.000Z');

export async function exampleReport(): Promise<DriftReport> {
  const snapshot = await readInventorySnapshot(resolve(EXAMPLE_INVENTORY));
  const report = await detectDrift(fileBackupSource(resolve(EXAMPLE_BACKUP)), {
    inventory: { path: EXAMPLE_INVENTORY, snapshot },
    skipAccessApiServer: true,
    now,
  });
  return { ...report, metadata: { ...report.metadata!, backup: EXAMPLE_BACKUP } };
}

/** The example's backup read against its live vCenter, which cannot be reached from here. */
export async function exampleVCenterDownReport(): Promise<DriftReport> {
  const report = await detectDrift(fileBackupSource(resolve(EXAMPLE_BACKUP)), { skipAccessApiServer: true, vcenterTimeoutMs: 10_000, now });
  return { ...report, metadata: { ...report.metadata!, backup: EXAMPLE_BACKUP } };
}
