/**
 * Answers of the hand-written vim25 methods (SearchIndex.FindAllByUuid, VM tasks): a list of
 * managed object references, or a SOAP Fault. Small and flat, so read with patterns rather than a
 * schema; element prefixes vary between servers (vcsim, vCenter), hence the optional `\w+:`.
 */
import type { VimFaultInfo } from './errors.js';
import type { MoRef } from './wire.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescape = (text: string) => text.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!);

/** Every `<returnval type="T">value</returnval>` of the body, in order. */
export function returnedMoRefs(body: string): MoRef[] {
  const refs: MoRef[] = [];
  for (const m of body.matchAll(/<(?:\w+:)?returnval\b[^>]*?\btype="([^"]+)"[^>]*>([^<]*)<\/(?:\w+:)?returnval>/g)) {
    refs.push({ type: unescape(m[1]!), value: unescape(m[2]!.trim()) });
  }
  return refs;
}

/** The fault of a SOAP Fault body: the `xsi:type` (any prefix) of the detail element, else its name. */
export function faultOfBody(body: string): VimFaultInfo | undefined {
  if (!/<(?:\w+:)?Fault\b/.test(body)) return undefined;
  const message = unescape(/<faultstring>([^<]*)<\/faultstring>/.exec(body)?.[1] ?? '');
  const detail = /<(?:\w+:)?detail>\s*<(?:\w+:)?(\w+)\b([^>]*)>/.exec(body);
  const typed = detail ? /\b\w+:type="(?:\w+:)?(\w+)"/.exec(detail[2]!)?.[1] : undefined;
  return { type: typed ?? detail?.[1]?.replace(/Fault$/, '') ?? 'MethodFault', message };
}
