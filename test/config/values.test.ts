/**
 * The one reader of configuration values: each typed read, table by table, and the messages
 * that name the source and the key (quoting the refused value only where the source asks for it).
 */
import test from 'ava';
import { parseHostPort } from '../../src/config/addresses.js';
import { ConfigError, ConfigReader, durationText, parseDuration, parseYamlText, refuseIn } from '../../src/config/values.js';

const reader = (values: Record<string, unknown>, quoteRefused = false) => new ConfigReader(values, refuseIn('serve.yaml'), { quoteRefused });

test('absent and empty values are undefined, so the caller takes the default', (t) => {
  const r = reader({ a: null, b: '  ', gate: {} });
  t.is(r.string('a'), undefined);
  t.is(r.string('b'), undefined);
  t.is(r.string('missing'), undefined);
  t.is(r.choice('gate.mode', ['block', 'annotate']), undefined);
  t.is(r.bool('gate.pauseOnDrift'), undefined);
  t.is(r.duration('gate.timeout'), undefined);
  t.is(r.positiveInt('x.y.z'), undefined);
  t.is(r.address('a', { example: 'h:1' }), undefined);
  t.is(r.objectName('b', 'Secret'), undefined);
});

test('typed reads of dotted keys', (t) => {
  const r = reader({
    gate: { mode: 'annotate', pauseOnDrift: 'true', other: true },
    analysis: { timeout: '1h30m', seconds: '2s', concurrency: '3', n: 4 },
    listen: ' [::1]:0 ',
    socket: 'unix:/run/s',
    secret: 'vcenter-credentials',
    logLevel: 'WARNING',
  });
  t.is(r.choice('gate.mode', ['block', 'annotate']), 'annotate');
  t.true(r.bool('gate.pauseOnDrift'));
  t.true(r.bool('gate.other'));
  t.is(r.duration('analysis.timeout'), 5_400_000);
  t.is(r.duration('analysis.seconds'), 2000);
  t.is(r.positiveInt('analysis.concurrency'), 3);
  t.is(r.positiveInt('analysis.n'), 4);
  t.is(r.address('listen', { example: 'h:1', anyPort: true }), '[::1]:0');
  t.is(r.address('socket', { example: 'h:1', unix: true }), 'unix:/run/s');
  t.is(r.objectName('secret', 'Secret'), 'vcenter-credentials');
  t.is(r.logLevel('logLevel'), 'warn');
});

test("refusals name the source and the key, in the service's wording", (t) => {
  const cases: Array<[Record<string, unknown>, (r: ConfigReader) => unknown, string]> = [
    [
      { gate: { mode: 'blok' } },
      (r) => r.choice('gate.mode', ['block', 'annotate']),
      'serve.yaml: gate.mode: expected block or annotate, not "blok"',
    ],
    [{ level: 7 }, (r) => r.choice('level', ['a', 'b', 'c']), 'serve.yaml: level: expected a, b or c'],
    [{ p: 'yes please' }, (r) => r.bool('p'), 'serve.yaml: p: expected true or false'],
    [{ p: ' true' }, (r) => r.bool('p'), 'serve.yaml: p: expected true or false'],
    [{ d: '10 minutes' }, (r) => r.duration('d'), 'serve.yaml: d: expected a duration such as 30s, 10m or 1h'],
    [{ d: '0s' }, (r) => r.duration('d', { positive: true }), 'serve.yaml: d: expected a duration such as 30s, 10m or 1h (more than zero)'],
    [{ n: 0 }, (r) => r.positiveInt('n'), 'serve.yaml: n: expected a positive whole number'],
    [{ n: '1.5' }, (r) => r.positiveInt('n'), 'serve.yaml: n: expected a positive whole number'],
    [{ s: ['a'] }, (r) => r.string('s'), 'serve.yaml: s: expected a string'],
    [{ l: 'loud' }, (r) => r.logLevel('l'), 'serve.yaml: l: expected debug, info, warn or error'],
    [
      { l: '127.0.0.1' },
      (r) => r.address('l', { example: '127.0.0.1:50051', unix: true }),
      'serve.yaml: l: "127.0.0.1" is not host:port (e.g. 127.0.0.1:50051) or unix:/path',
    ],
    [{ l: 'unix:' }, (r) => r.address('l', { example: 'h:1', unix: true }), 'serve.yaml: l: unix: needs a socket path'],
    [{ l: 'unix:/s' }, (r) => r.address('l', { example: 'h:1' }), 'serve.yaml: l: "unix:/s" is not host:port (e.g. h:1)'],
    [{ l: 'svc:0' }, (r) => r.address('l', { example: 'h:1' }), 'serve.yaml: l: "svc:0" is not host:port (e.g. h:1)'],
    [{ o: 'Not_A_Name' }, (r) => r.objectName('o', 'Secret'), 'serve.yaml: o: "Not_A_Name" is not a Secret name'],
    [{ gate: 'block' }, (r) => r.onlyKeys(['mode'], 'gate'), 'serve.yaml: gate: expected a mapping'],
    [
      { gate: { mod: 1 } },
      (r) => r.onlyKeys(['mode', 'failurePolicy'], 'gate'),
      'serve.yaml: gate.mod: unknown key (expected one of mode, failurePolicy)',
    ],
    [{ lisen: 1 }, (r) => r.onlyKeys(['listen']), 'serve.yaml: lisen: unknown key (expected one of listen)'],
  ];
  for (const [values, read, message] of cases) {
    const err = t.throws(() => read(reader(values)), { message }, message);
    t.true(err instanceof ConfigError, message);
  }
});

