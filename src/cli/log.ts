/** `-D/--debug`: one line per step on stderr. Callers never pass secrets. */
export function debugLogger(enabled: boolean): (message: string) => void {
  if (!enabled) return () => {};
  return (message) => process.stderr.write(`[debug] ${new Date().toISOString()} ${message}\n`);
}

/**
 * Colour for a stream, by the https://no-color.org convention: a non-empty NO_COLOR turns it off,
 * FORCE_COLOR turns it on (off for `0` or `false`), otherwise colour only on a terminal.
 */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR']) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return stream.isTTY === true;
}
