/**
 * vim25 values as `soap` parses them (the session calls; the property-collector pages are read by
 * retrieve-response.ts), and the few shapes we send. `soap` puts XML attributes in
 * `attributes` and an element's text, when it also has attributes, in `$value`; an element seen
 * once is an object, seen several times an array, unless the schema says the field repeats.
 */

/** A managed object reference, e.g. `{ type: 'VirtualMachine', value: 'vm-42' }`. */
export interface MoRef {
  type: string;
  value: string;
}

/** A MoRef in the form `soap` serialises: `<x type="T">value</x>`. */
export interface SoapMoRef {
  attributes: { type: string };
  $value: string;
}

export function toSoapMoRef(ref: MoRef): SoapMoRef {
  return { attributes: { type: ref.type }, $value: ref.value };
}

/** Reads a parsed MoRef; undefined when the element is absent or not a MoRef. */
export function readMoRef(raw: unknown): MoRef | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const element = raw as { attributes?: { type?: unknown }; $value?: unknown };
  const type = element.attributes?.type;
  const value = element.$value;
  if (typeof type !== 'string' || (typeof value !== 'string' && typeof value !== 'number')) return undefined;
  return { type, value: String(value) };
}

/** The text of a leaf element, whether or not it carried attributes such as `xsi:type`. */
export function readText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (raw && typeof raw === 'object') {
    const value = (raw as { $value?: unknown }).$value;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  }
  return undefined;
}

/** An `xsd:boolean` leaf: vim25 writes `true`/`false` (XML Schema also allows `1`/`0`). */
export function readBoolean(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  const text = readText(raw);
  if (text === undefined) return undefined;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return undefined;
}

/** The `xsi:type` of a parsed element without its prefix, whatever prefix the server bound to XSI. */
export function xsiTypeOf(element: unknown): string | undefined {
  const attributes = (element as { attributes?: Record<string, unknown> } | null)?.attributes;
  if (!attributes || typeof attributes !== 'object') return undefined;
  for (const key in attributes) {
    // vcsim writes `XMLSchema-instance:type`, vCenter `xsi:type`; the only unprefixed `type` is a MoRef's.
    if (key.endsWith(':type')) {
      const value = String(attributes[key]);
      return value.slice(value.indexOf(':') + 1);
    }
  }
  return undefined;
}
