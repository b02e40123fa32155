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
  if (jsonDepth(text) > maxDepth) throw new Error(`nested deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`not valid JSON (${input.length} bytes)`);
  }
}

/** The deepest nesting of `[` and `{` outside strings; one pass, no recursion. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
