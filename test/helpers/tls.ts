/** TLS material for loopback test servers, from the openssl CLI (Node cannot issue X.509). */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSigned {
  key: string;
  cert: string;
}

/** A self-signed P-256 certificate; `ip` (default 127.0.0.1) goes in its subjectAltName unless null. */
export async function selfSignedCertificate(options: { commonName: string; ip?: string | null; days?: number }): Promise<SelfSigned> {
  const dir = await mkdtemp(join(tmpdir(), 'test-tls-'));
  try {
    const ip = options.ip === undefined ? '127.0.0.1' : options.ip;
    await run(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')],
        ...['-days', String(options.days ?? 1), '-subj', `/CN=${options.commonName}`],
        ...(ip === null ? [] : ['-addext', `subjectAltName=IP:${ip}`]),
      ],
      { timeout: 30_000 },
    );
    return { key: await readFile(join(dir, 'tls.key'), 'utf8'), cert: await readFile(join(dir, 'tls.crt'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
