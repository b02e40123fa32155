/**
 * Certificates for the TLS tests, made with the openssl CLI (Node cannot issue X.509): a CA, a
 * server certificate for 127.0.0.1/localhost, a client certificate signed by the same CA, and a
 * client certificate from an unrelated CA.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  strangerCert: string;
  strangerKey: string;
  remove(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function ca(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`]);
  return { cert, key };
}

async function leaf(
  dir: string,
  name: string,
  issuer: { cert: string; key: string },
  extensions: string,
): Promise<{ cert: string; key: string }> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await run('openssl', ['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    issuer.cert,
    '-CAkey',
    issuer.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

export async function makePki(): Promise<Pki> {
  const dir = await mkdtemp(join(tmpdir(), 'drift-grpc-pki-'));
  const main = await ca(dir, 'test-ca');
  const server = await leaf(dir, 'server', main, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const client = await leaf(dir, 'client', main, 'extendedKeyUsage=clientAuth\n');
  const other = await ca(dir, 'other-ca');
  const stranger = await leaf(dir, 'stranger', other, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: main.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
