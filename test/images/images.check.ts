/**
 * Both images, built offline from the Dockerfile's own stages (scripts/build-images.sh, buildah) and
 * run as Velero and Kubernetes run them:
 *   1. the plugin image's entrypoint, as its non-root user, fills an empty /target (Velero's
 *      /plugins, an emptyDir) with an executable plugin and non-executable libraries;
 *   2. the copied plugin runs in a root filesystem with glibc and no C++ runtime (as Velero's image)
 *      with LD_LIBRARY_PATH=/plugins, and serves Velero's host: handshake, ListPlugins, Execute;
 *   3. the service image serves with the Deployment's args and mounts, as its non-root user, on a
 *      read-only root, and answers the gRPC health check.
 * `npm run test:images`; root and buildah needed (CI has both). Failures name what broke.
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, readdirSync } from 'node:fs';
import { chmod, copyFile, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { PLUGIN_EXECUTABLE_NAME } from '../../src/plugin/protocol.js';
import { call, listServices, makeClients } from '../grpc/helpers.js';
import { makePki } from '../grpc/pki.js';
import { tempDir } from '../helpers/scenario.js';
import { veleroRestore } from '../helpers/velero.js';
import { backedUpObject, itemOf, PLUGIN_NAME, requireBuilt, ROOT, runHarness, SEA, veleroItem, type HostLauncher } from '../plugin/helpers.js';
import { RESTORE_GATE_SECRETS_NAME, RESTORE_GATE_TKG_NAME } from '../../src/rpc/restore-gate-actions.js';
import { assertCleanExit, assertHclog, CLUSTERS, pluginFiles, veleroBackups } from '../plugin/velero-run.js';
import { Buildah, rootfsFiles, type Image } from './buildah.js';
import { compareVersions, elfArchitecture, glibcNeeded } from './elf.js';
import { startServicePod } from './service-pod.js';
import { VELERO_IMAGES, VELERO_USER, veleroPluginFiles, veleroStandIn } from './velero-image.js';

const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
const PLUGIN_IMAGE = `localhost/${PLUGIN_EXECUTABLE_NAME}:${pkg.version}`;
const SERVICE_IMAGE = `localhost/drift-detector:${pkg.version}`;
const INSTALLED = `/plugins/${PLUGIN_EXECUTABLE_NAME}`;
const LIBRARIES = ['libgcc_s.so.1', 'libstdc++.so.6'];
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

let buildah: Buildah;
let plugin: Image;
let service: Image;

test.before(async () => {
  requireBuilt();
  buildah = await Buildah.create();
  const started = Date.now();
  const output = await new Promise<string>((resolve, reject) =>
    execFile(
      'bash',
      [join(ROOT, 'scripts', 'build-images.sh'), '--root', buildah.root],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => (err ? reject(new Error(`scripts/build-images.sh failed: ${stderr.trim() || err.message}`)) : resolve(stdout)),
    ),
  );
  plugin = await buildah.image(PLUGIN_IMAGE);
  service = await buildah.image(SERVICE_IMAGE);
  console.log(`${output.trim()}\nimages built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

test.after.always(async () => {
  await buildah?.remove();
});

function assertMetadata(t: ExecutionContext, image: Image, title: string): void {
  const labels = image.config.Labels ?? {};
  t.is(labels['org.opencontainers.image.title'], title);
  t.is(labels['org.opencontainers.image.version'], pkg.version, "version label: package.json's");
  t.is(labels['org.opencontainers.image.licenses'], pkg.license, "licenses label: package.json's");
  t.truthy(labels['org.opencontainers.image.source'], 'source label');
  t.regex(labels['org.opencontainers.image.revision'] ?? '', /^([0-9a-f]{40}|unknown)$/, 'revision label: the commit');
  t.truthy(labels['org.opencontainers.image.description']);
  t.is(image.os, 'linux');
  t.is<string | undefined, string | undefined>(image.architecture, GO_ARCH[process.arch], "built for this machine's architecture");
  t.is(image.config.User, '65532:65532', 'non-root user');
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/**
 * `velero plugin add`'s init container: the image's entrypoint as its user, with an emptyDir at
 * /target (mode 0777, root's) that another plugin's init container already filled. Run twice, as
 * init containers are when the pod restarts.
 */
