/**
 * Glob patterns, in two dialects, compiled to a program that runs in time linear in the text
 * (glob-program.ts: no backtracking, so no pattern costs more than its length times the text's).
 *
 * - `path` (ignore files), as gitignore reads them: `*` and `?` stay within a `/`-separated
 *   segment, `[...]` is a character class (`[!...]` or `[^...]` negated), `**` crosses segments
 *   (between slashes it may stand for no segment at all; a run of `**\/` is one), `\` makes the next
 *   character literal and `\u{1b}` is the code point 0x1b (how a name's control character is
 *   written exactly).
 * - `name` (a Velero Restore's namespaces, as its glob library reads them): no separator, so `*`
 *   and `**` match any run of characters and `?` any one; `[...]` (`[!...]` negated) and `{a,b}`
 *   alternatives; `\` makes the next character literal.
 *
 * Written here rather than taken from picomatch or minimatch: those are only development
 * dependencies of this project, and both match through backtracking regular expressions.
 */
import { GlobProgram, Op, runProgram, type CharClass, type GlobRun } from './glob-program.js';
import { printable } from './shell.js';

/** A pattern that cannot be compiled; the message says what is wrong with it. */
export class GlobError extends Error {
  override readonly name = 'GlobError';
}

export type GlobDialect = 'path' | 'name';

/**
 * A compiled pattern: `test` answers in time linear in the text; `run` also says what it cost. A
 * pattern of literals and stars only (`jumpbox-*`, `*-md-*` in a name) is matched with string searches.
 */
export class Glob {
  constructor(
    readonly pattern: string,
    private readonly program: GlobProgram,
    private readonly pieces: StarPieces | undefined,
  ) {}

  test(text: string): boolean {
    return this.run(text).matched;
  }

  run(text: string): GlobRun {
    return this.pieces ? { matched: matchPieces(this.pieces, text), steps: this.pieces.stars.length + 1 } : runProgram(this.program, text);
  }

  /** The program's answer, even where string searches give it: the two must agree. */
  runProgram(text: string): GlobRun {
    return runProgram(this.program, text);
  }

  /** Instructions of the program: what one character of text costs at most. */
  get size(): number {
    return this.program.size;
  }
}

const SLASH = 0x2f;

export function compileGlob(pattern: string, dialect: GlobDialect = 'path'): Glob {
  if (pattern === '') throw new GlobError('empty pattern');
  const compiler = new Compiler([...pattern], dialect);
  const program = compiler.program;
  program.minLength = compiler.sequence(false);
  if (compiler.at < compiler.chars.length) throw new GlobError(`unmatched } at column ${compiler.at + 1}`);
  program.emit(Op.Match);
  const { stars } = compiler.pieces;
  // Leftmost placement is right for stars that cross anything; with a separator, only for one star.
  const searchable = compiler.simple && (stars.length <= 1 || stars.every((s) => s.separator === undefined));
  return new Glob(pattern, program, searchable ? compiler.pieces : undefined);
}

/** A pattern of literals and stars: `head`, then for each star the literal after it (the last one anchored at the end). */
interface StarPieces {
  head: string;
  stars: Array<{ separator: string | undefined; literal: string }>;
}

/**
 * Leftmost placement of each literal after the previous one is the best placement when stars match
 * anything: it leaves the most text for the rest. (With a separator a later placement can be the
 * only one that works, so such patterns take this path only with a single star.)
 */
function matchPieces({ head, stars }: StarPieces, text: string): boolean {
  if (stars.length === 0) return text === head;
  if (!text.startsWith(head)) return false;
  let at = head.length;
  const crosses = (from: number, to: number, separator: string | undefined) =>
    separator !== undefined && text.slice(from, to).includes(separator);
  for (const { separator, literal } of stars.slice(0, -1)) {
    const found = text.indexOf(literal, at);
    if (found < 0 || crosses(at, found, separator)) return false;
    at = found + literal.length;
  }
  const last = stars[stars.length - 1]!;
  const end = text.length - last.literal.length;
  return end >= at && text.endsWith(last.literal) && !crosses(at, end, last.separator);
}

/** One pass over the pattern's characters, emitting as it reads. */
class Compiler {
  readonly program = new GlobProgram();
  at = 0;
  /** Whether the pattern has only literals and stars so far, and those pieces. */
  simple = true;
  readonly pieces: StarPieces = { head: '', stars: [] };

  constructor(
    readonly chars: string[],
    private readonly dialect: GlobDialect,
  ) {}

  private get separator(): number {
    return this.dialect === 'path' ? SLASH : -1;
  }

  /** Pieces up to the end (or, inside `{...}`, up to `,` or `}`); the fewest characters they match. */
  sequence(inBraces: boolean): number {
    let min = 0;
    while (this.at < this.chars.length) {
      const c = this.chars[this.at]!;
      if (inBraces && (c === ',' || c === '}')) break;
      if (c === '*') this.stars();
      else if (c === '?') {
        this.simple = false;
        this.program.emit(Op.Any, this.separator);
        this.at++;
        min++;
      } else if (c === '[') {
        this.simple = false;
        this.characterClass();
        min++;
      } else if (c === '{' && this.dialect === 'name') min += this.alternatives();
      else if (c === '}' && this.dialect === 'name' && !inBraces) break;
      else {
        this.literal(this.escaped());
        min++;
      }
    }
    return min;
  }

