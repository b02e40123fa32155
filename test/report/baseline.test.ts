/** `baseline`'s ignore file read back: each line ignores exactly its VM, whatever characters the name holds. */
import test from 'ava';
import fc from 'fast-check';
import { ignoringRule, parseIgnoreRules } from '../../src/drift/ignore.js';
import type { InfraMachineReport } from '../../src/model/report.js';
import { summarize } from '../../src/drift/summarize.js';
import { renderBaseline } from '../../src/report/baseline.js';
import type { DriftReport } from '../../src/model/report.js';

const infra = (name: string, folder?: string): InfraMachineReport => ({
  name,
  vcenter: 'vc-a.example.com',
  biosUUID: '42000001-0000-4000-8000-000000000001',
  reason: 'carries CAPV guestinfo.metadata',
  ...(folder !== undefined ? { folder } : {}),
});

const report = (infraMachines: InfraMachineReport[]): DriftReport => {
  const parts = { clusters: [], infraMachines, errors: [] };
  return { summary: summarize(parts, 0), ...parts };
};

test('a baseline ignores exactly the machines it lists: glob characters, #, !, blanks and control characters in names', (t) => {
  // vCenter spells a / inside a name as %2f, so names never hold one.
  const char = fc.constantFrom('a', 'b', '-', '*', '?', '[', ']', '\\', '#', '!', ' ', '\n', '.', '%2f');
  const name = fc.array(char, { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
  const folder = fc.constantFrom(undefined, '/DC0/vm', '/DC0/vm/t*ols', '/DC0/vm/a b');
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(name, folder), { minLength: 1, maxLength: 6, selector: ([n, f]) => `${f}/${n}` }), (vms) => {
      const text = renderBaseline(report(vms.map(([n, f]) => infra(n, f))));
      const rules = parseIgnoreRules(text, '.driftignore');
      const listed = (n: string, f: string | undefined) => vms.some(([m, g]) => m === n && g === f);
      const allIgnored = vms.every(([n, f]) => ignoringRule(rules, n, f) !== undefined);
      const nothingElse = vms.every(([n, f]) => listed(`${n}x`, f) || ignoringRule(rules, `${n}x`, f) === undefined);
      return allIgnored && nothingElse && rules.rules.length === vms.length;
    }),
    { seed: 13, numRuns: 300 },
  );
  t.pass();
});

test('a baseline of a report with no infrastructure machine is only its header', (t) => {
  const text = renderBaseline(report([]));
  t.true(text.split('\n').every((l) => l === '' || l.startsWith('#')));
  t.regex(text, /^# 0 infrastructure machines that needed confirmation/m);
  t.regex(text, /^# Backup: \(not recorded in the report\)$/m);
});
