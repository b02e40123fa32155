import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CredentialOverrides } from '../app/detect.js';

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** vCenter credential and timeout flags shared by `detect` and `inventory`. Passwords never go on the command line. */
export function credentialOptions(command: Command): Command {
  return command
    .option('--vsphere-username <user>', 'vCenter user for every vCenter (overrides the backup; env VSPHERE_USERNAME)')
    .option('--vsphere-password-file <file>', 'file holding the vCenter password (env VSPHERE_PASSWORD also works)')
    .option('--vsphere-credentials <file>', 'YAML map of vCenter server to {username, password}, for several vCenters')
    .option('--vsphere-timeout <seconds>', 'timeout for each vCenter request', seconds, 30);
}

export interface CredentialFlags {
  vsphereUsername?: string;
  vspherePasswordFile?: string;
  vsphereCredentials?: string;
}

export async function credentialOverrides(flags: CredentialFlags, env: NodeJS.ProcessEnv = process.env): Promise<CredentialOverrides> {
  const overrides: CredentialOverrides = {};
  const username = flags.vsphereUsername ?? env.VSPHERE_USERNAME;
  if (username) overrides.username = username;
  if (flags.vspherePasswordFile) {
    overrides.password = (await readFile(flags.vspherePasswordFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${flags.vspherePasswordFile}: cannot read the password file (${err.code ?? err.message})`);
    })).replace(/\r?\n$/, '');
  } else if (env.VSPHERE_PASSWORD) {
    overrides.password = env.VSPHERE_PASSWORD;
  }
  if (flags.vsphereCredentials) overrides.byServer = await readCredentialsFile(flags.vsphereCredentials);
  return overrides;
}

/** `server: {username, password}` entries; every error names the file and the entry, never a value. */
export async function readCredentialsFile(path: string): Promise<NonNullable<CredentialOverrides['byServer']>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read the credentials file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseCredentialsYaml(text, path);
}

/** The YAML text of a credentials file; `origin` names it in errors (a path, or a Secret's key). */
export function parseCredentialsYaml(text: string, origin: string): NonNullable<CredentialOverrides['byServer']> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new Error(`${origin}: not valid YAML`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error(`${origin}: expected a map of vCenter server to {username, password}`);
  }
  const result: NonNullable<CredentialOverrides['byServer']> = {};
  for (const [server, entry] of Object.entries(doc as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') throw new Error(`${origin}: ${server}: expected {username, password}`);
    const { username, password } = entry as Record<string, unknown>;
    if (username !== undefined && typeof username !== 'string') throw new Error(`${origin}: ${server}.username: expected a string`);
    if (password !== undefined && typeof password !== 'string') throw new Error(`${origin}: ${server}.password: expected a string`);
    result[server] = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  }
  return result;
}