async function installPlugin(t: ExecutionContext): Promise<string> {
  const target = await tempDir('drift-plugins-volume-');
  t.teardown(() => rm(target, { recursive: true, force: true }));
  await chmod(target, 0o777);
  await writeFile(join(target, 'velero-plugin-for-aws'), '#!/bin/sh\n', { mode: 0o755 });
  const container = await buildah.from(PLUGIN_IMAGE);
  for (const attempt of ['first', 'restarted']) {
    const run = await buildah.runEntrypoint(container, plugin, { volumes: [`${target}:/target`] });
    t.is(run.code, 0, `${attempt} init container run: ${run.stderr}`);
    t.is(run.stderr, '', `${attempt} init container run is silent`);
  }
  return target;
}

test('plugin image: as its non-root user, its entrypoint fills an empty /target with one executable plugin and its libraries, modes kept', async (t) => {
  // Nothing but the copier and what it copies: no shell, no package manager for scanners to flag.
  const contents = await rootfsFiles(await buildah.mount(await buildah.from(PLUGIN_IMAGE)));
  t.deepEqual(contents, ['/bin/cp', ...[...LIBRARIES, PLUGIN_EXECUTABLE_NAME].map((n) => `/plugins/${n}`)]);

  const target = await installPlugin(t);
  t.deepEqual(
    (await readdir(target)).sort(),
    [...LIBRARIES, PLUGIN_EXECUTABLE_NAME, 'velero-plugin-for-aws'].sort(),
    'the plugin and its libraries, beside the other plugin',
  );
  const uid = Number(plugin.config.User!.split(':')[0]);
  for (const [name, mode] of [[PLUGIN_EXECUTABLE_NAME, 0o755], ...LIBRARIES.map((l) => [l, 0o644] as const)] as const) {
    const info = await stat(join(target, name));
    t.is((info.mode & 0o7777).toString(8), mode.toString(8), `${name}: mode`);
    t.is(info.uid, uid, `${name}: owned by the copier`);
    t.is(await elfArchitecture(join(target, name)), plugin.architecture, `${name}: built for the image's architecture`);
  }
  // What Velero will run: ours and the other plugin, never a library.
  t.deepEqual(await veleroPluginFiles(target), [join(target, PLUGIN_EXECUTABLE_NAME), join(target, 'velero-plugin-for-aws')]);
  t.is(await sha256(join(target, PLUGIN_EXECUTABLE_NAME)), await sha256(SEA), 'the executable npm run build:plugin made');
  // What it says of itself, after what it does, so that a failure shows the behaviour first.
  assertMetadata(t, plugin, PLUGIN_EXECUTABLE_NAME);
  t.deepEqual(plugin.config.Entrypoint, ['cp', '-r', '/plugins/.', '/target/.']);
  t.is(plugin.config.Cmd, undefined);
  t.log(`plugin image ${PLUGIN_IMAGE}: ${plugin.size}`);
});

