/**
 * The files the service's configuration names instead of holding secrets inline: TLS certificate
 * and key, the bearer token, the vCenter password and credentials. Only their paths are read here;
 * the service reads the files when it starts (see serve/start.ts, loadServiceSecrets).
 */
import { isMap } from '../util/values.js';
import type { ConfigReader } from './values.js';

/** A path value of `key`, made absolute. */
export type PathOf = (key: string, value: string) => string;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Set: clients must present a certificate signed by this CA (mutual TLS). */
  clientCAFile?: string;
}

export interface VSphereFiles {
  username?: string;
  passwordFile?: string;
  credentialsFile?: string;
  /** PEM file of CAs trusted beside the system's. */
  caFile?: string;
  /** vCenter server -> certificate thumbprint, as written. */
  thumbprints?: Array<[string, string]>;
  /** vCenters trusted with the configured credentials on the backup's pinned thumbprint. */
  trustedHosts?: string[];
}

/** `tls.certFile`, `tls.keyFile` (both, or no TLS) and `tls.clientCAFile`. */
export function readTlsFiles(r: ConfigReader, pathOf: PathOf): TlsFiles | undefined {
  const certFile = r.string('tls.certFile');
  const keyFile = r.string('tls.keyFile');
  const clientCAFile = r.string('tls.clientCAFile');
  if (!certFile && !keyFile && !clientCAFile) return undefined;
  if (!certFile) return r.refuse('tls.certFile', 'required when tls is configured');
  if (!keyFile) return r.refuse('tls.keyFile', 'required when tls is configured');
  const tls: TlsFiles = { certFile: pathOf('tls.certFile', certFile), keyFile: pathOf('tls.keyFile', keyFile) };
  if (clientCAFile) tls.clientCAFile = pathOf('tls.clientCAFile', clientCAFile);
  return tls;
}

export function readTokenFile(r: ConfigReader, pathOf: PathOf): string | undefined {
  const tokenFile = r.string('auth.tokenFile');
  return tokenFile ? pathOf('auth.tokenFile', tokenFile) : undefined;
}

/** `vsphere.username`, and the files of its password and of per-vCenter credentials. */
export function readVSphereFiles(r: ConfigReader, pathOf: PathOf): VSphereFiles {
  const vsphere: VSphereFiles = {};
  const username = r.string('vsphere.username');
  if (username) vsphere.username = username;
  const passwordFile = r.string('vsphere.passwordFile');
  if (passwordFile) vsphere.passwordFile = pathOf('vsphere.passwordFile', passwordFile);
  const credentialsFile = r.string('vsphere.credentialsFile');
  if (credentialsFile) vsphere.credentialsFile = pathOf('vsphere.credentialsFile', credentialsFile);
  const caFile = r.string('vsphere.caFile');
  if (caFile) vsphere.caFile = pathOf('vsphere.caFile', caFile);
  // Server names hold dots: the map is read as a whole, not by dotted keys.
  const thumbprints = r.value('vsphere.thumbprints');
  if (thumbprints !== undefined) {
    if (!isMap(thumbprints)) r.refuse('vsphere.thumbprints', 'expected a map of vCenter server to certificate thumbprint');
    vsphere.thumbprints = Object.entries(thumbprints).map(([server, thumbprint]) => {
      if (typeof thumbprint !== 'string') return r.refuse(`vsphere.thumbprints.${server}`, 'expected a thumbprint string, e.g. 3F:A2:...');
      return [server, thumbprint];
    });
  }
  const trustedHosts = r.value('vsphere.trustedHosts');
  if (trustedHosts !== undefined) {
    if (!Array.isArray(trustedHosts) || !trustedHosts.every((h) => typeof h === 'string' && h.trim() !== '')) {
      r.refuse('vsphere.trustedHosts', 'expected a list of vCenter servers');
    }
    vsphere.trustedHosts = (trustedHosts as string[]).map((h) => h.trim());
  }
  return vsphere;
}
