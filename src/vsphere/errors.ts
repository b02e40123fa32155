import { xsiTypeOf } from './wire.js';

/**
 * Why a vim25 exchange failed, sorted by what the user can do about it. Messages say what went
 * wrong and what to check; callers prefix the vCenter. They never carry credentials or cookies.
 */
export type VimErrorKind =
  | 'config'
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'cancelled'
  | 'tls'
  | 'thumbprint'
  | 'http'
  | 'protocol'
  | 'fault'
  /** The vCenter refused the credentials at Login (a fault, kept apart: the fix is other credentials). */
  | 'login';

export class VimError extends Error {
  override readonly name = 'VimError';
  constructor(
    readonly kind: VimErrorKind,
    message: string,
    /** For `fault`: the vim25 fault type, e.g. `InvalidLogin`, `InvalidProperty`. */
    readonly fault?: VimFaultInfo,
  ) {
    super(message);
  }
}

export interface VimFaultInfo {
  /** The vim25 fault type without the `Fault` element suffix, e.g. `InvalidLogin`. */
  type: string;
  /** The server's faultstring. */
  message: string;
  /** For `InvalidProperty`: the rejected property path. */
  propertyName?: string;
}

/** Node's socket error codes, translated into what the user should check. */
export function networkError(address: string, call: string, err: NodeJS.ErrnoException): VimError {
  const code = err.code ?? '';
  const host = address.replace(/:\d+$/, '');
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new VimError('dns', `cannot resolve host ${host} (${code}); check the server name and DNS`);
    case 'ECONNREFUSED':
      return new VimError(
        'refused',
        `connection refused by ${address} (ECONNREFUSED); check the address and port and that the vCenter is running`,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new VimError('unreachable', `${address} is unreachable (${code}); check the network path to it`);
    case 'ETIMEDOUT':
      return new VimError(
        'timeout',
        `no answer from ${address} during ${call} (ETIMEDOUT); check that the vCenter is up and reachable, or raise the timeout`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return new VimError(
        'unreachable',
        `${address} closed the connection during ${call} (${code}); check that it serves the vSphere API over HTTPS`,
      );
    default:
      return new VimError('unreachable', `cannot reach ${address} during ${call} (${code || err.message}); check the address and network`);
  }
}

/**
 * Reads the vim25 fault out of the error `soap` throws for a SOAP Fault body. The fault type is
 * the `xsi:type` of the element in `<detail>` (any prefix: vcsim and vCenter use different ones),
 * else that element's name without its `Fault` suffix.
 */
export function faultFromSoapError(err: unknown): VimFaultInfo | undefined {
  const root = (err as { root?: unknown } | null)?.root as { Envelope?: { Body?: { Fault?: Record<string, unknown> } } } | undefined;
  const fault = root?.Envelope?.Body?.Fault;
  if (!fault) return undefined;
  const message = textOf(fault.faultstring) ?? '';
  const detail = fault.detail;
  let type = 'MethodFault';
  let propertyName: string | undefined;
  if (detail && typeof detail === 'object') {
    const [elementName, element] = Object.entries(detail as Record<string, unknown>)[0] ?? [];
    if (elementName) {
      type = xsiTypeOf(element) ?? elementName.replace(/Fault$/, '');
      const name = (element as Record<string, unknown> | null)?.name;
      if (typeof name === 'string') propertyName = name;
    }
  }
  return propertyName === undefined ? { type, message } : { type, message, propertyName };
}

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { $value?: unknown }).$value === 'string') {
    return (value as { $value: string }).$value;
  }
  return undefined;
}

/** A readable cause for a `soap` failure that is not a SOAP Fault (it may throw plain objects). */
export function describeSoapFailure(err: unknown): string {
  if (err instanceof Error) return err.message;
  const fault = (err as { Fault?: { faultstring?: unknown; detail?: unknown } } | null)?.Fault;
  if (fault) return [fault.faultstring, fault.detail].filter((part) => typeof part === 'string').join(': ');
  return String(err);
}
