/**
 * Plugin mode: the process Velero starts from /plugins. It serves, on one grpc-js server, Velero's
 * generated.PluginLister and generated.RestoreItemAction (the handlers `serve` shares, over the
 * plugin's gate), grpc.health.v1.Health (`plugin` SERVING), and go-plugin's controller, broker
 * and stdio services; prints the handshake line, the only thing it ever writes to stdout; logs
 * hclog JSON on stderr; and exits when the host calls GRPCController.Shutdown.
 *
 * Nothing that can fail on a misconfigured cluster runs before the first Execute, because the host
 * aborts Velero's start-up when a plugin fails its handshake or ListPlugins.
 */
import { realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { format } from 'node:util';
import { ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { PROTO_FILES, releaseEmbeddedProtos, SERVICE_NAMES } from '../rpc/protos.js';
import { restoreItemActionV1 } from '../rpc/restore-item-action.js';
import { ServerShell } from '../rpc/server-shell.js';
import { jsonLogger, parseLogLevel, type Logger, type LogLevel } from '../util/jsonlog.js';
import { DETECTOR_VERSION } from '../version.js';
import { brokerImplementation, controllerImplementation, OpenStreams, stdioImplementation } from './host-services.js';
import {
  APP_PROTOCOL_VERSION,
  bindPluginListener,
  handshakeLine,
  hasMagicCookie,
  NOT_A_PLUGIN_MESSAGE,
  RESTORE_GATE_KIND,
  RESTORE_GATE_NAMES,
  type PluginAddress,
} from './protocol.js';
import type { PluginEnvironment, PluginRestoreGate } from './restore-gate-plugin.js';

/** go-plugin's host waits this long after Shutdown before it kills the process. */
const HOST_GRACE_MS = 2_000;
/** Our share of it: calls still running after this are cancelled. */
const SHUTDOWN_BOUND_MS = 1_000;

export interface PluginProcess {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** What ListPlugins answers as the command (default: this executable, see pluginCommand). */
  command?: string;
  /** Tests replace the detection or the cluster access. */
  deps?: Pick<PluginEnvironment, 'cluster' | 'detect'>;
}

export interface RunningPlugin {
  address: PluginAddress;
  /** Resolves with the exit code once the plugin has stopped. */
  stopped: Promise<number>;
  stop(reason: string): void;
}

/**
 * The command Velero runs again for each restore: this executable. As a single executable
 * application that is process.execPath; run by node (development), the script, which its
 * shebang makes runnable.
 */
export async function pluginCommand(argv: string[]): Promise<string> {
  let sea = false;
  try {
    sea = (await import('node:sea')).isSea();
  } catch {
    // node:sea is missing before Node 20.12: not a single executable.
  }
  if (sea || !argv[1]) return process.execPath;
  const script = isAbsolute(argv[1]) ? argv[1] : resolve(argv[1]);
  try {
    return realpathSync(script);
  } catch {
    return script;
  }
}

/**
 * Velero passes every `velero server` flag to its plugins (`--log-level=debug`, `--features=...`);
 * only the log level means something here. Velero's levels are logrus' names.
 */
export function logLevelFromArgs(argv: string[]): LogLevel {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = arg.startsWith('--log-level=') ? arg.slice('--log-level='.length) : arg === '--log-level' ? argv[i + 1] : undefined;
    if (value === undefined) continue;
    const v = value.toLowerCase();
    if (v === 'trace') return 'debug';
    if (v === 'fatal' || v === 'panic') return 'error';
    return parseLogLevel(v) ?? 'info';
  }
  return 'info';
}

/** Runs the plugin until the host shuts it down; resolves with the exit code. */
export async function servePlugin(options: PluginProcess): Promise<number> {
  if (!hasMagicCookie(options.env)) {
    options.stderr.write(NOT_A_PLUGIN_MESSAGE);
    return 1;
  }
  const logger = jsonLogger({
    level: logLevelFromArgs(options.argv),
    timestamp: false,
    write: (line) => void options.stderr.write(line),
  });
  const restoreConsole = routeConsoleTo(logger);
  // Installed before the handshake: the host may signal as soon as it has read it.
  let running: RunningPlugin | undefined;
  let stopBeforeStart: string | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // go-plugin servers ignore SIGINT: a Ctrl-C at the host's terminal is the host's to handle.
    if (signal === 'SIGINT') logger.debug('plugin received interrupt signal, ignoring');
    else if (running) running.stop(`signal ${signal}`);
    else stopBeforeStart = `signal ${signal}`;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    running = await startPlugin({ ...options, logger });
    if (stopBeforeStart) running.stop(stopBeforeStart);
    return await running.stopped;
  } catch (err) {
    logger.error('plugin failed to start', { error: err instanceof Error ? err.message : String(err) });
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    restoreConsole();
  }
}

