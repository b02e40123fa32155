/**
 * A backup of many 15 MiB Secrets: what the reader keeps is bounded, whether the Secrets carry
 * keys the analysis never reads (dropped on arrival) or keys it reads (counted against the budget).
 * Each case runs in a child process, whose peak RSS is the reader's alone.
 */
import test from 'ava';
import { runChild } from './rss.js';

const CHILD = new URL('./secret-bomb-child.js', import.meta.url);
/** The child's own copy of the bomb's body, Node and a few entries in flight stay well under this. */
const RSS_BOUND_MIB = 450;

test('Secrets with keys the analysis never reads are slimmed on arrival: 600 MiB of them leave RSS flat', async (t) => {
  const outcome = await runChild(CHILD, ['40', '15', 'token']);
  t.true(outcome.ok, outcome.error);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});

test('Secrets past the memory budget are refused, naming the backup, the entry and the budget', async (t) => {
  const outcome = await runChild(CHILD, ['40', '15', 'value', '64']);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^bomb\.tar: resources\/secrets\/namespaces\/default\/s\d+\.json: .*memory budget of 64 MiB/);
  t.false(outcome.error!.includes('AAAA'), 'no secret data in the message');
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});
