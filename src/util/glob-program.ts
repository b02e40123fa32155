/**
 * A compiled glob: a small program of single-character tests and jumps (Thompson's construction),
 * run over the text with every live position at once (a Pike VM without captures). Each character
 * of the text tests each live instruction once and visits each instruction at most once to follow
 * its jumps, so a match costs at most 2 × (text length + 1) × (program length) steps, whatever the
 * pattern: no backtracking, and no pattern costs more than its length times the text's.
 */

/** What one instruction does. */
export const Op = { Char: 0, Any: 1, Class: 2, Split: 3, Jump: 4, Match: 5 } as const;
type Op = (typeof Op)[keyof typeof Op];

/** A `[...]` class: code point ranges, negated or not; `separator` (when set) never matches. */
export interface CharClass {
  ranges: Array<[number, number]>;
  negated: boolean;
  separator?: number;
}

/** The program, built by the compiler (glob.ts). */
export class GlobProgram {
  readonly ops: Op[] = [];
  /** Char: the code point; Any: the separator it does not match (-1: none); Class: its index; Split/Jump: the first target. */
  readonly args: number[] = [];
  /** Split: the second target. */
  readonly alts: number[] = [];
  readonly classes: CharClass[] = [];
  /** Fewest characters a match needs: a shorter text is refused in one step. */
  minLength = 0;

  emit(op: Op, arg = 0, alt = 0): number {
    this.ops.push(op);
    this.args.push(arg);
    this.alts.push(alt);
    return this.ops.length - 1;
  }

  get size(): number {
    return this.ops.length;
  }
}

/** What one run found, and what it cost (instruction visits). */
export interface GlobRun {
  matched: boolean;
  steps: number;
}

/** Runs `program` over the whole of `text` (anchored at both ends). */
export function runProgram(program: GlobProgram, text: string): GlobRun {
  const codes = Array.from(text, (c) => c.codePointAt(0)!);
  if (codes.length < program.minLength) return { matched: false, steps: 1 };
  const seen = new Int32Array(program.size).fill(-1);
  let steps = 0;
  let current: number[] = [];
  let generation = 0;
  const add = (list: number[], start: number) => {
    const stack = [start];
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen[pc] === generation) continue;
      seen[pc] = generation;
      steps++;
      const op = program.ops[pc]!;
      if (op === Op.Jump) stack.push(program.args[pc]!);
      else if (op === Op.Split) stack.push(program.alts[pc]!, program.args[pc]!);
      else list.push(pc);
    }
  };
  add(current, 0);
  for (const code of codes) {
    generation++;
    const next: number[] = [];
    for (const pc of current) {
      steps++;
      if (consumes(program, pc, code)) add(next, pc + 1);
    }
    if (next.length === 0) return { matched: false, steps };
    current = next;
  }
  return { matched: current.some((pc) => program.ops[pc] === Op.Match), steps };
}

function consumes(program: GlobProgram, pc: number, code: number): boolean {
  switch (program.ops[pc]) {
    case Op.Char:
      return program.args[pc] === code;
    case Op.Any:
      return program.args[pc] !== code;
    case Op.Class: {
      const cls = program.classes[program.args[pc]!]!;
      if (code === cls.separator) return false;
      return cls.ranges.some(([lo, hi]) => code >= lo && code <= hi) !== cls.negated;
    }
    default:
      return false;
  }
}
