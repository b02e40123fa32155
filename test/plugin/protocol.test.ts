/**
 * The go-plugin protocol seen from the wire, without a Go host: what exactly reaches stdout, the
 * services go-plugin's newer hosts open (health, stdio, broker), messages beyond gRPC's 4 MiB
 * default, and GRPCController.Shutdown ending the process within the host's 2 s grace.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loadProto, PROTO_FILES } from '../../src/rpc/protos.js';
import { tempDir } from '../helpers/scenario.js';
import { PLUGIN_NAME, requireBuilt, SEA } from './helpers.js';

type Ctor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
type Unary = (request: object, callback: (err: grpc.ServiceError | null, res: any) => void) => void;

function clients(address: string) {
  const ours = grpc.loadPackageDefinition(
    loadProto(PROTO_FILES.goPluginController, PROTO_FILES.goPluginBroker, PROTO_FILES.goPluginStdio, PROTO_FILES.veleroRestoreItemActionV1),
  ) as unknown as { plugin: { GRPCController: Ctor; GRPCBroker: Ctor; GRPCStdio: Ctor }; generated: { RestoreItemAction: Ctor } };
  const health = grpc.loadPackageDefinition(
    protoLoader.loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }),
  ) as unknown as { grpc: { health: { v1: { Health: Ctor } } } };
  const insecure = grpc.credentials.createInsecure();
  const options = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
  return {
    controller: new ours.plugin.GRPCController(address, insecure, options),
    broker: new ours.plugin.GRPCBroker(address, insecure, options),
    stdio: new ours.plugin.GRPCStdio(address, insecure, options),
    ria: new ours.generated.RestoreItemAction(address, insecure, options),
    health: new health.grpc.health.v1.Health(address, insecure, options),
  };
}

function unary(client: grpc.Client, method: string, request: object): Promise<any> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, Unary>)[method]!.call(client, request, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

test('stdout holds the handshake line and nothing else; health, stdio and broker streams; big items; Shutdown exits within 2 s', async (t) => {
  requireBuilt();
  const tmp = await tempDir('drift-plugin-tmp-');
  const child = spawn(SEA, ['--log-level=debug', '--features='], {
    env: {
      PATH: '/usr/bin:/bin',
      TMPDIR: tmp,
      VELERO_PLUGIN: 'hello',
      PLUGIN_PROTOCOL_VERSIONS: '2',
      PLUGIN_MIN_PORT: '10000',
      PLUGIN_MAX_PORT: '25000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const handshake = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no handshake within 30 s: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(stdout.slice(0, stdout.indexOf('\n') + 1));
      }
    });
  });
  const match = /^1\|2\|unix\|(\/[^|]+)\|grpc\n$/.exec(handshake);
  t.truthy(match, handshake);
  const socket = match![1]!;
  t.true(socket.startsWith(`${tmp}/plugin`), 'a Go-style socket name in the temporary directory');

  const c = clients(`unix:${socket}`);
  t.teardown(() => Object.values(c).forEach((client) => client.close()));
  t.is((await unary(c.health, 'Check', { service: 'plugin' })).status, 'SERVING');
  t.is((await unary(c.health, 'Check', { service: '' })).status, 'SERVING');

  // What a go-plugin 1.1+ host opens at connect: both must stay open without an error.
  const stdio = (c.stdio as unknown as { StreamStdio(r: object): grpc.ClientReadableStream<unknown> }).StreamStdio({});
  const broker = (c.broker as unknown as { StartStream(): grpc.ClientDuplexStream<unknown, unknown> }).StartStream();
  const ended = (stream: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>) =>
    new Promise<number>((resolve) => {
      stream.on('data', () => {});
      stream.on('error', (err: grpc.ServiceError) => resolve(err.code));
      stream.on('status', (s: grpc.StatusObject) => resolve(s.code));
    });
  const stdioEnded = ended(stdio);
  const brokerEnded = ended(broker);
  const early = await Promise.race([stdioEnded, brokerEnded, new Promise((resolve) => setTimeout(() => resolve('open'), 300))]);
  t.is(early, 'open');

  // The host allows MaxInt32 both ways: a 6 MiB item passes (gRPC's default limit is 4 MiB).
  const big = Buffer.from(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: 'default' },
      data: { blob: 'x'.repeat(6 * 1024 * 1024) },
    }),
  );
  const echoed = await unary(c.ria, 'Execute', { plugin: PLUGIN_NAME, item: big, restore: Buffer.from('{}'), itemFromBackup: big });
  t.true(Buffer.from(echoed.item).equals(big));

  const shutdownAt = Date.now();
  await unary(c.controller, 'Shutdown', {});
  const exit = await exited;
  t.is(exit.code, 0);
  t.true(exit.at - shutdownAt < 2000, `exited ${exit.at - shutdownAt} ms after Shutdown`);
  t.is(await stdioEnded, grpc.status.OK);
  t.not(await brokerEnded, undefined);

  t.is(stdout, handshake, 'nothing but the handshake on stdout');
  const lines = stderr.trim().split('\n');
  for (const line of lines) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    t.true(['debug', 'info', 'warn', 'error'].includes(entry['@level'] as string), line);
    t.is(typeof entry['@message'], 'string');
    t.false('@timestamp' in entry, 'no @timestamp: the host stamps lines itself');
  }
  t.true(lines.some((l) => l.includes('"reason":"GRPCController.Shutdown"')));
  t.false(existsSync(socket));
  t.deepEqual(await readdir(tmp), [], 'no socket or proto copy left');
});

test('SIGINT is ignored as by a Go plugin; SIGTERM stops it', async (t) => {
  requireBuilt();
  const tmp = await tempDir('drift-plugin-tmp-');
  const child = spawn(SEA, ['--log-level=debug'], {
    env: { PATH: '/usr/bin:/bin', TMPDIR: tmp, VELERO_PLUGIN: 'hello' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGINT');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(child.exitCode, null, 'still running after SIGINT');
  child.kill('SIGTERM');
  t.is(await exited, 0);
  t.regex(stderr, /"@message":"plugin received interrupt signal, ignoring"/);
  t.regex(stderr, /"reason":"signal SIGTERM"/);
});
