/**
 * The service's storage locations: `storageLocations` of its YAML (each a file, or the keys of a
 * flat location file inline) and `--storage-location FILE`, which becomes the default.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULTS } from '../config/defaults.js';
import { ConfigError, type ConfigReader } from '../config/values.js';
import { unreadableReason } from '../util/files.js';
import { isMap } from '../util/values.js';
import { StorageLocationError } from './errors.js';
import { FLAT_KEYS, parseStorageLocationFile, readStorageLocationFile, type StorageLocation } from './storage-location.js';

export interface ConfiguredStorageLocation {
  name: string;
  isDefault: boolean;
  location: StorageLocation;
  /** Bound on each try of an S3 request, in ms. */
  timeoutMs: number;
  /** Bound on one whole read from the bucket (every try, the download), in ms. */
  deadlineMs: number;
}

const LOCATION_KEYS = ['name', 'default', 'file', 'timeout', 'deadline'];
/** The keys of a flat storage-location entry (a BSL manifest, with spec, is checked by its own parser). */
const FLAT_LOCATION_KEYS = [...new Set([...LOCATION_KEYS, ...FLAT_KEYS])];

/** `r` reads the whole configuration; `origin` and `baseDir` name its file and where relative paths start. */
export async function readStorageLocations(
  r: ConfigReader,
  fromFlag: string | undefined,
  origin: string,
  baseDir: string,
): Promise<ConfiguredStorageLocation[]> {
  const result: ConfiguredStorageLocation[] = [];
  if (fromFlag !== undefined) {
    const location = await readStorageLocationFile(resolve(fromFlag)).catch((err: unknown) => {
      throw new ConfigError(`--storage-location: ${err instanceof Error ? err.message : String(err)}`);
    });
    result.push({
      name: location.name ?? 'default',
      isDefault: true,
      location,
      timeoutMs: DEFAULTS.storage.requestTimeoutMs,
      deadlineMs: DEFAULTS.storage.deadlineMs,
    });
  }
  const list = r.value('storageLocations');
  if (list !== undefined) {
    if (!Array.isArray(list)) r.refuse('storageLocations', 'expected a list of storage locations');
    for (const [i, entry] of (list as unknown[]).entries()) {
      const key = `storageLocations[${i}]`;
      if (!isMap(entry)) r.refuse(key, 'expected a mapping');
      const map = entry;
      result.push(await readStorageLocation(map, r.within(map, key), { taken: result.map((l) => l.name), origin, baseDir }));
    }
  }
  if (result.length === 0) {
    r.refuse('storageLocations', 'at least one storage location is required (or give --storage-location FILE)');
  }
  const defaults = result.filter((l) => l.isDefault);
  if (defaults.length > 1 && fromFlag === undefined)
    r.refuse('storageLocations', `more than one default: ${defaults.map((l) => l.name).join(', ')}`);
  if (defaults.length === 0) result[0]!.isDefault = true;
  else for (const l of result) l.isDefault = l === defaults[0];
  return result;
}

interface EntryContext {
  /** Names of the locations before this one. */
  taken: string[];
  origin: string;
  baseDir: string;
}

/** One entry `e` of `storageLocations`; `entry` reads it and names it (`storageLocations[0].bucket`). */
async function readStorageLocation(
  e: Record<string, unknown>,
  entry: ConfigReader,
  { taken, origin, baseDir }: EntryContext,
): Promise<ConfiguredStorageLocation> {
  if (!('spec' in e || 'kind' in e || 'apiVersion' in e)) entry.onlyKeys(FLAT_LOCATION_KEYS);
  const name = entry.objectName('name', 'Kubernetes object') ?? entry.refuse('name', 'required');
  if (taken.includes(name)) entry.refuse('name', `"${name}" is configured twice`);
  const isDefault = entry.bool('default') ?? false;
  const timeoutMs = entry.duration('timeout', { positive: true }) ?? DEFAULTS.storage.requestTimeoutMs;
  const deadlineMs = entry.duration('deadline', { positive: true }) ?? DEFAULTS.storage.deadlineMs;
  const file = entry.string('file');
  const rest = Object.fromEntries(Object.entries(e).filter(([k]) => !LOCATION_KEYS.includes(k)));
  let location: StorageLocation;
  try {
    if (file) {
      if (Object.keys(rest).length) entry.refuse(Object.keys(rest)[0], 'not allowed next to file: put it in the file');
      location = await readStorageLocationFile(isAbsolute(file) ? file : resolve(baseDir, file));
    } else {
      // The same keys as a flat storage-location file (or a BSL manifest), checked by the same parser.
      location = parseStorageLocationFile(stringify(rest), resolve(baseDir, origin));
    }
  } catch (err) {
    if (!(err instanceof StorageLocationError)) throw err;
    if (file) return entry.refuse('file', err.message);
    const detail = err.message.slice(`${err.origin}: `.length + (err.key ? `${err.key}: ` : '').length);
    return entry.refuse(err.key, detail);
  }
  return { name, isDefault, location, timeoutMs, deadlineMs };
}

export function defaultStorageLocation(config: { storageLocations: ConfiguredStorageLocation[] }): ConfiguredStorageLocation {
  return config.storageLocations.find((l) => l.isDefault) ?? config.storageLocations[0]!;
}

/**
 * The S3 credentials file of each location is read at each call, not kept: it must be readable
 * when the service starts, so that a wrong path stops the start, not the first Check.
 */
export async function assertCredentialsFilesReadable(locations: ConfiguredStorageLocation[], origin: string): Promise<void> {
  for (const { name, location } of locations) {
    const file = location.credentialsFile;
    if (!file) continue;
    await access(file, constants.R_OK).catch((err: unknown) => {
      throw new ConfigError(`${origin}: storage location ${name}: credentialsFile: cannot read ${file} (${unreadableReason(err)})`);
    });
  }
}