test("plugin: copied out of its image into a glibc-only root filesystem (as Velero's), it loads its libraries from /plugins and serves Velero's host", async (t) => {
  const plugins = await installPlugin(t);
  const velero = await veleroStandIn(buildah);
  t.deepEqual(velero.cxxRuntime, [], "the stand-in for Velero's image has no C++ runtime");
  const asVelero = { user: VELERO_USER, volumes: [`${plugins}:/plugins`] };

  // Without LD_LIBRARY_PATH the loader does not look in /plugins: the copied libraries are what make it run.
  const bare = await buildah.run(velero.container, [INSTALLED], asVelero);
  t.not(bare.code, 0);
  t.regex(bare.stderr, /libstdc\+\+\.so\.6: cannot open shared object file/);
  // With it the program itself answers: run by its plugin name without Velero's cookie, it says so.
  const loaded = await buildah.run(velero.container, [INSTALLED], { ...asVelero, env: { LD_LIBRARY_PATH: '/plugins' } });
  t.regex(loaded.stderr, /^This binary is a plugin\. These are not meant to be executed directly\./, 'loaded and started');

  // The glibc the plugin and its libraries need, against Velero's images.
  const needs = await Promise.all(
    [PLUGIN_EXECUTABLE_NAME, ...LIBRARIES].map(async (name) => ({ name, glibc: (await glibcNeeded(join(plugins, name))) ?? '0' })),
  );
  const newest = needs.reduce((a, b) => (compareVersions(a.glibc, b.glibc) >= 0 ? a : b));
  t.true(compareVersions(newest.glibc, velero.glibc) <= 0, `needs glibc ${newest.glibc} (${newest.name}), the stand-in has ${velero.glibc}`);
  const oldest = VELERO_IMAGES[0];
  t.true(
    compareVersions(needs[0]!.glibc, oldest.glibc) <= 0,
    `the executable needs glibc ${needs[0]!.glibc}: more than Velero ${oldest.velero}'s ${oldest.glibc}`,
  );
  const loadsOn = VELERO_IMAGES.filter((v) => compareVersions(newest.glibc, v.glibc) <= 0).map(
    (v) => `${v.velero} (${v.image}, glibc ${v.glibc})`,
  );
  t.log(
    `plugin needs glibc ${newest.glibc} (${needs.map((n) => `${n.name} ${n.glibc}`).join(', ')}): loads on Velero ${loadsOn.join('; ') || 'none'}`,
  );

  // Velero's host inside the stand-in, the plugin as Velero's registry finds it, backups on loopback.
  const { drifted, clean, s3 } = await veleroBackups(t);
  const files = await pluginFiles(s3);
  const filesDir = dirname(files.DRIFT_DETECTOR_PLUGIN_CONFIG);
  t.teardown(() => rm(filesDir, { recursive: true, force: true }));
  await copyFile(s3.credentialsFile, join(filesDir, 'cloud'));
  // Readable by Velero's user, as the ConfigMap and Secret volumes would be (0644).
  await chmod(filesDir, 0o755);
  for (const name of await readdir(filesDir)) await chmod(join(filesDir, name), 0o644);
  const env = { ...files, AWS_SHARED_CREDENTIALS_FILE: join(filesDir, 'cloud'), LD_LIBRARY_PATH: '/plugins', VELERO_SCRATCH_DIR: '/tmp' };
  const launch: HostLauncher = (plan, hostEnv, dir) => {
    const inside = Object.fromEntries(Object.entries(hostEnv).filter(([k, v]) => k !== 'PATH' && k !== 'HOME' && v !== undefined)) as Record<
      string,
      string
    >;
    const volumes = [...asVelero.volumes, `${dir}:${dir}`, `${filesDir}:${filesDir}:ro`];
    // The host's TMPDIR (plan, socket, the plugin's proto copy) belongs to Velero's user.
    const [uid, gid] = VELERO_USER.split(':').map(Number) as [number, number];
    chownSync(dir, uid, gid);
    for (const name of readdirSync(dir)) chownSync(join(dir, name), uid, gid);
    return {
      file: 'buildah',
      args: buildah.runArgs(velero.container, ['/velero-host', plan], { user: VELERO_USER, env: inside, volumes }),
      env: { PATH: process.env['PATH'] },
    };
  };
  const driftCluster = backedUpObject(drifted, CLUSTERS, 'default', 'wc-drift');
  const cleanCluster = backedUpObject(clean, CLUSTERS, 'default', 'wc-clean');
  const item = (o: Record<string, any>) => Buffer.from(JSON.stringify(veleroItem(o)));
  const run = await runHarness({
    command: INSTALLED,
    args: ['--log-level=info'],
    env,
    launch,
    calls: [
      { rpc: 'ListPlugins' },
      { rpc: 'AppliesTo', plugin: PLUGIN_NAME },
      {
        rpc: 'Execute',
        plugin: PLUGIN_NAME,
        item: item(cleanCluster),
        itemFromBackup: Buffer.from(JSON.stringify(cleanCluster)),
        restore: veleroRestore('b-clean', { name: 'r-clean' }),
      },
      {
        rpc: 'Execute',
        plugin: PLUGIN_NAME,
        item: item(driftCluster),
        itemFromBackup: Buffer.from(JSON.stringify(driftCluster)),
        restore: veleroRestore('b-drift', { name: 'r-drift' }),
      },
    ],
  });
  t.is(run.outcome.startError, undefined, 'handshake');
  t.is(run.outcome.protocol, 'grpc');
  t.is(run.outcome.negotiatedVersion, 2);
  const [list, applies, cleanExec, driftExec] = run.outcome.results;
  t.deepEqual(list!.plugins, [
    { command: INSTALLED, kind: 'RestoreItemAction', name: PLUGIN_NAME },
    { command: INSTALLED, kind: 'RestoreItemAction', name: RESTORE_GATE_SECRETS_NAME },
    { command: INSTALLED, kind: 'RestoreItemAction', name: RESTORE_GATE_TKG_NAME },
  ]);
  t.true(applies!.ok, applies!.error);
  t.true(cleanExec!.ok, cleanExec!.error);
  t.is(JSON.parse(itemOf(cleanExec!).toString('utf8')).metadata.annotations['driftdetector.dev/verdict'], 'ALLOW');
  t.is(driftExec!.code, 'FailedPrecondition');
  t.regex(driftExec!.error ?? '', /drift-detector blocked the restore of Cluster default\/wc-drift: it has ghost machines .*-7f9c8d-zzzzz/);
  assertHclog(t, run);
  assertCleanExit(t, run);
});

