/**
 * JSON-lines logs on stderr. The keys follow hclog's JSON format (`@level`, `@message`,
 * `@timestamp` with six fractional digits), which Velero parses when the same code runs as its
 * plugin; every other key is a structured field (e.g. `backup`, `cluster`).
 * Fields whose names say they hold a secret are never written, whatever the caller passes.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
  /** Write `@timestamp` (default true). Velero's plugins leave it out: the host stamps each line. */
  timestamp?: boolean;
  fields?: LogFields;
}

const SECRET_FIELD = /pass(word)?|secret|token|authorization|credential|private.?key|kubeconfig|cookie/i;

export function jsonLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const entry: LogFields = { '@level': level, '@message': message };
    if (options.timestamp !== false) entry['@timestamp'] = hclogTimestamp(now());
    for (const [key, value] of Object.entries({ ...base, ...fields })) {
      if (value === undefined || key.startsWith('@')) continue;
      entry[key] = SECRET_FIELD.test(key) ? '[redacted]' : value instanceof Error ? value.message : value;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    with: (fields) => jsonLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => silentLogger,
};

export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.toLowerCase();
  if (v === 'warning') return 'warn';
  return v in RANK ? (v as LogLevel) : undefined;
}

/** `2006-01-02T15:04:05.000000Z07:00`, the only @timestamp layout hclog accepts. */
function hclogTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
