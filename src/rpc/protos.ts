/**
 * The one place that knows where the .proto files live. Today they are read from the package's
 * proto/ directory; a bundled single executable has no such directory, so it hands the texts to
 * {@link useEmbeddedProtos} at start and they are materialised once in a private temp directory
 * (proto-loader resolves imports through include directories only).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

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

let embedded: Record<string, string> | undefined;
let directory: string | undefined;

/** For a bundled build: the proto texts by path below proto/ (e.g. `velero/Shared.proto`). */
export function useEmbeddedProtos(texts: Record<string, string>): void {
  embedded = texts;
  directory = undefined;
}

/** Removes the directory the embedded texts were written to, if any (a plugin process ends often). */
export function releaseEmbeddedProtos(): void {
  if (!embedded || !directory) return;
  rmSync(directory, { recursive: true, force: true });
  directory = undefined;
}

export function loadProto(...files: ProtoFile[]): protoLoader.PackageDefinition {
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
