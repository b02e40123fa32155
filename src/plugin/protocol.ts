/**
 * hashicorp/go-plugin's protocol as Velero's host speaks it (docs/velero-facts.md): the magic
 * cookie, the version negotiation, the listener and the handshake line. Pure apart from the
 * listener, so each rule is tested on its own.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Server, ServerCredentials } from '@grpc/grpc-js';

/** Velero's HandshakeConfig (pkg/plugin/framework/handshake.go), the same at every release since 1.0. */
export const MAGIC_COOKIE_KEY = 'VELERO_PLUGIN';
export const MAGIC_COOKIE_VALUE = 'hello';
/** go-plugin's CoreProtocolVersion: any other value makes the host refuse the plugin. */
export const CORE_PROTOCOL_VERSION = 1;
/**
 * Velero's app protocol version; the host requires an exact match. A Go server picks its highest
 * version listed in PLUGIN_PROTOCOL_VERSIONS, else its lowest: with one version, always this one,
 * and a host that wants another reports the mismatch itself ("incompatible API version").
 */
export const APP_PROTOCOL_VERSION = 2;

/** What a Go plugin prints (go-plugin server.go) when run without the cookie. */
export const NOT_A_PLUGIN_MESSAGE =
  'This binary is a plugin. These are not meant to be executed directly.\n' +
  'Please execute the program that consumes these plugins, which will\n' +
  'load any plugins automatically\n';

/**
 * The file name the plugin image installs the executable under in /plugins. Run under this name the
 * program is always the plugin (a multi-call binary, like busybox), so started by hand without the
 * cookie it says it is a plugin instead of acting as the CLI.
 */
export const PLUGIN_EXECUTABLE_NAME = 'velero-plugin-drift-detector';

/** The kind this executable registers its actions as: v1 loads on every Velero from 1.9 (docs/velero-facts.md). */
export const RESTORE_GATE_KIND = 'RestoreItemAction';
export { RESTORE_GATE_NAME, RESTORE_GATE_NAMES, RESTORE_GATE_SECRETS_NAME, RESTORE_GATE_TKG_NAME } from '../rpc/restore-gate-actions.js';

/** Plugin mode: Velero (or any go-plugin host) set the cookie variable, or we were run as the plugin file. */
export function isPluginInvocation(argv0: string, env: NodeJS.ProcessEnv): boolean {
  return env[MAGIC_COOKIE_KEY] !== undefined || basename(argv0) === PLUGIN_EXECUTABLE_NAME;
}

export function hasMagicCookie(env: NodeJS.ProcessEnv): boolean {
  return env[MAGIC_COOKIE_KEY] === MAGIC_COOKIE_VALUE;
}

/**
 * The socket goes to the temporary directory (and a copy of the embedded protos, should one be
 * loaded that the build did not parse: the plugin's own never are). When it is not
 * writable (Velero's container with a read-only root filesystem), Velero's scratch volume
 * (VELERO_SCRATCH_DIR, an emptyDir Velero itself writes to) takes its place. Called before
 * anything loads a proto. Returns the directory switched to, if any.
 */
export function useWritableTempDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const writable = (dir: string) => {
    try {
      accessSync(dir, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (writable(tmpdir())) return undefined;
  const scratch = env['VELERO_SCRATCH_DIR'];
  if (!scratch || !writable(scratch)) return undefined;
  process.env['TMPDIR'] = scratch;
  return scratch;
}

export interface PluginAddress {
  network: 'unix' | 'tcp';
  /** A socket path, or `127.0.0.1:PORT`. */
  address: string;
}

/** `CORE|APP|NETWORK|ADDR|grpc`: the first and only line the plugin writes to stdout. */
export function handshakeLine(version: number, where: PluginAddress): string {
  return `${CORE_PROTOCOL_VERSION}|${version}|${where.network}|${where.address}|grpc\n`;
}

/** go-plugin's defaults when the host sets no range. */
const DEFAULT_MIN_PORT = 10000;
const DEFAULT_MAX_PORT = 25000;

/**
 * Binds the server as a Go plugin would: a unix socket named like os.CreateTemp(dir, "plugin") in
 * PLUGIN_UNIX_SOCKET_DIR (else the temp directory); when that fails, the first free TCP port on
 * 127.0.0.1 within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT. The host accepts either. (The credentials are
 * passed in so that this module, which the program's entry reads, loads no gRPC code.)
 */
export async function bindPluginListener(
  server: Server,
  env: NodeJS.ProcessEnv,
  credentials: ServerCredentials,
): Promise<PluginAddress & { unixError?: string }> {
  const bind = (address: string) =>
    new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));

  let unixError: string;
  const dir = env['PLUGIN_UNIX_SOCKET_DIR'] || tmpdir();
  const path = join(dir, `plugin${randomBytes(5).readUInt32BE(0)}`);
  if (existsSync(path)) {
    unixError = `${path} exists`;
  } else {
    try {
      await bind(`unix:${path}`);
      return { network: 'unix', address: path };
    } catch (err) {
      unixError = err instanceof Error ? err.message : String(err);
    }
  }

  const min = portOf(env['PLUGIN_MIN_PORT'], DEFAULT_MIN_PORT);
  const max = portOf(env['PLUGIN_MAX_PORT'], DEFAULT_MAX_PORT);
  let lastError = 'an empty port range';
  for (let port = min; port <= max; port++) {
    try {
      await bind(`127.0.0.1:${port}`);
      return { network: 'tcp', address: `127.0.0.1:${port}`, unixError };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  throw new Error(`cannot listen: unix socket in ${dir}: ${unixError}; no free TCP port in ${min}..${max} on 127.0.0.1 (${lastError})`);
}

function portOf(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isInteger(n) && n > 0 && n <= 65535 ? n : fallback;
}
