/**
 * Text a peer wrote (a SOAP fault, an S3 or Kubernetes error answer, a header) made fit for a
 * message: a peer may quote the request, and with it a secret we sent in whatever encoding that
 * request used. So the text is decoded first (XML entities, JSON escapes, percent-encoding, as often
 * as they are nested), then every secret we hold is blanked in each form we may have sent it
 * (raw, base64 at any alignment, form-encoded), then key material and long token-like runs, and the
 * result is cut to one bounded line.
 */

export const REDACTED = '[redacted]';

export interface RedactOptions {
  /** Secrets we hold and may have sent (passwords, tokens); shorter than 3 characters are not matched. */
  secrets?: readonly (string | undefined)[];
  /** Longest result, in characters (default 300). */
  max?: number;
  /** Keep line breaks (a peer's multi-line explanation); otherwise the result is one line. */
  keepLines?: boolean;
}

/** Bound on the text looked at: a message is cut far below this anyway. */
const MAX_INPUT = 64 * 1024;
const DEFAULT_MAX = 300;

export function redacted(text: string, options: RedactOptions = {}): string {
  const forms = (options.secrets ?? [])
    .filter((secret): secret is string => secret !== undefined && secret.length >= 3)
    .flatMap(formsOf)
    // Longest first: a shorter form inside a longer one must not leave the rest behind.
    .sort((a, b) => b.length - a.length);
  // Blanked before each decoding too: decoding a secret's raw form (`p%41ss`) would hide it.
  const blank = (value: string) => forms.reduce((acc, form) => acc.split(form).join(REDACTED), value);
  const clear = decodeAll(text.slice(0, MAX_INPUT), blank)
    .replace(/-----BEGIN [^-]+-----[\s\S]*?(-----END [^-]+-----|$)/g, REDACTED)
    .replace(/[A-Za-z0-9+/=_-]{60,}/g, REDACTED)
    .replace(options.keepLines ? /[^\S\n]+/g : /\s+/g, ' ')
    .trim();
  const max = options.max ?? DEFAULT_MAX;
  return clear.length > max ? `${clear.slice(0, max - 1)}…` : clear;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const JSON_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: ' ', f: ' ', n: '\n', r: '\n', t: '\t' };

/** Undoes the encodings a peer may wrap a quoted request in, nested ones included (`&amp;lt;`). */
function decodeAll(text: string, blank: (value: string) => string): string {
  let current = blank(text);
  for (let round = 0; round < 4; round++) {
    const next = blank(decodePercent(blank(decodeJson(blank(decodeXml(current))))));
    if (next === current) break;
    current = next;
  }
  return current;
}

function decodeXml(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g, (whole, dec?: string, hex?: string, name?: string) => {
    if (name) return NAMED_ENTITIES[name]!;
    return codePoint(dec !== undefined ? Number(dec) : parseInt(hex!, 16)) ?? whole;
  });
}

function decodeJson(text: string): string {
  return text.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (whole, hex?: string, escape?: string) =>
    hex !== undefined ? (codePoint(parseInt(hex, 16)) ?? whole) : JSON_ESCAPES[escape!]!,
  );
}

/** Runs of `%XX` that spell valid UTF-8; anything else stays as written. */
function decodePercent(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function codePoint(n: number): string | undefined {
  return Number.isInteger(n) && n >= 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : undefined;
}

/**
 * The forms of a secret that survive decoding: itself, form-encoded (`+` for a space), and its
 * base64 (and base64url) as it reads inside a longer base64 text, at each of the three alignments
 * (e.g. `user:password` in a Basic header): the characters that depend on its neighbours are left out.
 */
function formsOf(secret: string): string[] {
  // The secret as the decoding below leaves it: its own `\n` or `%41` are decoded like the text around it.
  const decoded = new Set([secret]);
  for (let round = 0; round < 3; round++) {
    for (const form of [...decoded]) for (const decode of [decodeXml, decodeJson, decodePercent]) decoded.add(decode(form));
  }
  const forms = new Set([...decoded].filter((form) => form.length >= 3));
  forms.add(secret.replace(/ /g, '+'));
  const bytes = Buffer.from(secret, 'utf8');
  forms.add(bytes.toString('base64'));
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : offset + 1;
    const end = Math.floor((offset + bytes.length) / 3) * 4;
    const core = encoded.slice(start, end);
    if (core.length < 4) continue;
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}
