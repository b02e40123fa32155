/**
 * Turns what went wrong while listing a workload cluster's Nodes into words a platform engineer
 * can act on. Messages name the server and the Secret, never a credential.
 */
import { ApiException } from '@kubernetes/client-node';

/** The listing was stopped by its deadline or by the caller. */
export class ListingAborted extends Error {
  override name = 'ListingAborted';
  constructor(readonly why: 'timeout' | 'cancelled') {
    super(why);
  }
}

export interface FailureContext {
  /** `<cluster>-kubeconfig` */
  secretName: string;
  /** API server origin, when the kubeconfig named one. */
  server?: string;
  timeoutMs: number;
}

// Verification failures of the server's chain, as Node's TLS layer reports them.
const SERVER_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const UNREACHABLE_CODES: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'reset the connection',
  EPIPE: 'closed the connection',
  ETIMEDOUT: 'did not accept a connection in time',
  EHOSTUNREACH: 'is unreachable (no route to host)',
  ENETUNREACH: 'is unreachable (network unreachable)',
  EHOSTDOWN: 'is down',
};

export function describeFailure(err: unknown, ctx: FailureContext): string {
  const server = ctx.server ?? 'the API server';
  const at = ctx.server ? `the API server at ${ctx.server}` : 'the API server';

  if (err instanceof ListingAborted) {
    return err.why === 'timeout'
      ? `timed out after ${ctx.timeoutMs / 1000} s: ${at} did not finish answering the Node listing; ` +
          `check that the cluster's control-plane endpoint is reachable from here.`
      : `cancelled before the Nodes of ${server} were read`;
  }

  if (err instanceof ApiException) {
    const code = err.code;
    if (code === 401 || code === 403) {
      return (
        `${at} rejected the client certificate in ${ctx.secretName} (HTTP ${code} ${code === 401 ? 'Unauthorized' : 'Forbidden'}). ` +
        `Old backups often hold expired or replaced client certificates: Cluster API issues them for one year. ` +
        `Get a current kubeconfig for the cluster to confirm ghosts by Node.`
      );
    }
    const detail = statusMessage(err.body);
    return `${at} answered HTTP ${code} to GET /api/v1/nodes${detail ? `: ${detail}` : ''}`;
  }

  const code = errorCode(err);
  if (code) {
    if (SERVER_TRUST_CODES.has(code)) {
      return (
        `the server certificate of ${at} is not trusted: ${serverTrustDetail(code, ctx.secretName)}. ` +
        `If you accept that risk, run again with --insecure-skip-verify.`
      );
    }
    if (code in UNREACHABLE_CODES) {
      return `${at} is unreachable: it ${UNREACHABLE_CODES[code]}; check that the cluster is running and its control-plane endpoint is reachable from here.`;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return `${at} is unreachable: its host name does not resolve (${code}); check DNS from here.`;
    }
    if (/^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_|UNKNOWN_CA|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE)/.test(code)) {
      return (
        `${at} refused the TLS handshake with the client certificate in ${ctx.secretName} (${code}). ` +
        `Old backups often hold expired or replaced client certificates: Cluster API issues them for one year.`
      );
    }
    return `could not read Nodes from ${at}: ${code}`;
  }

  if (err instanceof Error && err.name === 'AbortError') return `cancelled before the Nodes of ${server} were read`;
  // Anything else is an answer we did not expect (e.g. a proxy's HTML page instead of a NodeList).
  const what = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : String(err).slice(0, 160);
  return `could not read Nodes from ${at}: unexpected answer (${what})`;
}

function serverTrustDetail(code: string, secretName: string): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return 'it has expired';
    case 'CERT_NOT_YET_VALID':
      return 'it is not valid yet (check the clocks)';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'it does not name the address in the kubeconfig';
    default:
      return `it is not signed by the certificate-authority-data in ${secretName} (${code})`;
  }
}

function errorCode(err: unknown): string | undefined {
  // node-fetch's FetchError copies the system error's code; TLS errors may sit one level down.
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

function statusMessage(body: unknown): string | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const message = (value as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}

/**
 * Last guard before a message leaves the module: removes PEM blocks and long base64 runs, in
 * case some layer quoted credential material.
 */
export function redactSecrets(message: string): string {
  return message
    .replace(/-----BEGIN [^-]+-----[\s\S]*?(-----END [^-]+-----|$)/g, '[redacted]')
    .replace(/[A-Za-z0-9+/=]{60,}/g, '[redacted]');
}
