/**
 * AWS shared-credentials INI text, the format of Velero's `cloud-credentials` Secret (key `cloud`)
 * and of `~/.aws/credentials`. Values are secrets: errors name the profile and key, never a value.
 */
import { StorageLocationError } from './errors.js';

/** Credentials for the S3 API. Holds a secret: never log it. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * The keys of one profile of an AWS shared-credentials INI text. `origin` names the text in
 * errors (e.g. `Secret velero/bsl-credentials key cloud`).
 */
export function credentialsFromIni(text: string, profile: string, origin: string): S3Credentials {
  const profiles = iniProfiles(text);
  const entries = profiles.get(profile);
  if (!entries) {
    const known = [...profiles.keys()];
    throw new StorageLocationError(origin, `[${profile}]`, `no such profile (profiles: ${known.length ? known.join(', ') : 'none'})`);
  }
  const accessKeyId = entries.get('aws_access_key_id');
  const secretAccessKey = entries.get('aws_secret_access_key');
  if (!accessKeyId) throw new StorageLocationError(origin, `[${profile}].aws_access_key_id`, 'required');
  if (!secretAccessKey) throw new StorageLocationError(origin, `[${profile}].aws_secret_access_key`, 'required');
  const sessionToken = entries.get('aws_session_token');
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

/** Sections (`[name]` or `[profile name]`) and their lower-cased keys; comments and strays skipped. */
function iniProfiles(text: string): Map<string, Map<string, string>> {
  const profiles = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      current = profiles.get(section[1]!) ?? new Map();
      profiles.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0 && current) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return profiles;
}
