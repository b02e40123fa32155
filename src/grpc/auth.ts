/**
 * Who may call the service: TLS (optionally mutual, with a client CA) and a bearer token in the
 * `authorization` metadata (checked by rpc/bearer.ts). Without TLS the service only listens on
 * loopback (config.ts refuses anything else). Health stays open for probes.
 */
import { bearerTokenProblem } from '../rpc/bearer.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ServerCredentials } from '@grpc/grpc-js';
import type { CredentialOverrides } from '../model/vcenter.js';
import type { ServiceConfig } from '../app/service-config.js';
import { ConfigError } from '../config/values.js';
import { credentialOverrides, vcenterTrust } from '../config/vcenter-credentials.js';

export interface ServiceSecrets {
  /** The bearer token callers must send; undefined: no token required. */
  token?: string;
  credentials: ServerCredentials;
  vcenterCredentials: CredentialOverrides;
}

/** Reads the files the configuration names. Errors name the key and the file, never the content. */
export async function loadServiceSecrets(config: ServiceConfig, env: NodeJS.ProcessEnv = process.env): Promise<ServiceSecrets> {
  const read = async (key: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`${config.origin}: ${key}: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`);
    }
  };
  let token: string | undefined;
  if (config.tokenFile) {
    token = (await read('auth.tokenFile', config.tokenFile)).toString('utf8').trim();
    const problem = bearerTokenProblem(token);
    if (problem) throw new ConfigError(`${config.origin}: auth.tokenFile: the token file ${config.tokenFile} ${problem}`);
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
  const vcenterCredentials = await credentialOverrides(
    {
      ...(config.vsphere.username ? { vsphereUsername: config.vsphere.username } : {}),
      ...(config.vsphere.passwordFile ? { vspherePasswordFile: config.vsphere.passwordFile } : {}),
      ...(config.vsphere.credentialsFile ? { vsphereCredentials: config.vsphere.credentialsFile } : {}),
    },
    env,
  ).catch((err: unknown) => {
    throw new ConfigError(`${config.origin}: vsphere: ${err instanceof Error ? err.message : String(err)}`);
  });
  const trust = await vcenterTrust(
    { caFile: config.vsphere.caFile, thumbprints: config.vsphere.thumbprints ?? [], hosts: config.vsphere.trustedHosts ?? [] },
    { ca: 'vsphere.caFile', thumbprints: 'vsphere.thumbprints', hosts: 'vsphere.trustedHosts' },
  ).catch((err: unknown) => {
    throw new ConfigError(`${config.origin}: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (trust) vcenterCredentials.trust = trust;
  return { ...(token ? { token } : {}), credentials, vcenterCredentials };
}

function checkCertificate(origin: string, key: string, path: string, pem: Buffer): void {
  try {
    new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${origin}: ${key}: ${path} does not hold a PEM certificate`);
  }
}