test("quoteRefused: the refused boolean, number or duration is named, as the plugin's messages do", (t) => {
  const r = reader({ p: 'yes', d: 'soon', n: 'many', s: ['x'] }, true);
  t.throws(() => r.bool('p'), { message: 'serve.yaml: p: expected true or false, not "yes"' });
  t.throws(() => r.duration('d', { positive: true }), {
    message: 'serve.yaml: d: expected a duration such as 30s, 10m or 1h (more than zero), not "soon"',
  });
  t.throws(() => r.positiveInt('n'), { message: 'serve.yaml: n: expected a positive whole number, not "many"' });
  t.throws(() => r.string('s'), { message: 'serve.yaml: s: expected a string' });
});

test('within: a nested mapping named by its label, whatever its key holds (a server name with dots)', (t) => {
  const r = reader({});
  const entry = r.within({ username: 7, password: '' }, 'vc1.example.com');
  t.throws(() => entry.verbatim('username'), { message: 'serve.yaml: vc1.example.com.username: expected a string' });
  t.is(entry.verbatim('password'), undefined, 'an empty password is no password');
  t.throws(() => entry.refuse(undefined, 'expected {username, password}'), {
    message: 'serve.yaml: vc1.example.com: expected {username, password}',
  });
});

test('verbatim keeps blanks (a password is what it is) and refuses an empty YAML value instead of ignoring it', (t) => {
  const r = reader({ password: ' p a s s ', empty: null });
  t.is(r.verbatim('password'), ' p a s s ');
  t.throws(() => r.verbatim('empty'), { message: 'serve.yaml: empty: expected a string' });
  const secret = t.throws(() => reader({ password: 42 }, true).verbatim('password'));
  t.false(secret.message.includes('42'), 'a refused verbatim value is never quoted');
});

test('refuseIn builds the error the source wants; without a key the message names the source alone', (t) => {
  class SourceError extends Error {}
  const refuse = refuseIn('ConfigMap velero/p', (m) => new SourceError(m));
  const err = t.throws(() => refuse(undefined, 'expected a mapping'));
  t.true(err instanceof SourceError);
  t.is(err.message, 'ConfigMap velero/p: expected a mapping');
});

test("YAML text: a syntax error is refused with its position, never with the parser's quote of the line", (t) => {
  const refuse = refuseIn('vcenters.yaml');
  t.deepEqual(parseYamlText('a: 1\n', refuse), { a: 1 });
  t.deepEqual(parseYamlText('', refuse), {});
  const err = t.throws(() => parseYamlText('password: [s3cret\n', refuse));
  t.regex(err.message, /^vcenters\.yaml: not valid YAML \(line \d+, column \d+\)$/);
});

test('a bare number is no duration: the message shows the unit it needs; 0 needs none', (t) => {
  t.is(parseDuration(5), undefined);
  t.is(parseDuration('5'), undefined);
  t.is(parseDuration('0'), 0);
  t.is(parseDuration(0), 0);
  t.throws(() => reader({ watch: { interval: 5 } }).duration('watch.interval'), {
    message: 'serve.yaml: watch.interval: 5: give a unit, e.g. 5s or 5m',
  });
  t.throws(() => reader({ d: '90' }).duration('d', { positive: true }), { message: 'serve.yaml: d: 90: give a unit, e.g. 90s or 90m' });
  t.throws(() => reader({ d: '0' }).duration('d', { positive: true }), { message: /more than zero/ });
});

test('durations read and written back', (t) => {
  t.is(parseDuration('90s'), 90_000);
  t.is(parseDuration(' 10m '), 600_000);
  for (const [ms, text] of [
    [600_000, '10m'],
    [3_600_000, '1h'],
    [30_000, '30s'],
    [90_000, '90s'],
    [250, '250ms'],
    [0, '0ms'],
  ] as const) {
    t.is(durationText(ms), text);
    t.is(parseDuration(text), ms, text);
  }
});

test('host:port', (t) => {
  t.deepEqual(parseHostPort('drift-detector.velero.svc:50051'), { host: 'drift-detector.velero.svc', port: 50051 });
  t.deepEqual(parseHostPort('[::1]:7000'), { host: '[::1]', port: 7000 });
  for (const bad of ['host', 'http://h:1', 'h:65536', 'h:123456', 'a b:1', ':1', 'h:']) t.is(parseHostPort(bad), undefined, bad);
});
