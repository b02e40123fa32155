/**
 * Bytes that are not the method's message answer INVALID_ARGUMENT with a short reason, on every
 * method of every service `serve` and the plugin carry (ours, Velero's, go-plugin's, health,
 * reflection), whatever the method's streaming shape. The garbage goes through a grpc-js client
 * whose serializer passes raw bytes.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { startPlugin } from '../../src/plugin/server.js';
import { loadProto, PROTO_FILES, SERVICE_NAMES, type ProtoFile } from '../../src/rpc/protos.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { FakeDetection, startTestService } from '../grpc/helpers.js';

const require = createRequire(import.meta.url);
/** Field 1 with wire type 7, which no protobuf decoder accepts, even for an empty message. */
const GARBAGE = Buffer.from([0x0f, 0xff, 0xff, 0xff]);
const raw = (b: Buffer): Buffer => b;
const LOADER = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };
const REFLECTION_PROTO = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');

interface Method {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

function methodsOf(definition: protoLoader.PackageDefinition, services: string[]): Method[] {
  return services.flatMap((name) => {
    const service = definition[name] as grpc.ServiceDefinition | undefined;
    if (!service) throw new Error(`no service ${name}`);
    return Object.values(service).map(({ path, requestStream, responseStream }) => ({ path, requestStream, responseStream }));
  });
}

const HEALTH = methodsOf(protoLoader.loadSync(healthProtoPath, LOADER), ['grpc.health.v1.Health']);

/** Sends GARBAGE as the request of `method` and resolves with the status the server ends the call with. */
function sendGarbage(client: grpc.Client, method: Method): Promise<grpc.StatusObject> {
  return new Promise((resolve) => {
    const deadline = { deadline: Date.now() + 10_000 };
    const done = (err: grpc.ServiceError | null) => resolve(err ?? { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() });
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, raw, raw, GARBAGE, new grpc.Metadata(), deadline, done);
      return;
    }
    if (!method.requestStream) {
      const call = client.makeServerStreamRequest(method.path, raw, raw, GARBAGE, new grpc.Metadata(), deadline);
      call.on('data', () => {});
      call.on('status', (s: grpc.StatusObject) => resolve(s));
      call.on('error', () => {});
      return;
    }
    const call = method.responseStream
      ? client.makeBidiStreamRequest(method.path, raw, raw, new grpc.Metadata(), deadline)
      : client.makeClientStreamRequest(method.path, raw, raw, new grpc.Metadata(), deadline, done);
    call.on('status', (s: grpc.StatusObject) => resolve(s));
    call.on('error', () => {});
    if ('on' in call && method.responseStream) call.on('data', () => {});
    call.write(GARBAGE);
    call.end();
  });
}

async function expectInvalidArgument(t: ExecutionContext, address: string, methods: Method[]): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  for (const method of methods) {
    const answer = await sendGarbage(client, method);
    t.is(answer.code, grpc.status.INVALID_ARGUMENT, `${method.path}: ${answer.code} ${answer.details}`);
    t.regex(answer.details, /^malformed request: not a \w+ message/, method.path);
    t.true(answer.details.length < 200, method.path);
  }
}

test('serve: a request that does not decode answers INVALID_ARGUMENT on every method', async (t) => {
  const service = await startTestService({ deps: new FakeDetection().deps() });
  t.teardown(() => service.stop());
  const served = [SERVICE_NAMES.driftDetector, SERVICE_NAMES.restoreItemActionV1, SERVICE_NAMES.restoreItemActionV2];
  const ours = methodsOf(
    loadProto(PROTO_FILES.driftDetector, PROTO_FILES.veleroRestoreItemActionV1, PROTO_FILES.veleroRestoreItemActionV2),
    served,
  );
  const reflection = methodsOf(protoLoader.loadSync(REFLECTION_PROTO, LOADER), ['grpc.reflection.v1.ServerReflection']);
  t.true(ours.length >= 6);
  await expectInvalidArgument(t, service.running.address, [...ours, ...HEALTH, ...reflection]);

  // A well-formed request still reaches its handler.
  const health = await sendWellFormedHealthCheck(service.running.address);
  t.is(health, 'SERVING');
});

test('plugin: a request that does not decode answers INVALID_ARGUMENT on every method', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'drift-malformed-'));
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  const plugin = await startPlugin({
    argv: [process.execPath, 'drift-detector'],
    env: { PLUGIN_UNIX_SOCKET_DIR: dir },
    stdout: quiet,
    stderr: quiet,
    command: 'drift-detector',
    logger: jsonLogger({ level: 'error', write: () => {} }),
  });
  t.teardown(async () => {
    plugin.stop('test over');
    await plugin.stopped;
    await rm(dir, { recursive: true, force: true });
  });
  const files: ProtoFile[] = [
    PROTO_FILES.veleroPluginLister,
    PROTO_FILES.veleroRestoreItemActionV1,
    PROTO_FILES.goPluginController,
    PROTO_FILES.goPluginBroker,
    PROTO_FILES.goPluginStdio,
  ];
  const services = [
    SERVICE_NAMES.pluginLister,
    SERVICE_NAMES.restoreItemActionV1,
    SERVICE_NAMES.goPluginController,
    SERVICE_NAMES.goPluginBroker,
    SERVICE_NAMES.goPluginStdio,
  ];
  const address = plugin.address.network === 'unix' ? `unix:${plugin.address.address}` : plugin.address.address;
  // GRPCController.Shutdown last: a well-formed one would stop the plugin, a malformed one must not.
  const methods = methodsOf(loadProto(...files), services);
  await expectInvalidArgument(t, address, [...HEALTH, ...methods]);
  t.is(await sendWellFormedHealthCheck(address), 'SERVING', 'the plugin still serves');
});

async function sendWellFormedHealthCheck(address: string): Promise<string> {
  const proto = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, LOADER)) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client } } };
  };
  const client = new proto.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve, reject) =>
      (client as unknown as { Check: (req: object, cb: (err: Error | null, res: { status: string }) => void) => void }).Check(
        { service: '' },
        (err, res) => (err ? reject(err) : resolve(res.status)),
      ),
    );
  } finally {
    client.close();
  }
}
