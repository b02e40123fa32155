/**
 * Bearer tokens in the `authorization` metadata: how a client sends one, and how a server checks
 * it, in constant time. A token is never logged, nor quoted in an error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata, status } from '@grpc/grpc-js';
import { ServiceError } from './service-error.js';

/**
 * What is wrong with a token read from a file or a Secret, in words that never quote it; undefined
 * when it can be sent. gRPC metadata takes visible ASCII only, and its own error quotes the value.
 */
export function bearerTokenProblem(token: string): string | undefined {
  if (/[\r\n]/.test(token)) return 'holds more than one line';
  if (!/^[\x21-\x7e]+$/.test(token)) return 'holds characters not allowed in a bearer token (visible ASCII only, no spaces)';
  return undefined;
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
