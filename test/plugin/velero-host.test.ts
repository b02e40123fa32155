/**
 * The single executable as Velero runs it: hashicorp/go-plugin's client (the Go harness, set up as
 * Velero's client_builder.go does) launches it, lists its plugins, resolves and executes the
 * RestoreItemAction on Cluster items of a drifted and of a clean backup held in a real S3 server
 * (s3rver) against a vSphere simulator, and kills it.
 */
import test from 'ava';
import { readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CLUSTER_API_RESOURCES,
  RESTORE_GATE_NAMES,
  RESTORE_GATE_SECRETS_NAME,
  RESTORE_GATE_TKG_NAME,
} from '../../src/rpc/restore-gate-actions.js';
import { closedPort } from '../helpers/vcsim.js';
import { tempDir } from '../helpers/scenario.js';
import { veleroRestore } from '../helpers/velero.js';
import { backedUpObject, itemOf, PLUGIN_NAME, runHarness, SEA, veleroItem } from './helpers.js';
import { assertCleanExit, assertHclog, CLUSTERS, messages, pluginFiles, PREFIX, veleroBackups } from './velero-run.js';

test("Velero's host: handshake, ListPlugins, AppliesTo, Execute on Clusters of a drifted and a clean backup, kill", async (t) => {
  const { drifted, clean, s3 } = await veleroBackups(t);
  const files = await pluginFiles(s3);
  const env = { ...files, AWS_SHARED_CREDENTIALS_FILE: s3.credentialsFile };

  const driftCluster = backedUpObject(drifted, CLUSTERS, 'default', 'wc-drift');
  const okCluster = backedUpObject(drifted, CLUSTERS, 'default', 'wc-ok');
  const cleanCluster = backedUpObject(clean, CLUSTERS, 'default', 'wc-clean');
  const item = (o: Record<string, any>) => Buffer.from(JSON.stringify(veleroItem(o)));
  const pristine = (o: Record<string, any>) => Buffer.from(JSON.stringify(o));
  const configMapItem = Buffer.from(
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, data: { a: 'b' } }),
  );
  const restoreDrift = veleroRestore('b-drift', { name: 'r-drift' });
  const restoreOverride = veleroRestore('b-drift', {
    name: 'r-override',
    annotations: { 'driftdetector.dev/override': 'ghost VM adopted by hand', 'driftdetector.dev/override-clusters': 'default/wc-drift' },
  });
  const restoreClean = veleroRestore('b-clean', { name: 'r-clean' });

  const run = await runHarness({
    args: ['--uploader-type=kopia', '--features=EnableCSI', '--log-level=info'],
    env,
    calls: [
      { rpc: 'ListPlugins' },
      { rpc: 'AppliesTo', plugin: PLUGIN_NAME },
      { rpc: 'Execute', plugin: PLUGIN_NAME, item: item(cleanCluster), itemFromBackup: pristine(cleanCluster), restore: restoreClean },
      { rpc: 'Execute', plugin: PLUGIN_NAME, item: item(driftCluster), itemFromBackup: pristine(driftCluster), restore: restoreDrift },
      { rpc: 'Execute', plugin: PLUGIN_NAME, item: item(okCluster), itemFromBackup: pristine(okCluster), restore: restoreDrift },
      { rpc: 'Execute', plugin: PLUGIN_NAME, item: item(driftCluster), itemFromBackup: pristine(driftCluster), restore: restoreOverride },
      { rpc: 'Execute', plugin: PLUGIN_NAME, item: configMapItem, itemFromBackup: configMapItem, restore: restoreDrift },
    ],
  });
  const { outcome } = run;
  t.is(outcome.startError, undefined);

  // Handshake: gRPC, Velero's protocol version, a unix socket as a Go plugin would make.
  t.is(outcome.protocol, 'grpc');
  t.is(outcome.negotiatedVersion, 2);
  t.is(outcome.network, 'unix');
  t.regex(outcome.address!, /\/plugin\d+$/);

  const [list, applies, cleanExec, driftExec, okExec, overrideExec, otherExec] = outcome.results;
  t.true(list!.ok, list!.error);
  t.deepEqual(list!.plugins, [
    { command: SEA, kind: 'RestoreItemAction', name: PLUGIN_NAME },
    { command: SEA, kind: 'RestoreItemAction', name: RESTORE_GATE_SECRETS_NAME },
    { command: SEA, kind: 'RestoreItemAction', name: RESTORE_GATE_TKG_NAME },
  ]);
  t.is(list!.registrationErrors, undefined, "Velero's registry accepts the list");
  t.true(applies!.ok, applies!.error);
  t.deepEqual(applies!.resourceSelector, { includedResources: [...CLUSTER_API_RESOURCES] });
  t.true(CLUSTER_API_RESOURCES.includes(CLUSTERS));

  // The clean backup's Cluster: restored, annotated; every other byte as Velero sent it.
  t.true(cleanExec!.ok, cleanExec!.error);
  const expectedClean = veleroItem(cleanCluster);
  expectedClean['metadata'].annotations = {
    ...expectedClean['metadata'].annotations,
    'driftdetector.dev/status': 'Healthy',
    'driftdetector.dev/verdict': 'ALLOW',
    'driftdetector.dev/ghost-machines': '',
    'driftdetector.dev/stale-machines': '',
  };
  t.is(itemOf(cleanExec!).toString('utf8'), JSON.stringify(expectedClean));

  // The drifted Cluster: the item fails (Velero keeps it out and goes on), naming ghost and override.
  t.false(driftExec!.ok);
  t.is(driftExec!.code, 'FailedPrecondition');
  t.regex(
    driftExec!.error!,
    /^rpc error: code = FailedPrecondition desc = drift-detector blocked the restore of Cluster default\/wc-drift: it has ghost machines .*-7f9c8d-zzzzz/,
  );
  t.regex(
    driftExec!.error!,
    /the label driftdetector\.dev\/override=<ticket> on the Restore .* the annotation driftdetector\.dev\/override: "<reason>"/,
  );

  t.true(okExec!.ok, okExec!.error);
  t.is(JSON.parse(itemOf(okExec!).toString('utf8')).metadata.annotations['driftdetector.dev/status'], 'Healthy');

  t.true(overrideExec!.ok, overrideExec!.error);
  const overridden = JSON.parse(itemOf(overrideExec!).toString('utf8'));
  t.is(overridden.metadata.annotations['driftdetector.dev/status'], 'ManualRemediationRequired');
  t.is(overridden.metadata.annotations['driftdetector.dev/override-reason'], 'ghost VM adopted by hand');
  t.regex(overridden.metadata.annotations['driftdetector.dev/ghost-machines'], /-7f9c8d-zzzzz$/);

  // An object of no cluster: the very same bytes back.
  t.true(otherExec!.ok, otherExec!.error);
  t.deepEqual(itemOf(otherExec!), configMapItem);

  // One analysis per backup and process, however many items.
  const tarballGets = (name: string) =>
    s3.requests.filter((r) => r.method === 'GET' && r.key === `${PREFIX}/backups/${name}/${name}.tar.gz`).length;
  t.is(tarballGets('b-drift'), 1);
  t.is(tarballGets('b-clean'), 1);

  assertHclog(t, run);
  t.true(messages(run.pluginLog, 'info').includes('plugin serving'));
  t.true(messages(run.pluginLog, 'info').includes('settings read'));
  t.true(messages(run.pluginLog, 'warn').includes('restore of the Cluster blocked'));
  t.true(messages(run.pluginLog, 'info').includes('restore of the Cluster allowed by override'));
  // --log-level=info: no debug lines; and no Kubernetes API here, which the plugin says once.
  t.deepEqual(messages(run.pluginLog, 'debug'), []);
  t.is(messages(run.pluginLog, 'warn').filter((m) => m === 'cannot annotate the Restore or record Events').length, 1);
  t.false(JSON.stringify(run.hostLog).includes(s3.secretAccessKey));
  assertCleanExit(t, run);
});