  /** `*`, `**`, and in a path `**\/` (repeated: one); runs of stars collapse into one loop. */
  private stars(): void {
    const start = this.at;
    while (this.chars[this.at] === '*') this.at++;
    const double = this.at - start > 1;
    if (this.dialect === 'path' && double && (start === 0 || this.chars[start - 1] === '/') && this.chars[this.at] === '/') {
      this.at++;
      // `**/**/` is `**/`: one optional run of segments.
      while (this.chars[this.at] === '*' && this.chars[this.at + 1] === '*' && this.chars[this.at + 2] === '/') this.at += 3;
      this.simple = false;
      this.segments();
      return;
    }
    const separator = this.dialect === 'path' && !double ? SLASH : -1;
    this.loop(separator);
    this.pieces.stars.push({ separator: separator < 0 ? undefined : '/', literal: '' });
  }

  private literal(code: number): void {
    this.program.emit(Op.Char, code);
    const last = this.pieces.stars[this.pieces.stars.length - 1];
    if (last) last.literal += String.fromCodePoint(code);
    else this.pieces.head += String.fromCodePoint(code);
  }

  /** `(any char except separator)*`: Split, the char, Jump back. */
  private loop(separator: number): void {
    const p = this.program;
    const split = p.emit(Op.Split);
    p.emit(Op.Any, separator);
    p.emit(Op.Jump, split);
    p.args[split] = split + 1;
    p.alts[split] = p.size;
  }

  /** `(?:.*\/)?`: nothing, or anything that ends with `/`. */
  private segments(): void {
    const p = this.program;
    const skip = p.emit(Op.Split);
    const loop = p.emit(Op.Split);
    p.emit(Op.Any, -1);
    p.emit(Op.Jump, loop);
    const slash = p.emit(Op.Char, SLASH);
    p.args[skip] = loop;
    p.alts[skip] = p.size;
    p.args[loop] = loop + 1;
    p.alts[loop] = slash;
  }

  /** `{a,b,...}`: each alternative a sequence; the fewest characters any of them matches. */
  private alternatives(): number {
    this.simple = false;
    const open = this.at;
    this.at++;
    const p = this.program;
    const jumps: number[] = [];
    let min = Infinity;
    let split: number;
    for (;;) {
      split = p.emit(Op.Split);
      p.args[split] = split + 1;
      min = Math.min(min, this.sequence(true));
      jumps.push(p.emit(Op.Jump));
      if (this.at >= this.chars.length) throw new GlobError(`unterminated { at column ${open + 1}`);
      if (this.chars[this.at++] === '}') break;
      p.alts[split] = p.size;
    }
    // The last alternative's other branch is a dead end: a class of no character.
    p.classes.push({ ranges: [], negated: false });
    p.alts[split] = p.emit(Op.Class, p.classes.length - 1);
    for (const j of jumps) p.args[j] = p.size;
    return min;
  }

  /** A literal character (after `\`, or `\u{hex}` in a path), as a code point. */
  private escaped(): number {
    const c = this.chars[this.at]!;
    if (c !== '\\') {
      this.at++;
      return c.codePointAt(0)!;
    }
    const next = this.chars[this.at + 1];
    if (next === undefined) throw new GlobError('ends with a lone \\');
    if (this.dialect === 'path' && next === 'u' && this.chars[this.at + 2] === '{') {
      const close = this.chars.indexOf('}', this.at + 3);
      const hex = close > 0 ? this.chars.slice(this.at + 3, close).join('') : '';
      if (/^[0-9a-fA-F]{1,6}$/.test(hex) && Number.parseInt(hex, 16) <= 0x10ffff) {
        this.at = close + 1;
        return Number.parseInt(hex, 16);
      }
    }
    this.at += 2;
    return next.codePointAt(0)!;
  }

  /** `[...]` up to its closing `]` (a `]` right after `[` or `[!` is literal); in a path never matches `/`. */
  private characterClass(): void {
    const open = this.at;
    this.at++;
    const cls: CharClass = { ranges: [], negated: false, ...(this.dialect === 'path' ? { separator: SLASH } : {}) };
    const c0 = this.chars[this.at];
    if (c0 === '!' || (c0 === '^' && this.dialect === 'path')) {
      cls.negated = true;
      this.at++;
    }
    for (let first = true; ; first = false) {
      if (this.at >= this.chars.length) throw new GlobError(`unterminated [ at column ${open + 1}`);
      if (this.chars[this.at] === ']' && !first) break;
      const lo = this.classChar();
      if (this.chars[this.at] === '-' && this.chars[this.at + 1] !== ']' && this.at + 1 < this.chars.length) {
        this.at++;
        const hi = this.classChar();
        if (hi < lo) throw new GlobError(`invalid character class at column ${open + 1}`);
        cls.ranges.push([lo, hi]);
      } else cls.ranges.push([lo, lo]);
    }
    this.at++;
    this.program.classes.push(cls);
    this.program.emit(Op.Class, this.program.classes.length - 1);
  }

  private classChar(): number {
    if (this.chars[this.at] === '\\' && this.at + 1 >= this.chars.length) throw new GlobError('ends with a lone \\');
    return this.escaped();
  }
}

/** The one text a pattern without wildcards matches (its escapes resolved), or undefined when it has any. */
export function globLiteral(pattern: string): string | undefined {
  if (/(?<!\\)(?:\\\\)*[*?[]/.test(pattern) || /(?<!\\)(?:\\\\)*\\$/.test(pattern)) return undefined;
  return pattern.replace(/\\u\{([0-9a-fA-F]{1,6})\}|\\(.)/gu, (whole, hex: string | undefined, c: string | undefined) => {
    if (hex === undefined) return c!;
    const code = Number.parseInt(hex, 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : `u{${hex}}`;
  });
}

/**
 * Text as a path pattern that matches exactly it: wildcards escaped, and characters a file must not
 * hold raw (controls, line breaks, bidirectional overrides) written as `\u{hex}`.
 */
export function escapeGlob(text: string): string {
  return printable(text.replace(/[\\*?[\]]/g, (c) => `\\${c}`));
}
