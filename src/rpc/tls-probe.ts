/**
 * Why a clear-text gRPC channel found no connection: a server that presents TLS closes the
 * connection on the first clear-text frame, and grpc-js says only `No connection established`.
 * A TLS handshake with the same address tells the caller which flag it is missing.
 */
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { hostOf, parseHostPort } from '../config/addresses.js';

const PROBE_TIMEOUT_MS = 3_000;

/** Whether the peer at `host:port` completes a TLS handshake (its certificate not judged: only the protocol is asked). */
export function presentsTls(endpoint: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const address = parseHostPort(endpoint);
  const host = hostOf(endpoint);
  if (!address || host === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: address.port,
      ...(isIP(host) ? {} : { servername: host }),
      ALPNProtocols: ['h2'],
      // Only whether the peer speaks TLS is asked; nothing is sent over this connection.
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}
