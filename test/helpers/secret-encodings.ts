/** The encodings a request of ours may carry a secret in, and a peer may quote it back in. */

export const xml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
export const numericEntities = (s: string): string => [...s].map((c) => `&#${c.codePointAt(0)};`).join('');
export const hexEntities = (s: string): string => [...s].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join('');
const base64 = (s: string) => Buffer.from(s).toString('base64');

export const ENCODINGS: Record<string, (s: string) => string> = {
  raw: (s) => s,
  'XML-escaped': xml,
  'XML-escaped twice': (s) => xml(xml(s)),
  'numeric entities': numericEntities,
  'hex entities': hexEntities,
  base64,
  'base64 of user:password': (s) => base64(`administrator@vsphere.local:${s}`),
  'base64 of x:password': (s) => base64(`x:${s}`),
  base64url: (s) => Buffer.from(s).toString('base64url'),
  'URL-encoded': encodeURIComponent,
  'URL-encoded, lower-case hex': (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  'form-encoded': (s) => encodeURIComponent(s).replace(/%20/g, '+'),
  'JSON-escaped': (s) => JSON.stringify(s).slice(1, -1),
  'JSON \\u-escaped': (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  'JSON inside XML': (s) => xml(JSON.stringify({ password: s })),
};
