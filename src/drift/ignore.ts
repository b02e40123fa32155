/**
 * The ignore file (driftctl's `.driftignore`, for VMs): VMs the operator knows, taken out of scope
 * (docs/drift-rules.md §4). One glob pattern a line, matched against a VM's name and its inventory
 * path (`/DC0/vm/jumpboxes/jb-01`); `#` starts a comment, `!` negates, the last matching line wins.
 * Pure: the door reads the file.
 */
import { compileGlob, GlobError } from '../util/glob.js';

export interface IgnoreRule {
  /** The pattern as written (after `!`). */
  pattern: string;
  /** 1-based line in the file. */
  line: number;
  negated: boolean;
  regex: RegExp;
}

export interface IgnoreRules {
  /** Where the rules come from (the file's path), for warnings. */
  source: string;
  rules: IgnoreRule[];
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

export function parseIgnoreRules(text: string, source: string): IgnoreRules {
  const rules: IgnoreRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    let pattern = trimLine(raw);
    if (pattern === '' || pattern.startsWith('#')) return;
    const negated = pattern.startsWith('!');
    if (negated) pattern = pattern.slice(1);
    if (pattern === '') throw new IgnorePatternError(line, '! with no pattern after it');
    try {
      rules.push({ pattern, line, negated, regex: compileGlob(anchored(pattern)) });
    } catch (err) {
      if (err instanceof GlobError) throw new IgnorePatternError(line, `pattern ${JSON.stringify(pattern)}: ${err.message}`);
      throw err;
    }
  });
  return { source, rules };
}

/** Blanks around a line go, except a blank kept by a `\` before it (`name\ `). */
function trimLine(raw: string): string {
  const trimmed = raw.trim();
  const escapedBlank = /\\(\s)\s*$/.exec(raw);
  return escapedBlank && trimmed.endsWith('\\') ? `${trimmed}${escapedBlank[1]}` : trimmed;
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
  for (let i = rules.rules.length - 1; i >= 0; i--) {
    const rule = rules.rules[i]!;
    if (rule.regex.test(name) || (path !== undefined && rule.regex.test(path))) return rule.negated ? undefined : rule;
  }
  return undefined;
}

/** The inventory path of a VM, as an ignore file names it. */
export function inventoryPathOf(name: string, folder?: string): string {
  return folder ? `${folder.replace(/\/+$/, '')}/${name}` : name;
}
