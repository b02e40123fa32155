/** Text that came from a report (names a tampered backup or vCenter may carry) made safe to show or run. */

/** One argument for a POSIX shell: single-quoted unless it is plainly safe. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * Characters a name must not bring raw to a terminal, a file or a message: controls (newlines,
 * terminal escapes), line and paragraph separators, and the bidirectional controls (U+202E and its
 * kin) that reorder what is shown around them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

/**
 * Text from a report (a VM, cluster or machine name) as it may be shown: each unsafe character
 * written as `\\u{hex}`, so it is shown exactly and cannot end a line or repaint a terminal.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
