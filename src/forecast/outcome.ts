/** What each rule family adds to a cluster's forecast, and the helpers they share. Pure. */
import type { ForecastAction, ForecastFinding, ObjectRef, RuleId } from './model.js';

export interface Note {
  rule: RuleId;
  message: string;
}

export interface Outcome {
  actions: ForecastAction[];
  findings: ForecastFinding[];
  /** Facts behind the verdict that are neither actions nor findings (e.g. a Machine left alone). */
  notes: Note[];
  /** What could not be judged. */
  unknowns: string[];
}

export function emptyOutcome(): Outcome {
  return { actions: [], findings: [], notes: [], unknowns: [] };
}

/** Appends every part of `more` to `into`. */
export function merge(into: Outcome, more: Outcome): Outcome {
  into.actions.push(...more.actions);
  into.findings.push(...more.findings);
  into.notes.push(...more.notes);
  into.unknowns.push(...more.unknowns);
  return into;
}

export function ref(kind: string, o: { namespace: string; name: string }): ObjectRef {
  return { kind, namespace: o.namespace, name: o.name };
}

export function refText(o: ObjectRef): string {
  return `${o.kind} ${o.namespace}/${o.name}${o.vcenter ? ` on ${o.vcenter}` : ''}`;
}

/** `n thing` or `n things`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
