/**
 * The one reader of configuration values, for every source: the service's YAML file with its
 * environment variables and flags, the plugin's ConfigMap, a vCenter credentials file. A typed
 * read returns undefined for an absent key (the caller then takes its value from DEFAULTS) and
 * refuses a bad value through the source's Refuse, so that the message names where the value came
 * from and its key: `serve.yaml: gate.mode: expected block or annotate, not "blok"`,
 * `DRIFT_DETECTOR_MODE: ...`, `ConfigMap velero/p: analysisTimeout: ...`.
 */
import { parseDocument } from 'yaml';
import { isObjectName } from '../model/kube.js';
import { parseLogLevel, type LogLevel } from '../util/jsonlog.js';
import { isMap } from '../util/values.js';
import { parseHostPort } from './addresses.js';
import { MINUTE, SECOND } from './defaults.js';

/** A configuration value that cannot be used; the message names its source and key. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
}

/** Throws the error naming where the value of `key` came from (no key: the whole input). */
export type Refuse = (key: string | undefined, detail: string) => never;

/** `origin: key: detail`, or `origin: detail` without a key. */
export function refuseIn(origin: string, make: (message: string) => Error = (message) => new ConfigError(message)): Refuse {
  return (key, detail) => {
    throw make(`${origin}: ${key ? `${key}: ` : ''}${detail}`);
  };
}

export interface ReaderOptions {
  /**
   * Name the refused boolean, number or duration in the message (`, not "soon"`), as the plugin's
   * messages do. A refused choice is always named; a verbatim string (a password) never is.
   */
  quoteRefused?: boolean;
}

export interface AddressRule {
  /** An example of a good value, for the message. */
  example: string;
  /** `unix:/path` is allowed (a listen address). */
  unix?: boolean;
  /** Port 0 is allowed (listen on any free port). */
  anyPort?: boolean;
}

/** Typed reads of dotted keys (`gate.mode`) of a parsed mapping. */
export class ConfigReader {
  constructor(
    private readonly values: Record<string, unknown>,
    readonly refuse: Refuse,
    private readonly options: ReaderOptions = {},
  ) {}

  /** A reader of a nested mapping, whose messages name `label.key`. */
  within(values: Record<string, unknown>, label: string): ConfigReader {
    return new ConfigReader(values, (key, detail) => this.refuse(key ? `${label}.${key}` : label, detail), this.options);
  }

  /** The value at a dotted key; null (a YAML key without a value) counts as absent. */
  value(key: string): unknown {
    const value = this.lookup(key);
    return value === null ? undefined : value;
  }

  /** Refuses keys of the mapping at `key` (the top when empty) that are not in `known`. */
  onlyKeys(known: readonly string[], key = ''): void {
    const map = key === '' ? this.values : this.value(key);
    if (map === undefined) return;
    if (!isMap(map)) return this.refuse(key, 'expected a mapping');
    for (const name of Object.keys(map)) {
      if (!known.includes(name)) this.refuse(key ? `${key}.${name}` : name, `unknown key (expected one of ${known.join(', ')})`);
    }
  }

