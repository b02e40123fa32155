/** `-D/--debug`: one line per step on stderr. Callers never pass secrets. */
export function debugLogger(enabled: boolean): (message: string) => void {
  if (!enabled) return () => {};
  return (message) => process.stderr.write(`[debug] ${new Date().toISOString()} ${message}\n`);
}
