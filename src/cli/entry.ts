/**
 * The program's one entry, for `node build/src/cli/main.js` and for the single executable alike.
 * Plugin mode is decided here, before commander sees an argument: Velero starts its plugins with
 * every `velero server` flag (`--log-level`, `--features`, ...), which the CLI would refuse, and
 * nothing but the handshake may reach stdout.
 */
import { isPluginInvocation, useWritableTempDir } from '../plugin/protocol.js';

export async function run(argv: string[], argv0: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (isPluginInvocation(argv0, env)) {
    useWritableTempDir(env);
    const { servePlugin } = await import('../plugin/server.js');
    const code = await servePlugin({ argv: argv.slice(2), env, stdout: process.stdout, stderr: process.stderr });
    // Stray sockets or timers (keep-alive agents) must not keep the process past the host's 2 s grace.
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    process.exit(code);
  }
  const { main } = await import('./program.js');
  return main(argv);
}

/** Pipes are asynchronous on POSIX: wait for what was written before exiting. */
function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 500);
    stream.write('', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
