/**
 * vCenter credentials given by the operator, the same way for every door: a user name (or
 * VSPHERE_USERNAME), a password file (or VSPHERE_PASSWORD), and a YAML map of vCenter server to
 * `{username, password}` for several vCenters (`detect --vsphere-credentials`, the service's
 * `vsphere.credentialsFile`, the plugin's Secret key `credentials.yaml`).
 * Errors name the file and the entry, never a value.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseThumbprint, vcenterKey, type CredentialOverrides, type VCenterTrust } from '../model/vcenter.js';
import { errorMessage, isMap } from '../util/values.js';
import type { VSphereFiles } from './service-files.js';
import { ConfigError, ConfigReader, parseYamlText, refuseIn } from './values.js';

/** Where the credentials are: the user name itself, and the files that hold the secrets; and which vCenters to trust with them. */
export interface CredentialSources {
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  /** The YAML map of vCenter server to {username, password}. */
  vsphereCredentials?: string;
  /** PEM file of CAs trusted beside the system's. */
  vsphereCaFile?: string;
  /** `server=thumbprint`, one per vCenter. */
  vsphereThumbprint?: string[];
  /** vCenters trusted with the operator's credentials on the backup's pinned thumbprint. */
  vsphereTrustedHost?: string[];
}

export async function credentialOverrides(sources: CredentialSources, env: NodeJS.ProcessEnv = process.env): Promise<CredentialOverrides> {
  const overrides: CredentialOverrides = {};
  const username = sources.vsphereUsername ?? env.VSPHERE_USERNAME;
  if (username) overrides.username = username;
  if (sources.vspherePasswordFile) {
    overrides.password = (
      await readFile(sources.vspherePasswordFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new Error(`${sources.vspherePasswordFile}: cannot read the password file (${err.code ?? err.message})`);
      })
    ).replace(/\r?\n$/, '');
  } else if (env.VSPHERE_PASSWORD) {
    overrides.password = env.VSPHERE_PASSWORD;
  }
  if (sources.vsphereCredentials) overrides.byServer = await readCredentialsFile(sources.vsphereCredentials);
  const thumbprints = (sources.vsphereThumbprint ?? []).map((entry) => thumbprintEntry(entry, TRUST_FLAGS.thumbprints));
  const trust = await vcenterTrust({ caFile: sources.vsphereCaFile, thumbprints, hosts: sources.vsphereTrustedHost ?? [] });
  if (trust) overrides.trust = trust;
  return overrides;
}

/**
 * The vCenters the operator trusts, keyed as the detector compares vCenters. Errors name the
 * entry (a server, a file) and what is wrong with it; `label` says where each came from.
 */
export async function vcenterTrust(
  given: { caFile?: string; thumbprints: Array<[string, string]>; hosts: string[] },
  label: TrustLabels = TRUST_FLAGS,
): Promise<VCenterTrust | undefined> {
  const { caFile, ...rest } = given;
  if (!caFile) return vcenterTrustOf(rest, label);
  const ca = await readFile(caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${label.ca} ${caFile}: cannot read the CA file (${err.code ?? err.message})`);
  });
  return vcenterTrustOf({ ...rest, ca }, { ...label, ca: `${label.ca} ${caFile}` });
}

/** Where each part of the trust came from, for messages: a flag, a key. */
export interface TrustLabels {
  ca: string;
  thumbprints: string;
  hosts: string;
}

const TRUST_FLAGS: TrustLabels = { ca: '--vsphere-ca-file', thumbprints: '--vsphere-thumbprint', hosts: '--vsphere-trusted-host' };

/** vcenterTrust with the CA certificates as PEM text. */
export function vcenterTrustOf(
  given: { ca?: string; thumbprints: Array<[string, string]>; hosts: string[] },
  label: TrustLabels,
): VCenterTrust | undefined {
  const trust: VCenterTrust = {};
  const keyOf = (server: string, where: string) => {
    try {
      return vcenterKey(server);
    } catch (err) {
      throw new Error(`${where} ${server}: ${(err as Error).message}`, { cause: err });
    }
  };
  if (given.ca) {
    try {
      new X509Certificate(given.ca);
    } catch {
      throw new Error(`${label.ca}: holds no PEM certificate`);
    }
    trust.ca = given.ca;
  }
  for (const [server, thumbprint] of given.thumbprints) {
    try {
      parseThumbprint(thumbprint);
    } catch (err) {
      throw new Error(`${label.thumbprints} ${server}: ${(err as Error).message}`, { cause: err });
    }
    (trust.thumbprints ??= {})[keyOf(server, label.thumbprints)] = thumbprint;
  }
  if (given.hosts.length > 0) trust.hosts = given.hosts.map((host) => keyOf(host, label.hosts));
  return Object.keys(trust).length > 0 ? trust : undefined;
}

/** `server=thumbprint` as the flag (and the plugin's Secret) write it. */
export function thumbprintEntry(entry: string, label: string): [string, string] {
  const at = entry.indexOf('=');
  if (at <= 0) throw new Error(`${label} ${entry}: expected server=thumbprint, e.g. vc01.example.com=3F:A2:...`);
  return [entry.slice(0, at).trim(), entry.slice(at + 1).trim()];
}

/** `server: {username, password}` entries; every error names the file and the entry, never a value. */
export async function readCredentialsFile(path: string): Promise<NonNullable<CredentialOverrides['byServer']>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the credentials file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  return parseCredentialsYaml(text, path);
}

/** The YAML text of a credentials file; `origin` names it in errors (a path, or a Secret's key). */
export function parseCredentialsYaml(text: string, origin: string): NonNullable<CredentialOverrides['byServer']> {
  const refuse = refuseIn(origin, (message) => new Error(message));
  const doc = parseYamlText(text, refuse);
  if (!isMap(doc)) refuse(undefined, 'expected a map of vCenter server to {username, password}');
  const r = new ConfigReader(doc as Record<string, unknown>, refuse);
  const result: NonNullable<CredentialOverrides['byServer']> = {};
  for (const [server, entry] of Object.entries(doc as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') refuse(server, 'expected {username, password}');
    // A server name holds dots: read its entry as a mapping of its own, not by a dotted key.
    const credentials = r.within(entry as Record<string, unknown>, server);
    const username = credentials.verbatim('username');
    const password = credentials.verbatim('password');
    result[server] = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  }
  return result;
}

/** The operator's vCenter credentials and trust as the service configuration's `vsphere` names them. */
export async function serviceVCenterCredentials(
  vsphere: VSphereFiles,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CredentialOverrides> {
  const overrides = await credentialOverrides(
    {
      ...(vsphere.username ? { vsphereUsername: vsphere.username } : {}),
      ...(vsphere.passwordFile ? { vspherePasswordFile: vsphere.passwordFile } : {}),
      ...(vsphere.credentialsFile ? { vsphereCredentials: vsphere.credentialsFile } : {}),
    },
    env,
  ).catch((err: unknown) => {
    throw new ConfigError(`${origin}: vsphere: ${errorMessage(err)}`);
  });
  const trust = await vcenterTrust(
    { caFile: vsphere.caFile, thumbprints: vsphere.thumbprints ?? [], hosts: vsphere.trustedHosts ?? [] },
    { ca: 'vsphere.caFile', thumbprints: 'vsphere.thumbprints', hosts: 'vsphere.trustedHosts' },
  ).catch((err: unknown) => {
    throw new ConfigError(`${origin}: ${errorMessage(err)}`);
  });
  if (trust) overrides.trust = trust;
  return overrides;
}
