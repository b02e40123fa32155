/**
 * The environment variables the plugin reads, in one list: the table of docs/plugin.md is checked
 * against it (test/plugin/environment.test.ts), and so is every variable src/plugin reads. Loads
 * nothing, so the program's entry can name them cheaply.
 */

/** A file that stands for the plugin's ConfigMap (runs without a Kubernetes API, e.g. tests). */
export const SETTINGS_FILE_ENV = 'DRIFT_DETECTOR_PLUGIN_CONFIG';
/** A storage-location file that stands for every Backup's BackupStorageLocation (runs without a cluster). */
export const STORAGE_LOCATION_FILE_ENV = 'DRIFT_DETECTOR_STORAGE_LOCATION';

export interface PluginVariable {
  name: string;
  /** Who sets it where the plugin runs in Velero's pod. */
  setBy: 'you' | 'Velero' | 'go-plugin';
}

export const PLUGIN_ENVIRONMENT: readonly PluginVariable[] = [
  { name: 'KUBECONFIG', setBy: 'you' },
  { name: SETTINGS_FILE_ENV, setBy: 'you' },
  { name: STORAGE_LOCATION_FILE_ENV, setBy: 'you' },
  { name: 'VELERO_NAMESPACE', setBy: 'Velero' },
  { name: 'AWS_SHARED_CREDENTIALS_FILE', setBy: 'Velero' },
  { name: 'VELERO_SCRATCH_DIR', setBy: 'Velero' },
  { name: 'VELERO_PLUGIN', setBy: 'go-plugin' },
  { name: 'PLUGIN_UNIX_SOCKET_DIR', setBy: 'go-plugin' },
  { name: 'PLUGIN_MIN_PORT', setBy: 'go-plugin' },
  { name: 'PLUGIN_MAX_PORT', setBy: 'go-plugin' },
];
