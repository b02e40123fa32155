/** Text that came from a report (names a tampered backup or vCenter may carry) made safe to show or run. */

/**
 * Characters a name must not bring raw to a terminal, a file or a message: controls (newlines,
 * terminal escapes), line and paragraph separators, and the bidirectional controls (U+202E and its
 * kin) that reorder what is shown around them.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

const HAS_UNSAFE = new RegExp(UNSAFE.source, 'u');

/**
 * One argument for bash: as is when plainly safe, single-quoted otherwise; one holding an unsafe
 * character is ANSI-C quoted, each such character as its UTF-8 bytes (`$'a\\xe2\\x80\\xaeb'`, the same
 * in every locale), so the script shows every character escaped and still passes the exact name.
 */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  if (!HAS_UNSAFE.test(arg)) return `'${arg.replaceAll("'", `'\\''`)}'`;
  const bytes = (c: string) => [...Buffer.from(c, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  return `$'${arg.replace(/[\\']/g, (c) => `\\${c}`).replace(UNSAFE, bytes)}'`;
}

/**
 * Text from a report (a VM, cluster or machine name) as it may be shown: each unsafe character
 * written as `\u{hex}`, so it is shown exactly and cannot end a line or repaint a terminal.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}
