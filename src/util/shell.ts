/** Text that came from a report (names a tampered backup or vCenter may carry) made safe to show or run. */

/** One argument for a POSIX shell: single-quoted unless it is plainly safe. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Control characters (newlines, terminal escapes) replaced, so a name cannot end a comment or repaint a terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}