  /** Trimmed; blank counts as absent. */
  string(key: string): string | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.refuse(key, 'expected a string');
    return v.trim() === '' ? undefined : v.trim();
  }

  /** A string as written (a user name, a password): not trimmed, an empty key refused; never quoted. */
  verbatim(key: string): string | undefined {
    const v = this.lookup(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return this.refuse(key, 'expected a string');
    return v === '' ? undefined : v;
  }

  choice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      return this.refuse(
        key,
        `expected ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}${typeof v === 'string' ? `, not "${v}"` : ''}`,
      );
    }
    return v as T;
  }

  /** A YAML boolean, or the text `true` / `false` (environment variables, ConfigMaps). */
  bool(key: string): boolean | undefined {
    const v = this.value(key);
    if (v === undefined || typeof v === 'boolean') return v;
    if (v === 'true') return true;
    if (v === 'false') return false;
    return this.refuse(key, `expected true or false${this.quoted(v)}`);
  }

  positiveInt(key: string): number | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) return this.refuse(key, `expected a positive whole number${this.quoted(v)}`);
    return n;
  }

  /** In ms: `90s`, `10m`, `1h`, `500ms`, `1h30m`; a bare number is refused (seconds or minutes?). `positive`: zero is refused. */
  duration(key: string, rule: { positive?: boolean } = {}): number | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    const read = readDuration(v);
    if ('ms' in read && !(rule.positive && read.ms === 0)) return read.ms;
    if ('bare' in read) return this.refuse(key, read.problem);
    return this.refuse(key, `expected a duration such as 30s, 10m or 1h${rule.positive ? ' (more than zero)' : ''}${this.quoted(v)}`);
  }

  logLevel(key: string): LogLevel | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    return parseLogLevel(v) ?? this.refuse(key, 'expected debug, info, warn or error');
  }

  /** `host:port` or `[v6]:port` (see AddressRule for `unix:/path` and port 0). */
  address(key: string, rule: AddressRule): string | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (rule.unix && v.startsWith('unix:')) {
      if (v.length <= 'unix:'.length) this.refuse(key, 'unix: needs a socket path');
      return v;
    }
    const parsed = parseHostPort(v);
    if (!parsed || (parsed.port === 0 && !rule.anyPort)) {
      this.refuse(key, `"${v}" is not host:port (e.g. ${rule.example})${rule.unix ? ' or unix:/path' : ''}`);
    }
    return v;
  }

  /** The name of a Kubernetes object; `kind` names it in the message (`Secret`). */
  objectName(key: string, kind: string): string | undefined {
    const v = this.string(key);
    if (v !== undefined && !isObjectName(v)) this.refuse(key, `"${v}" is not a ${kind} name`);
    return v;
  }

  private lookup(key: string): unknown {
    let value: unknown = this.values;
    for (const part of key.split('.')) {
      if (!isMap(value)) return undefined;
      value = value[part];
    }
    return value;
  }

  private quoted(value: unknown): string {
    return this.options.quoteRefused && typeof value === 'string' ? `, not "${value}"` : '';
  }
}

/** Aliases one YAML document may expand; past it, a billion-laughs document would take all memory. */
const MAX_YAML_ALIASES = 100;

/**
 * The top-level value of a YAML text (an empty text: an empty mapping), for every YAML the product
 * reads from a file or a backup. A syntax error is refused with its position only: the parser's own
 * message quotes the line, which may hold a secret. An alias bomb is refused before it expands.
 */
export function parseYamlText(text: string, refuse: Refuse): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    const at = first.linePos?.[0];
    refuse(undefined, `not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch {
    return refuse(undefined, `not accepted: its aliases expand past ${MAX_YAML_ALIASES} nodes, as a document built to exhaust memory does`);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: 60 * MINUTE };

/**
 * A duration as the product reads it everywhere (flags, the service's YAML, environment variables,
 * the plugin's ConfigMap): Go's time.ParseDuration style, which Kubernetes users know (1h30m, 90s,
 * 250ms). A bare number other than 0 is refused with the unit it needs: `5` could mean seconds or
 * minutes, and help texts say "e.g. 5m".
 */
export function readDuration(value: unknown): { ms: number } | { problem: string; bare?: true } {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  if (text === undefined) return { problem: 'expected a duration such as 30s, 10m or 1h' };
  if (/^0+(\.0+)?$/.test(text)) return { ms: 0 };
  if (/^\d+(\.\d+)?$/.test(text)) return { problem: `${text}: give a unit, e.g. ${text}s or ${text}m`, bare: true };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return { problem: 'expected a duration such as 30s, 10m or 1h' };
  return { ms: parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0) };
}

/** In ms, or undefined when readDuration refuses it. */
export function parseDuration(value: unknown): number | undefined {
  const read = readDuration(value);
  return 'ms' in read ? read.ms : undefined;
}

/** The way parseDuration reads it back, in the largest whole unit: `10m`, `30s`, `250ms`. */
export function durationText(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit]! && ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}
