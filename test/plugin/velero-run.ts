/**
 * A restore through Velero's host: what it needs besides the plugin (backups in a real S3 server,
 * s3rver, against a vSphere simulator; the plugin's ConfigMap and BackupStorageLocation as files,
 * there being no Kubernetes API in these runs) and what every run must show (hclog lines, a clean exit).
 */
import type { ExecutionContext } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capvVM, scenario, tempDir, tkgCluster } from '../helpers/scenario.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import type { HarnessRun, HostLogLine } from './helpers.js';

export const BUCKET = 'velero';
export const PREFIX = 'tkg';
export const CLUSTERS = 'clusters.cluster.x-k8s.io';

/**
 * Backup b-drift: wc-drift got a worker after the backup (a Ghost), wc-ok did not. Backup b-clean:
 * wc-clean, which matches its vCenter. Both in one bucket, as Velero lays them out.
 */
export async function veleroBackups(t: ExecutionContext) {
  const drifted = await scenario(
    t,
    { clusters: [tkgCluster('wc-drift'), tkgCluster('wc-ok')], seed: 'drifted' },
    {
      mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters.find((c) => c.name === 'wc-drift')!.machineDeploymentName}-7f9c8d-zzzzz`)),
    },
  );
  const clean = await scenario(t, { clusters: [tkgCluster('wc-clean')], seed: 'clean' });
  const s3 = await startS3();
  t.teardown(() => s3.stop());
  await s3.putBackup(BUCKET, PREFIX, 'b-drift', drifted.backup.path);
  await s3.putBackup(BUCKET, PREFIX, 'b-clean', clean.backup.path);
  return { drifted: drifted.backup, clean: clean.backup, s3 };
}

/** The plugin's files for a run without a Kubernetes API: the ConfigMap and the BSL, as manifests. */
export async function pluginFiles(s3: S3Server | { endpoint: string }, settings: Record<string, string> = {}) {
  const dir = await tempDir('drift-plugin-files-');
  const config = join(dir, 'configmap.yaml');
  const bsl = join(dir, 'bsl.yaml');
  await writeFile(
    config,
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: drift-detector-plugin',
      '  namespace: velero',
      '  labels: { velero.io/plugin-config: "", driftdetector.dev/restore-gate: RestoreItemAction }',
      'data:',
      // The defaults of these runs, which `settings` may replace (a ConfigMap's keys are unique).
      ...Object.entries({ mode: 'block', failurePolicy: 'Fail', skipAccessAPIServer: 'true', ...settings }).map(
        ([k, v]) => `  ${k}: ${JSON.stringify(v)}`,
      ),
      '',
    ].join('\n'),
  );
  await writeFile(bsl, storageLocationYaml(s3.endpoint));
  return { DRIFT_DETECTOR_PLUGIN_CONFIG: config, DRIFT_DETECTOR_STORAGE_LOCATION: bsl, VELERO_NAMESPACE: 'velero' };
}

/** Every line the plugin wrote reached the host as hclog JSON: go-plugin adds `timestamp` only to lines it parsed. */
export function assertHclog(t: ExecutionContext, run: HarnessRun): void {
  t.true(run.pluginLog.length > 0, 'the host logged lines from the plugin');
  for (const line of run.pluginLog) {
    t.truthy(line['timestamp'], `parsed as JSON by the host: ${JSON.stringify(line)}`);
    t.true(['trace', 'debug', 'info', 'warn', 'error'].includes(line['@level']), JSON.stringify(line));
  }
}

export function assertCleanExit(t: ExecutionContext, run: HarnessRun): void {
  t.true(run.outcome.exited, 'the plugin exited when killed');
  t.true(run.outcome.killMs < 2000, `exited within go-plugin's 2 s grace (${run.outcome.killMs} ms)`);
  t.false(run.hostLog.some((l) => l['@message'] === 'plugin failed to exit gracefully'));
  const exited = run.hostLog.find((l) => l['@message'] === 'plugin process exited');
  t.truthy(exited);
  t.is(exited?.['error'], undefined, 'exit status 0');
  t.deepEqual(run.leftovers, [], 'socket and proto copy removed');
}

export const messages = (lines: HostLogLine[], level: string) => lines.filter((l) => l['@level'] === level).map((l) => l['@message']);

/** The BackupStorageLocation `default` as Velero's namespace holds it, for a path-style S3 endpoint. */
export function storageLocationYaml(endpoint: string, bucket = BUCKET, prefix = PREFIX): string {
  return [
    'apiVersion: velero.io/v1',
    'kind: BackupStorageLocation',
    'metadata: { name: default, namespace: velero }',
    'spec:',
    '  provider: aws',
    `  objectStorage: { bucket: ${bucket}, prefix: ${prefix} }`,
    `  config: { region: minio, s3ForcePathStyle: "true", s3Url: "${endpoint}" }`,
    '',
  ].join('\n');
}
