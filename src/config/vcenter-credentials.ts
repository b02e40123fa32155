/**
 * vCenter credentials given by the operator, the same way for every door: a user name (or
 * VSPHERE_USERNAME), a password file (or VSPHERE_PASSWORD), and a YAML map of vCenter server to
 * `{username, password}` for several vCenters (`detect --vsphere-credentials`, the service's
 * `vsphere.credentialsFile`, the plugin's Secret key `credentials.yaml`).
 * Errors name the file and the entry, never a value.
 */
import { readFile } from 'node:fs/promises';
import type { CredentialOverrides } from '../model/vcenter.js';
import { isMap } from '../util/values.js';
import { ConfigReader, parseYamlText, refuseIn } from './values.js';

/** Where the credentials are: the user name itself, and the files that hold the secrets. */
export interface CredentialSources {
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  /** The YAML map of vCenter server to {username, password}. */
  vsphereCredentials?: string;
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
  return overrides;
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
