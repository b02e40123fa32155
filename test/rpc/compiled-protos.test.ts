/**
 * The single executable loads protos parsed at build time (scripts/embedded-protos.mjs) instead of
 * their text: its definitions must be the ones proto-loader makes from the text, down to the
 * bytes on the wire, the descriptors reflection reads, and the vendor protos health loads.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import test from 'ava';
import {
  EMBEDDED_PROTO_ROOT,
  loadEmbeddedSync,
  loadProto,
  PROTO_FILES,
  PROTO_LOADER_OPTIONS,
  useEmbeddedProtos,
  type CompiledProto,
  type ProtoFile,
} from '../../src/rpc/protos.js';
import { clusterItem, executeRequest } from '../grpc/helpers.js';
import { veleroRestore } from '../helpers/velero.js';

interface EmbeddedProtos {
  embeddedProtos(root: string): Record<string, string>;
  compiledProtos(root: string): Record<string, CompiledProto>;
  packageDir(pkg: string): string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** What the plugin serves together, and every proto alone. */
const LOADS: ProtoFile[][] = [
  [
    PROTO_FILES.veleroPluginLister,
    PROTO_FILES.veleroRestoreItemActionV1,
    PROTO_FILES.goPluginController,
    PROTO_FILES.goPluginBroker,
    PROTO_FILES.goPluginStdio,
  ],
  ...Object.values(PROTO_FILES).map((file) => [file]),
];

/** The health proto as grpc-health-check loads it, by the path the executable gives its module. */
const HEALTH = {
  file: 'health/v1/health.proto',
  options: { ...PROTO_LOADER_OPTIONS, includeDirs: [join(EMBEDDED_PROTO_ROOT, 'vendor/grpc-health-check/build/src/../../proto')] },
};

// Text first (no embedded protos yet), then the same loads from the parsed protos.
const embedded = (await import(join(repoRoot, 'scripts', 'embedded-protos.mjs'))) as EmbeddedProtos;
const fromText = LOADS.map((files) => loadProto(...files));
const healthFromText = protoLoader.loadSync(HEALTH.file, {
  ...HEALTH.options,
  includeDirs: [join(embedded.packageDir('grpc-health-check'), 'proto')],
});
useEmbeddedProtos(embedded.embeddedProtos(repoRoot), embedded.compiledProtos(repoRoot));
const fromCompiled = LOADS.map((files) => loadProto(...files));

type Method = protoLoader.MethodDefinition<object, object>;

/** Everything of a method but its functions, descriptors included. */
function shape(method: Method) {
  const { path, requestStream, responseStream, originalName, options, requestType, responseType } = method;
  const types = (t: protoLoader.MessageTypeDefinition<object, object>) => ({
    format: t.format,
    type: t.type,
    files: t.fileDescriptorProtos.length,
  });
  return { path, requestStream, responseStream, originalName, options, requestType: types(requestType), responseType: types(responseType) };
}

function services(definitions: protoLoader.PackageDefinition): [string, protoLoader.ServiceDefinition][] {
  return Object.entries(definitions).filter(([, d]) => !('format' in d)) as [string, protoLoader.ServiceDefinition][];
}

test('the parsed protos give the same names, services, methods and descriptors as their text', (t) => {
  for (const [i, files] of LOADS.entries()) {
    const text = fromText[i]!;
    const compiled = fromCompiled[i]!;
    t.deepEqual(Object.keys(compiled).sort(), Object.keys(text).sort(), files.join(', '));
    for (const [name, service] of services(text)) {
      const other = compiled[name] as protoLoader.ServiceDefinition;
      t.deepEqual(Object.keys(other).sort(), Object.keys(service).sort(), name);
      for (const [method, definition] of Object.entries(service))
        t.deepEqual(shape(other[method] as Method), shape(definition), `${name}/${method}`);
    }
  }
});

test('the parsed protos encode and decode as their text does', (t) => {
  const item = clusterItem('tenant-a', 'workload-1', { annotations: { 'example.com/x': 'y' } });
  const request = executeRequest(item, veleroRestore('nightly'));
  const text = (fromText[0]!['generated.RestoreItemAction'] as protoLoader.ServiceDefinition)['Execute'] as Method;
  const compiled = (fromCompiled[0]!['generated.RestoreItemAction'] as protoLoader.ServiceDefinition)['Execute'] as Method;
  const bytes = text.requestSerialize(request);
  t.deepEqual(compiled.requestSerialize(request), bytes);
  t.deepEqual(compiled.requestDeserialize(bytes), text.requestDeserialize(bytes));
  // Defaults, enums and repeated fields of every message as decoded from nothing.
  for (const [i] of LOADS.entries()) {
    for (const [name, service] of services(fromText[i]!)) {
      for (const [method, definition] of Object.entries(service) as [string, Method][]) {
        const other = (fromCompiled[i]![name] as protoLoader.ServiceDefinition)[method] as Method;
        t.deepEqual(other.responseDeserialize(Buffer.alloc(0)), definition.responseDeserialize(Buffer.alloc(0)), `${name}/${method}`);
        t.deepEqual(other.requestDeserialize(Buffer.alloc(0)), definition.requestDeserialize(Buffer.alloc(0)), `${name}/${method}`);
      }
    }
  }
  t.throws(() => compiled.requestSerialize([]), {
    message: /expected object with RestoreItemActionExecuteRequest structure, got array/,
  });
});

test('a vendor module loading its proto below the embedded root gets it parsed, without a proto directory', (t) => {
  const health = loadEmbeddedSync(HEALTH.file, HEALTH.options);
  t.deepEqual(Object.keys(health).sort(), Object.keys(healthFromText).sort());
  const check = (d: protoLoader.PackageDefinition) => shape((d['grpc.health.v1.Health'] as protoLoader.ServiceDefinition)['Check'] as Method);
  t.deepEqual(check(health), check(healthFromText));
});
