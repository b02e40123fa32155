/**
 * The one place that knows where the .proto files live. Run by node they are read from the
 * package's proto/ directory. A bundled single executable has no such directory: the build hands
 * {@link useEmbeddedProtos} each proto already parsed (protobufjs JSON, with its imports), so a
 * plugin process reaches its handshake without parsing proto text; the texts come too, and are
 * materialised in a private temp directory only for a load nothing was compiled for
 * (proto-loader resolves imports through include directories only).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { definitionsFromCompiled } from './compiled-protos.js';

/** The protos this program serves, by path below proto/. */
export const PROTO_FILES = {
  driftDetector: 'driftdetector/v1/driftdetector.proto',
  veleroShared: 'velero/Shared.proto',
  veleroPluginLister: 'velero/PluginLister.proto',
  veleroRestoreItemActionV1: 'velero/RestoreItemAction.proto',
  veleroRestoreItemActionV2: 'velero/restoreitemaction/v2/RestoreItemAction.proto',
  goPluginController: 'goplugin/grpc_controller.proto',
  goPluginBroker: 'goplugin/grpc_broker.proto',
  goPluginStdio: 'goplugin/grpc_stdio.proto',
} as const;

export type ProtoFile = (typeof PROTO_FILES)[keyof typeof PROTO_FILES];

/** The fully qualified names of the services those protos define, for servers, clients and health. */
export const SERVICE_NAMES = {
  driftDetector: 'driftdetector.v1.DriftDetector',
  restoreItemActionV1: 'generated.RestoreItemAction',
  restoreItemActionV2: 'v2.RestoreItemAction',
  pluginLister: 'generated.PluginLister',
  goPluginController: 'plugin.GRPCController',
  goPluginBroker: 'plugin.GRPCBroker',
  goPluginStdio: 'plugin.GRPCStdio',
} as const;

export type ServiceName = (typeof SERVICE_NAMES)[keyof typeof SERVICE_NAMES];

/** Velero's protos import each other from their own root (`import "Shared.proto"`). */
const INCLUDE_SUBDIRS = ['', 'velero'];

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** A proto parsed by protobufjs with the files it imports, as `Root#toJSON()` writes it. */
export interface CompiledProto {
  nested?: Record<string, CompiledProto>;
  [field: string]: unknown;
}

/**
 * Where the executable's vendor modules (grpc-health-check, @grpc/reflection) are told their
 * protos live; nothing exists there, {@link loadEmbeddedSync} maps it onto the embedded protos.
 */
export const EMBEDDED_PROTO_ROOT = '/drift-detector-embedded-protos';

let embedded: Record<string, string> | undefined;
let compiled: Record<string, CompiledProto> = {};
let directory: string | undefined;

/**
 * For a bundled build: the proto texts by path below proto/ (e.g. `velero/Shared.proto`), vendor
 * protos below `vendor/<package>/`, and those the build parsed, by the same paths.
 */
export function useEmbeddedProtos(texts: Record<string, string>, parsed: Record<string, CompiledProto> = {}): void {
  embedded = texts;
  compiled = parsed;
  directory = undefined;
}

/** Removes the directory the embedded texts were written to, if any (a plugin process ends often). */
export function releaseEmbeddedProtos(): void {
  if (!embedded || !directory) return;
  rmSync(directory, { recursive: true, force: true });
  directory = undefined;
}

export function loadProto(...files: ProtoFile[]): protoLoader.PackageDefinition {
  if (files.every((file) => compiled[file])) return fromCompiled(files, PROTO_LOADER_OPTIONS);
  const root = protoDirectory();
  return protoLoader.loadSync(files, {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: INCLUDE_SUBDIRS.map((d) => join(root, d)),
  });
}

export function protoDirectory(): string {
  if (directory) return directory;
  if (embedded) {
    const dir = mkdtempSync(join(tmpdir(), 'drift-detector-proto-'));
    for (const [path, text] of Object.entries(embedded)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return (directory = dir);
  }
  // build/src/rpc/ when compiled, src/rpc/ when run from source: walk up to the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'proto', PROTO_FILES.driftDetector))) return (directory = join(dir, 'proto'));
    dir = dirname(dir);
  }
  throw new Error(`cannot find the proto/ directory (looked above ${dirname(fileURLToPath(import.meta.url))})`);
}

/**
 * proto-loader's loadSync as the executable's vendor modules see it: their paths lie below
 * {@link EMBEDDED_PROTO_ROOT}; a proto the build parsed (with the options that module loads it
 * with) is taken from there, any other from the materialised texts.
 */
export function loadEmbeddedSync(filename: string | string[], options: protoLoader.Options = {}): protoLoader.PackageDefinition {
  const files = [filename].flat();
  const below = files.map((file) => belowEmbeddedRoot(file, options.includeDirs ?? []));
  if (below.every((path) => path !== undefined && compiled[path])) return fromCompiled(below as string[], options);
  const real = (path: string) => (path.startsWith(EMBEDDED_PROTO_ROOT) ? join(protoDirectory(), relative(EMBEDDED_PROTO_ROOT, path)) : path);
  return protoLoader.loadSync(files.map(real), { ...options, ...(options.includeDirs ? { includeDirs: options.includeDirs.map(real) } : {}) });
}

/** The embedded path (below proto/) a vendor module's file resolves to, if it has one. */
function belowEmbeddedRoot(file: string, includeDirs: string[]): string | undefined {
  const candidates = isAbsolute(file) ? [file] : includeDirs.map((dir) => join(dir, file));
  for (const path of candidates) {
    const below = relative(EMBEDDED_PROTO_ROOT, path);
    if (!below.startsWith('..') && !isAbsolute(below) && (compiled[below] || embedded?.[below])) return below;
  }
  return undefined;
}

function fromCompiled(paths: string[], options: protoLoader.Options): protoLoader.PackageDefinition {
  const json = mergeCompiled(paths.map((path) => compiled[path]!));
  return definitionsFromCompiled(json, options, () => protoLoader.fromJSON(json, options));
}

/**
 * One namespace holding the types of several compiled protos. Files they both import appear in
 * each: a type (anything beyond a plain namespace: fields, methods, values) is taken once.
 */
function mergeCompiled(protos: CompiledProto[]): CompiledProto {
  const nested: Record<string, CompiledProto> = {};
  for (const proto of protos) {
    for (const [name, child] of Object.entries(proto.nested ?? {})) {
      const existing = nested[name];
      nested[name] = existing && isPlainNamespace(existing) && isPlainNamespace(child) ? mergeCompiled([existing, child]) : (existing ?? child);
    }
  }
  const merged = Object.assign({}, ...protos) as CompiledProto;
  return { ...merged, nested };
}

function isPlainNamespace(proto: CompiledProto): boolean {
  return Object.keys(proto).every((key) => key === 'nested' || key === 'options');
}
