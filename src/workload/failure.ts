/**
 * Turns what went wrong while listing a workload cluster's Nodes (a KubeCallError, mostly) into
 * words a platform engineer can act on: the kubeconfig came from a backup, so the advice is about
 * old client certificates and reachability. Messages name the server and the Secret, never a
 * credential.
 */
import { firstLine, KubeCallError } from '../kube/call.js';

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
  if (!(err instanceof KubeCallError)) return `could not read Nodes from ${at}: unexpected answer (${firstLine(err)})`;

  switch (err.failure) {
    case 'timeout':
      return (
        `timed out after ${ctx.timeoutMs / 1000} s: ${at} did not finish answering the Node listing; ` +
        `check that the cluster's control-plane endpoint is reachable from here.`
      );
    case 'cancelled':
      return `cancelled before the Nodes of ${server} were read`;
    case 'unauthorized':
    case 'forbidden':
      return (
        `${at} rejected the client certificate in ${ctx.secretName} (HTTP ${err.status} ${err.status === 401 ? 'Unauthorized' : 'Forbidden'}). ` +
        `Old backups often hold expired or replaced client certificates: Cluster API issues them for one year. ` +
        `Get a current kubeconfig for the cluster to confirm ghosts by Node.`
      );
    case 'not-found':
    case 'http':
      return `${at} answered HTTP ${err.status} to GET /api/v1/nodes${err.statusMessage ? `: ${err.statusMessage}` : ''}`;
    case 'unreachable':
      return unreachable(err.code ?? '', at, ctx.secretName);
    case 'too-large':
      return `the Node listing of ${at} was ${err.detail}`;
    case 'failed':
      // An answer we did not expect (e.g. a proxy's HTML page instead of a NodeList).
      return `could not read Nodes from ${at}: unexpected answer (${firstLine(err.cause)})`;
  }
}

/** No answer: the TLS handshake or the connection failed with `code`. */
function unreachable(code: string, at: string, secretName: string): string {
  if (SERVER_TRUST_CODES.has(code)) {
    return (
      `the server certificate of ${at} is not trusted: ${serverTrustDetail(code, secretName)}. ` +
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
      `${at} refused the TLS handshake with the client certificate in ${secretName} (${code}). ` +
      `Old backups often hold expired or replaced client certificates: Cluster API issues them for one year.`
    );
  }
  return `could not read Nodes from ${at}: ${code}`;
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