test("started with Velero's server arguments: unknown flags ignored, --log-level honoured, Velero's registry accepts the list", async (t) => {
  const veleroServerArgs = [
    '--features=EnableCSI,EnableAPIGroupVersions',
    '--uploader-type=kopia',
    '--default-volumes-to-fs-backup=false',
    '--restore-resource-priorities=securitycontextconstraints,customresourcedefinitions,namespaces',
    '--keep-latest-maintenance-jobs',
    '3',
    '--log-level',
    'debug',
    '--restore-only',
  ];
  const debug = await runHarness({ args: veleroServerArgs, calls: [{ rpc: 'ListPlugins' }, { rpc: 'AppliesTo', plugin: PLUGIN_NAME }] });
  t.is(debug.outcome.startError, undefined);
  t.true(debug.outcome.results.every((r) => r.ok));
  t.is(debug.outcome.results[0]!.registrationErrors, undefined);
  t.true(messages(debug.pluginLog, 'debug').includes('ListPlugins'));
  assertHclog(t, debug);
  assertCleanExit(t, debug);

  // logrus' "warning" is hclog's warn: info lines are not even written.
  const quiet = await runHarness({ args: ['--log-level=warning'], calls: [{ rpc: 'ListPlugins' }] });
  t.true(quiet.outcome.results[0]!.ok);
  t.deepEqual(
    quiet.pluginLog.filter((l) => l['@level'] === 'info' || l['@level'] === 'debug'),
    [],
  );
  assertCleanExit(t, quiet);
});

