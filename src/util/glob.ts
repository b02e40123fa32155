/**
 * Glob patterns over `/`-separated paths, as gitignore reads them: `*` and `?` stay within a
 * segment, `[...]` is a character class (`[!...]` or `[^...]` negated), `**` crosses segments
 * (between slashes it may stand for no segment at all), `\` makes the next character literal. Written here rather than
 * taken from picomatch or minimatch: those are only development dependencies of this project, and
 * the few rules above are all an ignore file needs.
 */

/** A pattern that cannot be compiled; the message says what is wrong with it. */
export class GlobError extends Error {
  override readonly name = 'GlobError';
}

/** The pattern as an anchored regular expression over the whole text. */
export function compileGlob(pattern: string): RegExp {
  if (pattern === '') throw new GlobError('empty pattern');
  let source = '';
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const { regex, next } = doubleStar(pattern, i);
      source += regex;
      i = next;
    } else if (c === '*') {
      source += '[^/]*';
      i++;
    } else if (c === '?') {
      source += '[^/]';
      i++;
    } else if (c === '[') {
      const { regex, next } = characterClass(pattern, i);
      source += regex;
      i = next;
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new GlobError('ends with a lone \\');
      source += escapeRegex(pattern[i + 1]!);
      i += 2;
    } else {
      source += escapeRegex(c);
      i++;
    }
  }
  return new RegExp(`^${source}$`, 'u');
}

/** `**`: at the start or after `/` and followed by `/`, zero or more whole segments; elsewhere anything. */
function doubleStar(pattern: string, at: number): { regex: string; next: number } {
  let end = at;
  while (pattern[end] === '*') end++;
  const segmentStart = at === 0 || pattern[at - 1] === '/';
  if (segmentStart && pattern[end] === '/') return { regex: '(?:.*/)?', next: end + 1 };
  return { regex: '.*', next: end };
}

/** `[...]` up to its closing `]` (a `]` right after `[` or `[!` is literal); never matches `/`. */
function characterClass(pattern: string, at: number): { regex: string; next: number } {
  let i = at + 1;
  let negated = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negated = true;
    i++;
  }
  let body = '';
  for (let first = true; ; first = false) {
    if (i >= pattern.length) throw new GlobError(`unterminated [ at column ${at + 1}`);
    const c = pattern[i]!;
    if (c === ']' && !first) break;
    if (c === '\\') {
      if (i + 1 >= pattern.length) throw new GlobError('ends with a lone \\');
      body += escapeClass(pattern[i + 1]!);
      i += 2;
      continue;
    }
    body += c === '-' && !first && pattern[i + 1] !== ']' ? '-' : escapeClass(c);
    i++;
  }
  try {
    new RegExp(`[${body}]`, 'u');
  } catch {
    throw new GlobError(`invalid character class at column ${at + 1}`);
  }
  return { regex: negated ? `(?![${body}])[^/]` : `(?!/)[${body}]`, next: i + 1 };
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

function escapeClass(c: string): string {
  return /[\\\]^[-]/.test(c) ? `\\${c}` : c;
}

/** The one text a pattern without wildcards matches (its escapes resolved), or undefined when it has any. */
export function globLiteral(pattern: string): string | undefined {
  if (/(?<!\\)(?:\\\\)*[*?[]/.test(pattern) || /(?<!\\)(?:\\\\)*\\$/.test(pattern)) return undefined;
  return pattern.replace(/\\(.)/gu, '$1');
}

/** Text as a pattern that matches exactly it (and, for a control character, any one character there). */
export function escapeGlob(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\*?[\]]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
}
