/**
 * JSON from untrusted bytes (a backup entry, a request body): strict UTF-8 and bounded nesting.
 * JSON.parse itself copes with any depth, but every later recursive walk (JSON.stringify,
 * structuredClone) overflows the stack on a value nested 100,000 deep; refusing it here keeps that
 * a clear error rather than a RangeError far away. Messages never quote the input, which may be
 * secret data.
 */

/** Nesting accepted: a Kubernetes object (managedFields included) nests a few dozen levels. */
export const MAX_JSON_DEPTH = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of untrusted bytes; undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Parses `input`; throws an Error whose message says what is wrong (not UTF-8, too deep, not JSON), never what it holds. */
export function parseUntrustedJson(input: Uint8Array | string, maxDepth = MAX_JSON_DEPTH): unknown {
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text === undefined) throw new Error('not valid UTF-8');
  let value: unknown;
  try {
    // V8's JSON.parse does not recurse, so a deep document parses; the depth is checked on the value.
    value = JSON.parse(text) as unknown;
  } catch {
    throw new Error(`not valid JSON (${input.length} bytes)`);
  }
  if (deeperThan(value, maxDepth)) throw new Error(`nested deeper than ${maxDepth} levels`);
  return value;
}

/**
 * Whether arrays and objects nest deeper than `maxDepth`: one walk over the containers with a
 * stack of its own, no recursion, and no look at the strings that make up most of an object's text.
 */
export function deeperThan(root: unknown, maxDepth: number): boolean {
  const containers: unknown[] = [root];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const value = containers.pop();
    const depth = depths.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > maxDepth) return true;
    const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
