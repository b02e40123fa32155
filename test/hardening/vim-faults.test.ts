/**
 * Fault vCenters (test/vsphere/fake-vim.ts): a walk that never ends, an answer that never ends, a
 * connection closed mid-answer. Each gives a clear reason naming the vCenter, in bounded time and
 * memory; each runs in a child process whose peak RSS is the walk's (and the fake's) alone.
 */
import test from 'ava';
import { runChild } from './rss.js';

const CHILD = new URL('./vim-fault-child.js', import.meta.url);
const RSS_BOUND_MIB = 300;

test('a vCenter that pages forever is stopped at the page cap', async (t) => {
  const outcome = await runChild(CHILD, ['endless', JSON.stringify({ maxPages: 20 })]);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^127\.0\.0\.1:\d+ answered the inventory walk with more than 20 pages/);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});

test('a vCenter that pages forever is stopped by the whole-walk deadline', async (t) => {
  const outcome = await runChild(CHILD, ['endless', JSON.stringify({ walkTimeoutMs: 2000 })]);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^the inventory walk of 127\.0\.0\.1:\d+ did not finish within 2 s \(timed out\)$/);
  t.true(outcome.ms < 6000, `took ${outcome.ms} ms`);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});

test('an answer that never ends is cut at the size cap, not buffered', async (t) => {
  const outcome = await runChild(CHILD, ['huge', JSON.stringify({ maxResponseChars: 8 * 1024 * 1024 })]);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^the answer of 127\.0\.0\.1:\d+ passed 8 Mi characters/);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});

test('an answer that never ends is cut at the default cap too', async (t) => {
  const outcome = await runChild(CHILD, ['huge', '{}']);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^the answer of 127\.0\.0\.1:\d+ passed 64 Mi characters/);
  t.true(outcome.maxRssMiB < RSS_BOUND_MIB, `peak RSS ${outcome.maxRssMiB} MiB`);
});

test('a connection closed in the middle of an answer names the vCenter and the call', async (t) => {
  const outcome = await runChild(CHILD, ['close', '{}']);
  t.false(outcome.ok);
  t.regex(outcome.error!, /^127\.0\.0\.1:\d+ closed the connection during RetrievePropertiesEx/);
  t.true(outcome.ms < 5000, `took ${outcome.ms} ms`);
});
