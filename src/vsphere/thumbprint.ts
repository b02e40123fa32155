import type { PeerCertificate } from 'node:tls';
import { hexPairs, type PinnedThumbprint } from '../model/vcenter.js';

/** The peer certificate's thumbprint in the same algorithm and form as the pinned one. */
export function peerThumbprint(cert: PeerCertificate, algorithm: PinnedThumbprint['algorithm']): string {
  // Node already gives upper-case colon-separated fingerprints; normalise anyway.
  const raw = algorithm === 'sha1' ? cert.fingerprint : cert.fingerprint256;
  return hexPairs((raw ?? '').replace(/:/g, '').toUpperCase());
}

/**
 * Verification failures after which govmomi falls back to the pinned thumbprint: an unknown
 * authority (self-signed or private CA) or a host name that the certificate does not name.
 * Anything else (expired, revoked, malformed) fails even when a thumbprint is known.
 * Node reports them as OpenSSL verify codes and, for the host name, ERR_TLS_CERT_ALTNAME_INVALID.
 */
const PINNABLE_FAILURES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export type TlsVerdict =
  { ok: true; via: 'ca' | 'thumbprint' | 'skip' } | { ok: false; kind: 'untrusted' | 'thumbprint-mismatch'; message: string };

/**
 * Decides whether to talk to a vCenter over an established TLS connection, the way govmomi's
 * `dialTLS` does: normal CA + host name verification first; when that fails for a pinnable
 * reason and a thumbprint is pinned, accept iff the peer certificate has that thumbprint.
 */
export function judgePeer(input: {
  address: string;
  authorized: boolean;
  authorizationError?: string;
  cert: PeerCertificate;
  pinned?: PinnedThumbprint;
  insecureSkipVerify?: boolean;
  /** Set when the operator's credentials would go to a vCenter the operator has not said to trust: how to trust it. */
  untrustedHint?: string;
}): TlsVerdict {
  if (input.insecureSkipVerify) return { ok: true, via: 'skip' };
  if (input.authorized) return { ok: true, via: 'ca' };
  const code = input.authorizationError ?? 'UNKNOWN';
  if (input.untrustedHint !== undefined) {
    // The backup's pinned thumbprint vouches for the backup's own credentials only: a tampered backup pins its own host.
    return {
      ok: false,
      kind: 'untrusted',
      message:
        `the operator's vSphere credentials were not sent to ${input.address}: its certificate does not verify against ` +
        `the system's or the given CAs (${code}), and a thumbprint pinned in the backup does not make a vCenter trusted ` +
        `with the operator's credentials${input.untrustedHint ? `; ${input.untrustedHint}` : ''}`,
    };
  }
  const sha1 = peerThumbprint(input.cert, 'sha1');
  if (input.pinned && PINNABLE_FAILURES.has(code)) {
    const actual = peerThumbprint(input.cert, input.pinned.algorithm);
    if (actual === input.pinned.display) return { ok: true, via: 'thumbprint' };
    return {
      ok: false,
      kind: 'thumbprint-mismatch',
      message:
        `TLS thumbprint mismatch for ${input.address}: expected ${input.pinned.display}, actual ${actual}; ` +
        'the vCenter certificate changed, or another host answers at this address',
    };
  }
  // The problem only: where a thumbprint is pinned, and how to trust a CA, is each door's hint.
  const detail = input.pinned ? 'a pinned thumbprint cannot override this failure' : `its SHA-1 thumbprint is ${sha1}`;
  return {
    ok: false,
    kind: 'untrusted',
    message: `TLS certificate of ${input.address} is not trusted (${code}); ${detail}`,
  };
}