/** Starts the server and prints the handshake; the caller waits on `stopped`. */
export async function startPlugin(options: PluginProcess & { logger: Logger }): Promise<RunningPlugin> {
  const { logger } = options;
  const command = options.command ?? (await pluginCommand(options.argv));
  const gate = deferredGate({ env: options.env, logger, ...options.deps });
  const open = new OpenStreams();
  let stop: (reason: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (stop = resolve));

  const shell = new ServerShell({
    protos: [
      PROTO_FILES.veleroPluginLister,
      PROTO_FILES.veleroRestoreItemActionV1,
      PROTO_FILES.goPluginController,
      PROTO_FILES.goPluginBroker,
      PROTO_FILES.goPluginStdio,
    ],
  });
  shell.add(SERVICE_NAMES.pluginLister, {
    ListPlugins: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      // Velero lists a binary's plugins kind by kind, names sorted; each name once, under one kind.
      logger.debug('ListPlugins', { command, kind: RESTORE_GATE_KIND, names: RESTORE_GATE_NAMES.join(',') });
      callback(null, { plugins: RESTORE_GATE_NAMES.map((name) => ({ command, kind: RESTORE_GATE_KIND, name })) });
    },
  });
  shell.add(SERVICE_NAMES.restoreItemActionV1, onlyOurName(restoreItemActionV1({ logger }, gate)));
  shell.add(
    SERVICE_NAMES.goPluginController,
    controllerImplementation(() => stop('GRPCController.Shutdown')),
  );
  shell.add(SERVICE_NAMES.goPluginBroker, brokerImplementation(open));
  shell.add(SERVICE_NAMES.goPluginStdio, stdioImplementation(open));

  const address = await bindPluginListener(shell.server, options.env, ServerCredentials.createInsecure());
  if (address.unixError) logger.debug('no unix socket, listening on TCP', { reason: address.unixError });
  options.stdout.write(handshakeLine(APP_PROTOCOL_VERSION, address));
  logger.info('plugin serving', {
    version: DETECTOR_VERSION,
    network: address.network,
    address: address.address,
    command,
    names: RESTORE_GATE_NAMES.join(','),
  });

  const stopped = stopRequested.then(async (reason) => {
    logger.debug('plugin stopping', { reason });
    // An Execute still running (a hung vCenter) must not keep the host waiting past its grace.
    await shell.shutdown(Math.min(SHUTDOWN_BOUND_MS, HOST_GRACE_MS), { beforeDrain: () => open.endAll() });
    gate.close();
    if (address.network === 'unix') await rm(address.address, { force: true });
    releaseEmbeddedProtos();
    logger.debug('plugin stopped');
    return 0;
  });
  return { address, stopped, stop: (reason) => stop(reason) };
}

/**
 * The gate, made at the first Execute: its code (settings, YAML, the Kubernetes, S3 and vSphere
 * clients, the analysis) is evaluated then, not before the handshake every plugin process has to
 * reach, the short-lived ones Velero starts only to list plugins included.
 */
function deferredGate(environment: PluginEnvironment): Pick<PluginRestoreGate, 'execute' | 'close'> {
  let made: Promise<PluginRestoreGate> | undefined;
  const gate = () => (made ??= import('./restore-gate-plugin.js').then(({ PluginRestoreGate }) => new PluginRestoreGate(environment)));
  return {
    execute: async (input, call) => (await gate()).execute(input, call),
    close: () => void made?.then((plugin) => plugin.close()),
  };
}

/**
 * Velero names the plugin in every request; like a Go plugin server, answer only for our names, so a
 * mix-up between binaries shows as an error rather than as a gate that ran for someone else.
 */
function onlyOurName(implementation: UntypedServiceImplementation): UntypedServiceImplementation {
  const result: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(implementation)) {
    result[method] = ((call: ServerUnaryCall<{ plugin?: string }, unknown>, callback: sendUnaryData<unknown>) => {
      const name = call.request?.plugin ?? '';
      if (!(RESTORE_GATE_NAMES as readonly string[]).includes(name)) {
        callback({ code: status.UNKNOWN, details: `${RESTORE_GATE_KIND} plugin: ${name} was not found or has an invalid name format` });
        return;
      }
      (handler as (c: typeof call, cb: typeof callback) => void)(call, callback);
    }) as UntypedServiceImplementation[string];
  }
  return result;
}

/**
 * Whatever a library prints goes to the log, never to stdout (only the handshake belongs there),
 * and Node's warnings become hclog lines rather than free text.
 */
function routeConsoleTo(logger: Logger): () => void {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  console.log = console.info = (...args: unknown[]) => logger.info(format(...args));
  console.debug = (...args: unknown[]) => logger.debug(format(...args));
  console.warn = (...args: unknown[]) => logger.warn(format(...args));
  console.error = (...args: unknown[]) => logger.error(format(...args));
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (warning: Error) => logger.warn(warning.message, { warning: warning.name });
  process.on('warning', onWarning);
  return () => {
    Object.assign(console, saved);
    process.off('warning', onWarning);
    for (const printer of printers) process.on('warning', printer);
  };
}
