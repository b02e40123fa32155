/**
 * The whole configuration of `serve`, read once: the settings of src/config and the storage
 * locations of src/storage, from the same file, environment and flags.
 */
import { readServiceSettings, type ServiceSettings } from '../config/service-config.js';
import { readServiceSources, type LoadConfigOptions } from '../config/service-sources.js';
import { readStorageLocations, type ConfiguredStorageLocation } from '../storage/configured-locations.js';

export interface ServiceConfig extends ServiceSettings {
  storageLocations: ConfiguredStorageLocation[];
}

export async function loadServiceConfig(options: LoadConfigOptions): Promise<ServiceConfig> {
  const sources = await readServiceSources(options);
  const settings = readServiceSettings(sources);
  const storageLocations = await readStorageLocations(sources.reader, options.overrides?.storageLocation, sources.origin, sources.baseDir);
  return { ...settings, storageLocations };
}
