/**
 * Bearer tokens in the `authorization` metadata: how a client sends one, and how a server checks
 * it, in constant time. A token is never logged, nor quoted in an error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Metadata, status } from '@grpc/grpc-js';
import { ServiceError } from './service-error.js';

/**
 * What is wrong with a token read from a file or a Secret, in words that never quote it; undefined
 * when it can be sent. gRPC metadata takes visible ASCII only, and its own error quotes the value.
 */
export function bearerTokenProblem(token: string): string | undefined {
  if (/[\r\n]/.test(token)) return 'holds more than one line';
  if (token.length > MAX_BEARER_TOKEN_CHARS) {
    return `holds a token of ${token.length} characters, more than the ${MAX_BEARER_TOKEN_CHARS} gRPC metadata carries to every server`;
  }
  if (!/^[\x21-\x7e]+$/.test(token)) return 'holds characters not allowed in a bearer token (visible ASCII only, no spaces)';
  return undefined;
}

/**
 * Characters of a bearer token at most. gRPC servers bound a call's metadata (8 KiB in C-core,
 * 16 KiB in grpc-go); a larger header ends in a reset stream rather than an answer. Service
 * account and OIDC tokens are one or two KiB.
 */
export const MAX_BEARER_TOKEN_CHARS = 8 * 1024;

/** Bytes of a token file at most (the token and the blanks around it): a larger file is read no further. */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/**
 * The bearer token a file holds, trimmed, or what is wrong with it in words that never quote it.
 * At most MAX_TOKEN_FILE_BYTES + 1 bytes are read, whatever the file is. Read errors are thrown.
 */
export async function readBearerTokenFile(path: string): Promise<{ token: string } | { problem: string }> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      length += bytesRead;
      if (bytesRead === 0 || length === buffer.length) break;
    }
    if (length > MAX_TOKEN_FILE_BYTES) return { problem: `holds more than ${MAX_TOKEN_FILE_BYTES} bytes: not a bearer token` };
    const token = buffer.subarray(0, length).toString('utf8').trim();
    const problem = bearerTokenProblem(token);
    return problem ? { problem } : { token };
  } finally {
    await handle.close();
  }
}

/** The metadata a client sends with every call: the token, when it has one. */
export function bearerMetadata(token: string | undefined): Metadata {
  const metadata = new Metadata();
  if (token) {
    const problem = bearerTokenProblem(token);
    if (problem) throw new Error(`the bearer token ${problem}`);
    metadata.set('authorization', `Bearer ${token}`);
  }
  return metadata;
}

/** Throws UNAUTHENTICATED unless the metadata carries `authorization: Bearer <token>`. */
export function checkBearerToken(metadata: Metadata, token: string | undefined): void {
  if (token === undefined) return;
  const values = metadata.get('authorization');
  const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) throw new ServiceError(status.UNAUTHENTICATED, 'missing credentials: send the metadata "authorization: Bearer <token>"');
  if (!sameSecret(match[1]!, token)) throw new ServiceError(status.UNAUTHENTICATED, 'invalid bearer token');
}

/** Constant time whatever the lengths: both sides are hashed to the same size first. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
