/** A secret quoted back by a peer, in any encoding we may have sent it in, never survives `redacted`. */
import test from 'ava';
import fc from 'fast-check';
import { REDACTED, redacted } from '../../src/util/redact.js';
import { ENCODINGS } from '../helpers/secret-encodings.js';

const SECRET = `p<a&s"s'w>o rd-%41-\\n-é`;

for (const [name, encode] of Object.entries(ENCODINGS)) {
  test(`a secret quoted ${name} is blanked`, (t) => {
    const text = `Cannot complete login: <password>${encode(SECRET)}</password> was refused`;
    const out = redacted(text, { secrets: [SECRET] });
    t.false(out.includes(SECRET), out);
    t.false(out.includes(encode(SECRET)), out);
    t.false(out.includes('w>o rd'), out);
    t.true(out.includes(REDACTED), out);
    t.true(out.startsWith('Cannot complete login:'), out);
  });
}

test('what holds no secret reads as the peer wrote it, on one bounded line', (t) => {
  t.is(
    redacted('Cannot complete login due to an incorrect user name or password.'),
    'Cannot complete login due to an incorrect user name or password.',
  );
  t.is(redacted('line one\n  line two', { secrets: ['unrelated'] }), 'line one line two');
  t.is(redacted('line one\n  line two', { keepLines: true }), 'line one\n line two');
  t.is(redacted('many words '.repeat(50), { max: 80 }).length, 80);
  t.is(redacted('key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end'), `key ${REDACTED} end`);
  t.is(redacted(`token ${'A'.repeat(64)}`), `token ${REDACTED}`);
  t.is(redacted('ab and ab', { secrets: ['ab'] }), 'ab and ab', 'too short to match without mangling the text');
});

test('property: any secret in any encoding, amid any text, does not survive', (t) => {
  const encodings = Object.values(ENCODINGS);
  fc.assert(
    fc.property(
      fc.string({ minLength: 6, maxLength: 40, unit: 'grapheme' }),
      fc.constantFrom(...encodings),
      fc.string({ maxLength: 30 }),
      (secret, encode, around) => {
        const out = redacted(`${around}<faultstring>${encode(secret)}</faultstring>${around}`, { secrets: [secret], max: 10_000 });
        return !out.includes(secret) && !out.includes(encode(secret));
      },
    ),
    { seed: 11, numRuns: 400, interruptAfterTimeLimit: 10_000 },
  );
  t.pass();
});
