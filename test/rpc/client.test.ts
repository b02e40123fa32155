/** The client's rule for bearer tokens, the same for check and the plugin's remote mode. */
import test from 'ava';
import type { DomainError } from '../../src/app/errors.js';
import { clearTextRefusal, ServiceClient, usesTls } from '../../src/rpc/client.js';
import { SERVICE_NAMES } from '../../src/rpc/protos.js';
import { closedPort } from '../helpers/vcsim.js';

test('a token goes over TLS, or in clear text to this host only', (t) => {
  t.is(clearTextRefusal('192.0.2.10:50051', false, true), 'refusing to send the token in clear text to 192.0.2.10:50051');
  t.is(clearTextRefusal('192.0.2.10:50051', true, true), undefined);
  t.is(clearTextRefusal('192.0.2.10:50051', false, false), undefined);
  for (const local of ['127.0.0.1:50051', '[::1]:50051', 'localhost:50051', 'unix:/tmp/drift.sock'])
    t.is(clearTextRefusal(local, false, true), undefined, local);
  t.false(usesTls({}));
  t.true(usesTls({ tls: true }));
  t.true(usesTls({ caCert: 'PEM' }));
  t.true(usesTls({ clientCert: 'PEM' }));
});

test("the client refuses before connecting, with the caller's hint", (t) => {
  const err = t.throws<DomainError>(
    () =>
      new ServiceClient(
        SERVICE_NAMES.restoreItemActionV1,
        'drift.example.com:50051',
        { token: 'secret-token-0123456789' },
        { refusalHint: 'set remoteTLS' },
      ),
  );
  t.is(err.kind, 'misconfigured');
  t.is(err.message, 'refusing to send the token in clear text to drift.example.com:50051: set remoteTLS');
  t.false(err.message.includes('secret-token'));
  const local = new ServiceClient(SERVICE_NAMES.driftDetector, '127.0.0.1:1', { token: 'secret-token-0123456789' }, { refusalHint: 'unused' });
  local.close();
});

test("a call past its deadline fails with the peer's code, named", async (t) => {
  const client = new ServiceClient(SERVICE_NAMES.driftDetector, '127.0.0.1:1', {}, { refusalHint: 'unused' });
  t.teardown(() => client.close());
  const err = await t.throwsAsync<Error & { code: number }>(client.call('Check', { backup_name: 'b1' }, { timeoutMs: 2000 }));
  t.true([14, 4].includes(err.code), `code ${err.code}`);
  const cancelled = new AbortController();
  cancelled.abort();
  const early = await t.throwsAsync<Error & { code: number }>(
    client.call('Check', { backup_name: 'b1' }, { timeoutMs: 10_000, signal: cancelled.signal }),
  );
  t.is(early.code, 1, 'CANCELLED when the caller has gone already');
});

test('a closed port is said plainly, without an empty resolution note', async (t) => {
  const client = new ServiceClient(SERVICE_NAMES.driftDetector, await closedPort(), {}, { refusalHint: 'unused' });
  t.teardown(() => client.close());
  const err = await t.throwsAsync<Error & { code: number }>(client.call('Check', { backup_name: 'b1' }, { timeoutMs: 10_000 }));
  t.is(err.code, 14);
  t.regex(err.message, /ECONNREFUSED 127\.0\.0\.1:\d+\.?$/);
});
