/**
 * The ignore file (driftctl's `.driftignore`, for VMs): VMs the operator knows, taken out of scope
 * (docs/drift-rules.md §4). One glob pattern a line, matched against a VM's name and its inventory
 * path (`/DC0/vm/jumpboxes/jb-01`); `#` starts a comment, `!` negates, the last matching line wins.
 * Pure: the door reads the file.
 */
import { compileGlob, GlobError, globLiteral, type Glob } from '../util/glob.js';

export interface IgnoreRule {
  /** The pattern as written (after `!`). */
  pattern: string;
  /** 1-based line in the file. */
  line: number;
  negated: boolean;
  glob: Glob;
  /** The one name or path the pattern matches when it has no wildcard (as a baseline's lines have none). */
  literal?: string;
}

export interface IgnoreRules {
  /** Where the rules come from (the file's path), for warnings. */
  source: string;
  rules: IgnoreRule[];
  /** Wildcard-free rules by the text they match, to their last index in `rules`: a long baseline costs one lookup a VM. */
  literals: Map<string, number>;
}

/** A line that is no valid pattern. */
export class IgnorePatternError extends Error {
  override readonly name = 'IgnorePatternError';

  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Most patterns one ignore file may hold: a baseline of every VM of a large estate stays well below. */
export const MAX_IGNORE_PATTERNS = 10_000;
/** Largest ignore file read (bytes of UTF-8). */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/** A file too large to read as an ignore file: `line` 0, the message names the bound. */
export class IgnoreFileTooLargeError extends IgnorePatternError {}

export function parseIgnoreRules(text: string, source: string): IgnoreRules {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_IGNORE_FILE_BYTES) {
    throw new IgnoreFileTooLargeError(0, `${bytes} bytes, more than the ${MAX_IGNORE_FILE_BYTES} an ignore file may hold`);
  }
  const rules: IgnoreRule[] = [];
  const literals = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    let pattern = trimLine(raw);
    if (pattern === '' || pattern.startsWith('#')) return;
    if (rules.length === MAX_IGNORE_PATTERNS) {
      throw new IgnoreFileTooLargeError(line, `more than ${MAX_IGNORE_PATTERNS} patterns, the most an ignore file may hold`);
    }
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1);
    if (pattern === '') throw new IgnorePatternError(line, '! with no pattern after it');
    const path = anchored(pattern);
    let glob: Glob;
    try {
      glob = compileGlob(path);
    } catch (err) {
      if (err instanceof GlobError) throw new IgnorePatternError(line, `pattern ${JSON.stringify(pattern)}: ${err.message}`);
      throw err;
    }
    const literal = globLiteral(path);
    if (literal !== undefined) literals.set(literal, rules.length);
    rules.push({ pattern, line, negated, glob, ...(literal !== undefined ? { literal } : {}) });
  });
  return { source, rules, literals };
}

/** Blanks around a line go, except one kept by a `\` before it (`name\ `; in `name\\ ` that `\` is escaped itself). */
function trimLine(raw: string): string {
  const trimmed = raw.trim();
  const kept = /(\\+)(\s)\s*$/.exec(raw);
  return kept && kept[1]!.length % 2 === 1 ? `${trimmed}${kept[2]}` : trimmed;
}

/**
 * A pattern with a `/` is a path: relative to the inventory root when it does not start with `/`
 * (as gitignore reads a `/` inside a pattern), and a trailing `/` names everything under a folder.
 */
function anchored(pattern: string): string {
  if (!pattern.includes('/')) return pattern;
  let path = pattern.startsWith('/') || pattern.startsWith('**') ? pattern : `/${pattern}`;
  if (path.endsWith('/')) path += '**';
  return path;
}

/** The rule that ignores a VM of that name and inventory path, or undefined (none matches, or the last match is a `!`). */
export function ignoringRule(rules: IgnoreRules | undefined, name: string, folder?: string): IgnoreRule | undefined {
  if (!rules) return undefined;
  const path = folder ? inventoryPathOf(name, folder) : undefined;
  let last = Math.max(rules.literals.get(name) ?? -1, path !== undefined ? (rules.literals.get(path) ?? -1) : -1);
  for (let i = rules.rules.length - 1; i > last; i--) {
    const rule = rules.rules[i]!;
    if (rule.literal === undefined && (rule.glob.test(name) || (path !== undefined && rule.glob.test(path)))) {
      last = i;
      break;
    }
  }
  const rule = rules.rules[last];
  return rule && !rule.negated ? rule : undefined;
}

/** The inventory path of a VM, as an ignore file names it. */
export function inventoryPathOf(name: string, folder?: string): string {
  return folder ? `${folder.replace(/\/+$/, '')}/${name}` : name;
}
