/**
 * Reference matchers for the glob property suites: the patterns' meaning written as plain
 * recursion, exponential and obviously right, for small inputs only.
 */

/** Velero's namespace globs: `*`, `?`, `[...]`/`[!...]` with ranges, `{a,b}`, literal otherwise. */
export function nameGlobRef(p: string, s: string): boolean {
  if (p === '') return s === '';
  const c = p[0]!;
  if (c === '*') return nameGlobRef(p.slice(1), s) || (s !== '' && nameGlobRef(p, s.slice(1)));
  if (c === '?') return s !== '' && nameGlobRef(p.slice(1), s.slice(1));
  if (c === '[') {
    const close = p.indexOf(']', 2);
    const negated = p[1] === '!';
    const set = p.slice(negated ? 2 : 1, close);
    const inSet = [...set].some((x, i) => x === s[0] || (set[i + 1] === '-' && set[i + 2] !== undefined && x <= s[0]! && s[0]! <= set[i + 2]!));
    return s !== '' && inSet !== negated && nameGlobRef(p.slice(close + 1), s.slice(1));
  }
  if (c === '{') {
    const close = p.indexOf('}');
    return p
      .slice(1, close)
      .split(',')
      .some((alt) => nameGlobRef(alt + p.slice(close + 1), s));
  }
  return s !== '' && s[0] === c && nameGlobRef(p.slice(1), s.slice(1));
}

/** Ignore-file globs: `*` and `?` within a segment, `**\/` any folders, `**` elsewhere anything. */
export function pathGlobRef(p: string, s: string, segmentStart = true): boolean {
  if (p === '') return s === '';
  if (p.startsWith('**')) {
    const rest = p.replace(/^\*+/, '');
    if (segmentStart && rest.startsWith('/')) {
      const after = rest.slice(1);
      // Nothing, or anything up to and including a `/`.
      return pathGlobRef(after, s, true) || [...s].some((c, i) => c === '/' && pathGlobRef(after, s.slice(i + 1), true));
    }
    return [...Array(s.length + 1).keys()].some((i) => pathGlobRef(rest, s.slice(i), false));
  }
  const c = p[0]!;
  if (c === '*') return pathGlobRef(p.slice(1), s, false) || (s !== '' && s[0] !== '/' && pathGlobRef(p, s.slice(1), false));
  if (c === '?') return s !== '' && s[0] !== '/' && pathGlobRef(p.slice(1), s.slice(1), false);
  return s !== '' && s[0] === c && pathGlobRef(p.slice(1), s.slice(1), c === '/');
}
