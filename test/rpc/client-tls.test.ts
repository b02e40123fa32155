/** The one client over TLS to an IP address: verified against the IP SAN, without Node's DEP0123 warning. */
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { ServiceClient } from '../../src/rpc/client.js';
import { SERVICE_NAMES } from '../../src/rpc/protos.js';
import { makePki } from '../grpc/pki.js';

test('a TLS call to 127.0.0.1 verifies the certificate and sets no IP ServerName (no DEP0123)', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? w.message);
  process.on('warning', onWarning);
  const pki = await makePki();
  const server = new grpc.Server();
  t.teardown(async () => {
    process.off('warning', onWarning);
    server.forceShutdown();
    await pki.remove();
  });
  const [cert, key, ca] = await Promise.all([readFile(pki.serverCert), readFile(pki.serverKey), readFile(pki.caCert, 'utf8')]);
  const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }]);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new ServiceClient(SERVICE_NAMES.driftDetector, `127.0.0.1:${port}`, { caCert: ca }, { refusalHint: 'unused' });
  t.teardown(() => client.close());
  // No service is registered: UNIMPLEMENTED proves the TLS handshake, and with it the certificate check, passed.
  const err = await t.throwsAsync<Error & { code: number }>(client.call('Check', { backup_name: 'b1' }, { timeoutMs: 10_000 }));
  t.is(err.code, grpc.status.UNIMPLEMENTED, err.message);
  await new Promise((resolve) => setImmediate(resolve));
  t.false(warnings.includes('DEP0123'), warnings.join(', '));
});
