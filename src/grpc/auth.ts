/**
 * Who may call the service: TLS (optionally mutual, with a client CA) and a bearer token in the
 * `authorization` metadata (checked by rpc/bearer.ts). Without TLS the service only listens on
 * loopback (config.ts refuses anything else). Health stays open for probes.
 */
import { readBearerTokenFile } from '../rpc/bearer.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';
import type { ServiceSettings } from '../config/service-config.js';
import { ConfigError } from '../config/values.js';
import { unreadableReason } from '../util/files.js';

export interface GrpcSecrets {
  /** The bearer token callers must send; undefined: no token required. */
  token?: string;
  credentials: ServerCredentials;
}

/** Reads the token and TLS files the configuration names. Errors name the key and the file, never the content. */
export async function loadGrpcSecrets(config: Pick<ServiceSettings, 'origin' | 'tokenFile' | 'tls'>): Promise<GrpcSecrets> {
  const unreadable = (key: string, path: string, err: unknown): never => {
    throw new ConfigError(`${config.origin}: ${key}: cannot read ${path} (${unreadableReason(err)})`);
  };
  const read = (key: string, path: string): Promise<Buffer> => readFile(path).catch((err: unknown) => unreadable(key, path, err));
  let token: string | undefined;
  if (config.tokenFile) {
    const tokenFile = config.tokenFile;
    const read = await readBearerTokenFile(tokenFile).catch((err: unknown) => unreadable('auth.tokenFile', tokenFile, err));
    if ('problem' in read) throw new ConfigError(`${config.origin}: auth.tokenFile: the token file ${tokenFile} ${read.problem}`);
    token = read.token;
    if (token.length < 16)
      throw new ConfigError(`${config.origin}: auth.tokenFile: ${config.tokenFile} holds a token shorter than 16 characters`);
  }
  let credentials = ServerCredentials.createInsecure();
  if (config.tls) {
    const cert = await read('tls.certFile', config.tls.certFile);
    const key = await read('tls.keyFile', config.tls.keyFile);
    const ca = config.tls.clientCAFile ? await read('tls.clientCAFile', config.tls.clientCAFile) : null;
    // grpc-js only parses them when it binds; check now so the error names the key.
    checkCertificate(config.origin, 'tls.certFile', config.tls.certFile, cert);
    if (ca && config.tls.clientCAFile) checkCertificate(config.origin, 'tls.clientCAFile', config.tls.clientCAFile, ca);
    try {
      createPrivateKey(key);
    } catch {
      throw new ConfigError(`${config.origin}: tls.keyFile: ${config.tls.keyFile} does not hold a PEM private key`);
    }
    credentials = ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], ca !== null);
  }
  return { ...(token ? { token } : {}), credentials };
}

function checkCertificate(origin: string, key: string, path: string, pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${origin}: ${key}: ${path} does not hold a PEM certificate`);
  }
}