function httpStatus(address: string, path: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test("service image: serve with the Deployment's args and mounts, as its non-root user, on a read-only root, answers the health check", async (t) => {
  assertMetadata(t, service, 'drift-detector');
  t.deepEqual(service.config.Entrypoint, ['/usr/local/bin/drift-detector']);
  t.deepEqual(service.config.Cmd, ['serve', '--config', '/etc/drift-detector/config.yaml']);
  t.deepEqual(Object.keys(service.config.ExposedPorts ?? {}).sort(), ['50051/tcp', '9464/tcp']);

  const pki = await makePki();
  t.teardown(() => pki.remove());
  const rootfs = await buildah.mount(await buildah.from(SERVICE_IMAGE));
  const pod = await startServicePod(service, rootfs, pki);
  t.teardown(() => {
    if (pod.process.exitCode === null) pod.process.kill('SIGKILL');
    return rm(pod.dir, { recursive: true, force: true });
  });
  t.is<string | undefined, string | undefined>(
    `${pod.podSecurity['runAsUser']}:${pod.podSecurity['runAsGroup']}`,
    service.config.User,
    "the Deployment runs it as the image's user",
  );
  t.true(pod.container.securityContext.readOnlyRootFilesystem);

  // The certificate names 127.0.0.1 and localhost; TLS names the server by its DNS name.
  const clients = makeClients(pod.listen, grpc.credentials.createSsl(await readFile(pki.caCert)), {
    'grpc.ssl_target_name_override': 'localhost',
  });
  t.teardown(() => clients.close());
  let health: { status: string } | undefined;
  for (const deadline = Date.now() + 60_000; !health && Date.now() < deadline && pod.process.exitCode === null;) {
    health = await call<{ status: string }>(clients.health, 'check', { service: '' }, { deadlineMs: 2000 }).catch(async () => {
      await new Promise((r) => setTimeout(r, 250));
      return undefined;
    });
  }
  t.is(health?.status, 'SERVING', `health check over TLS; the service said:\n${pod.output()}`);

  // As its user, the root read-only: what the kernel says of the process.
  const status = await readFile(`/proc/${pod.process.pid}/status`, 'utf8');
  t.regex(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
  t.regex(status, /^Gid:\s+65532\s+65532\s+65532\s+65532$/m);
  const root = (await readFile(`/proc/${pod.process.pid}/mountinfo`, 'utf8')).split('\n').find((l) => l.split(' ')[4] === '/');
  t.regex(root?.split(' ')[5] ?? '', /(^|,)ro(,|$)/, `root mounted read-only: ${root}`);

  // The token from its Secret volume admits a call; metrics answer on their own port.
  const bearer = new grpc.Metadata();
  bearer.set('authorization', `Bearer ${pod.token}`);
  t.true((await listServices(clients.reflection, bearer)).includes('driftdetector.v1.DriftDetector'));
  t.is(await httpStatus(pod.metricsListen, '/healthz'), 200);

  pod.process.kill('SIGTERM');
  const exit = await pod.exited;
  t.deepEqual(exit, { code: 0, signal: null }, `stopped cleanly on SIGTERM:\n${pod.output()}`);
  t.log(`service image ${SERVICE_IMAGE}: ${service.size}`);
});
