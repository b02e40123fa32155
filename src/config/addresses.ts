/** Network addresses in configuration: `host:port`, `[v6]:port`, and (to listen on) `unix:/path`. */
import { isIP } from 'node:net';

/** `host:port` or `[v6]:port`; undefined for anything else (a URL, a missing or out-of-range port). */
export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:/[\]\s]+):(\d{1,5})$/.exec(address);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!, port: Number(m[2]) };
}

/** `host:port`: the host part, without brackets; undefined for a unix socket. */
export function hostOf(address: string): string | undefined {
  if (address.startsWith('unix:')) return undefined;
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(address);
  if (v6) return v6[1];
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

/** `host:port` of a bound listener, with an IPv6 host in brackets. */
export function joinHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function isLoopbackListen(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = hostOf(address)?.toLowerCase();
  if (!host) return false;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}