test('no storage location reachable: ListPlugins and AppliesTo still succeed, Execute fails clearly', async (t) => {
  const cluster = Buffer.from(
    JSON.stringify(
      veleroItem({ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: 'wc-1', namespace: 'default' }, spec: {} }),
    ),
  );
  const restore = veleroRestore('b-1', { name: 'r-1' });
  const calls = [
    { rpc: 'ListPlugins' as const },
    { rpc: 'AppliesTo' as const, plugin: PLUGIN_NAME },
    { rpc: 'Execute' as const, plugin: PLUGIN_NAME, item: cluster, itemFromBackup: cluster, restore },
  ];

  // The BSL points at a closed port.
  const files = await pluginFiles({ endpoint: `http://${await closedPort()}` }, { storageTimeout: '3s' });
  const credentials = join(await tempDir('drift-cloud-'), 'cloud');
  await writeFile(credentials, '[default]\naws_access_key_id=AKIAEXAMPLE\naws_secret_access_key=example-secret\n');
  const refused = await runHarness({ env: { ...files, AWS_SHARED_CREDENTIALS_FILE: credentials }, calls });
  const [list, applies, exec] = refused.outcome.results;
  t.true(list!.ok && applies!.ok);
  t.false(exec!.ok);
  t.regex(
    exec!.error!,
    /drift-detector blocked the restore of Cluster default\/wc-1: the drift check failed \(failurePolicy Fail\): .*cannot reach S3 endpoint http:\/\/127\.0\.0\.1:\d+: connection refused/,
  );
  t.is(exec!.code, 'Unavailable');
  assertCleanExit(t, refused);

  // No Kubernetes API and no files: the configuration cannot be read, said at Execute time.
  const nowhere = await runHarness({ env: { VELERO_NAMESPACE: 'velero' }, calls });
  t.true(nowhere.outcome.results[0]!.ok && nowhere.outcome.results[1]!.ok);
  const failed = nowhere.outcome.results[2]!;
  t.false(failed.ok);
  t.is(failed.code, 'FailedPrecondition');
  t.regex(
    failed.error!,
    /drift-detector plugin: cannot read the plugin's ConfigMap: not running in a pod .* \(outside a cluster, set DRIFT_DETECTOR_PLUGIN_CONFIG\)/,
  );
  assertCleanExit(t, nowhere);
});

test("no unix socket possible: TCP on 127.0.0.1 within the host's port range; no writable TMPDIR: Velero's scratch directory", async (t) => {
  const run = await runHarness({ env: { PLUGIN_UNIX_SOCKET_DIR: '/nonexistent/dir' }, calls: [{ rpc: 'ListPlugins' }] });
  t.is(run.outcome.network, 'tcp');
  const port = Number(run.outcome.address!.split(':')[1]);
  t.regex(run.outcome.address!, /^127\.0\.0\.1:\d+$/);
  t.true(port >= 10000 && port <= 25000, `port ${port} in go-plugin's default range`);
  t.true(run.outcome.results[0]!.ok);
  assertCleanExit(t, run);

  // A read-only temporary directory (Velero's root filesystem read-only): Velero's scratch volume instead.
  const scratch = await tempDir('drift-scratch-');
  const fromScratch = await runHarness({ env: { TMPDIR: '/nonexistent/tmp', VELERO_SCRATCH_DIR: scratch }, calls: [{ rpc: 'ListPlugins' }] });
  t.is(fromScratch.outcome.network, 'unix');
  t.true(fromScratch.outcome.address!.startsWith(`${scratch}/plugin`), fromScratch.outcome.address);
  t.true(fromScratch.outcome.results[0]!.ok);
  t.deepEqual(await readdir(scratch), [], 'socket and proto copy removed from the scratch directory');
});

test('installed as /plugins/velero-plugin-drift-detector it is the plugin; run by hand without the cookie it says so', async (t) => {
  const dir = await tempDir('drift-plugins-');
  const installed = join(dir, 'velero-plugin-drift-detector');
  await symlink(SEA, installed);
  const { execFile } = await import('node:child_process');
  const exec = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(file, args, { env: { PATH: '/usr/bin:/bin', ...env }, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      ),
    );
  const notAPlugin =
    'This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will\nload any plugins automatically\n';

  const byName = await exec(installed, ['--log-level=info'], {});
  t.is(byName.code, 1);
  t.is(byName.stdout, '');
  t.is(byName.stderr, notAPlugin);

  const wrongCookie = await exec(SEA, [], { VELERO_PLUGIN: 'goodbye' });
  t.is(wrongCookie.code, 1);
  t.is(wrongCookie.stdout, '');
  t.is(wrongCookie.stderr, notAPlugin);

  // Under its own name and without the cookie it is the CLI.
  const cli = await exec(SEA, ['--version'], {});
  t.is(cli.code, 0);
  t.regex(cli.stdout, /^\d+\.\d+\.\d+\n$/);

  // And Velero runs the installed name with the cookie: the command it lists is the executable itself.
  const run = await runHarness({ command: installed, calls: [{ rpc: 'ListPlugins' }] });
  t.deepEqual(
    run.outcome.results[0]!.plugins!.map((p) => p.command),
    RESTORE_GATE_NAMES.map(() => SEA),
  );
  t.true(run.pluginLog.length > 0, 'logged under the installed name');
  assertCleanExit(t, run);
  t.deepEqual(await readdir(dir), ['velero-plugin-drift-detector']);
});
