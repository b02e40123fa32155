/**
 * The service image started as deploy/service's Deployment starts it: its args, its user, a
 * read-only root with the Deployment's mounts (the ConfigMap's config.yaml, the Secrets filled from
 * secrets.example.yaml's keys, an emptyDir at /tmp), listening on loopback instead of 0.0.0.0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { closedPort } from '../helpers/vcsim.js';
import { tempDir } from '../helpers/scenario.js';
import { ROOT } from '../plugin/helpers.js';
import type { Pki } from '../grpc/pki.js';
import type { Image } from './buildah.js';

const DEPLOY = join(ROOT, 'deploy', 'service');
const RUN_READ_ONLY = join(ROOT, 'test', 'images', 'run-read-only.sh');

type Doc = Record<string, any>;

async function docs(file: string): Promise<Doc[]> {
  return parseAllDocuments(await readFile(join(DEPLOY, file), 'utf8')).map((d) => d.toJS() as Doc);
}

export interface ServicePod {
  /** What the Deployment asks of the container. */
  container: Doc;
  podSecurity: Doc;
  listen: string;
  metricsListen: string;
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  token: string;
  /** The volumes' files on this machine. */
  dir: string;
}

/** Secret `name`'s files: each key of its template, TLS keys from the PKI, the rest random. */
async function secretFiles(name: string, pki: Pki, dir: string, token: string): Promise<void> {
  const template = (await docs('secrets.example.yaml')).find((d) => d['kind'] === 'Secret' && d['metadata'].name === name);
  if (!template) throw new Error(`secrets.example.yaml has no Secret ${name}`);
  await mkdir(dir, { recursive: true });
  for (const [key, example] of Object.entries(template['stringData'] as Record<string, string>)) {
    const path = join(dir, key);
    if (key === 'tls.crt') await copyFile(pki.serverCert, path);
    else if (key === 'tls.key') await copyFile(pki.serverKey, path);
    else await writeFile(path, key === 'token' ? `${token}\n` : example.replaceAll('REPLACE_ME', randomBytes(12).toString('hex')));
    // A Secret volume's files are 0644 (defaultMode) and root's: readable by the container's user.
    await chmod(path, 0o644);
  }
}

export async function startServicePod(image: Image, rootfs: string, pki: Pki): Promise<ServicePod> {
  const deployment = (await docs('deployment.yaml'))[0]!;
  const pod = deployment['spec'].template.spec;
  const container = pod.containers[0];
  const configMap = (await docs('configmap.yaml'))[0]!;
  const dir = await tempDir('drift-service-pod-');
  const token = randomBytes(24).toString('base64url');

  // The Deployment's configuration, on loopback ports of this machine.
  const config = parseDocument(configMap['data']['config.yaml'] as string);
  const listen = await closedPort();
  const metricsListen = await closedPort();
  config.set('listen', listen);
  config.setIn(['metrics', 'listen'], metricsListen);

  const mounts: string[] = [];
  for (const mount of container.volumeMounts as Array<{ name: string; mountPath: string; subPath?: string }>) {
    const volume = (pod.volumes as Doc[]).find((v) => v['name'] === mount.name)!;
    const source = join(dir, mount.name);
    if (volume['configMap']) {
      await mkdir(source);
      await writeFile(join(source, 'config.yaml'), config.toString());
      mounts.push('--bind', `${mount.subPath ? join(source, mount.subPath) : source}:${mount.mountPath}`);
    } else if (volume['secret']) {
      await secretFiles(volume['secret'].secretName, pki, source, token);
      mounts.push('--bind', `${source}:${mount.mountPath}`);
    } else if (volume['emptyDir']) {
      mounts.push('--tmpfs', mount.mountPath);
    } else {
      throw new Error(`volume ${mount.name}: only configMap, secret and emptyDir volumes are modelled`);
    }
  }

  const podSecurity = pod.securityContext as Doc;
  const user = `${podSecurity['runAsUser']}:${podSecurity['runAsGroup']}`;
  const env = (image.config.Env ?? []).flatMap((e) => ['--env', e]);
  const command = [...(image.config.Entrypoint ?? []), ...((container.args as string[] | undefined) ?? image.config.Cmd ?? [])];
  const child = spawn('bash', [RUN_READ_ONLY, rootfs, user, ...mounts, ...env, '--', ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { container, podSecurity, listen, metricsListen, process: child, output: () => output, exited, token, dir };
}
