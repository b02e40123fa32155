/**
 * A vCenter named in a backup (`spec.server`) may be written as a host, host:port or URL.
 * Every part of the detector compares vCenters by this key: lower-case host, with the port
 * only when it is not 443.
 */
export function vcenterKey(server: string): string {
  const raw = server.trim();
  if (raw === '') throw new Error('empty vCenter server');
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  const host = url.hostname.toLowerCase();
  const port = url.port && url.port !== '443' ? `:${url.port}` : '';
  return `${host}${port}`;
}

/** The SDK endpoint of a vCenter key or server string. */
export function vcenterSdkUrl(server: string): URL {
  return new URL(`https://${vcenterKey(server)}/sdk`);
}

/** vCenter credentials given by the operator; they win over the ones found in the backup. */
export interface CredentialOverrides {
  username?: string;
  password?: string;
  /** Per vCenter (any spelling of the server: host, host:port or URL). */
  byServer?: Record<string, { username?: string; password?: string }>;
  trust?: VCenterTrust;
}

/**
 * The vCenters the operator trusts. The operator's password goes only to a vCenter whose
 * certificate verifies against the system's CAs or `ca`, whose thumbprint the operator gave, or
 * which the operator listed; a thumbprint pinned in the backup alone is not enough (the backup may
 * be tampered with). The backup's own credentials may still go where the backup's thumbprint says.
 */
export interface VCenterTrust {
  /** PEM certificates of CAs trusted beside the system's. */
  ca?: string;
  /** Certificate thumbprints the operator gave, by vCenter key; they win over the backup's. */
  thumbprints?: Record<string, string>;
  /** vCenter keys the operator lists: the backup's pinned thumbprint is enough for these. */
  hosts?: string[];
}

/**
 * A pinned vCenter certificate thumbprint, as written in `VSphereCluster.spec.thumbprint`:
 * SHA-1 (what govmomi and TKG write) or SHA-256 of the DER certificate, hex pairs joined by `:`.
 */
export interface PinnedThumbprint {
  algorithm: 'sha1' | 'sha256';
  /** Upper-case hex pairs joined by `:`, the form govmomi prints. */
  display: string;
}

/** Parses a thumbprint; case, `:` separators and surrounding blanks do not matter. */
export function parseThumbprint(raw: string): PinnedThumbprint {
  const hex = raw.trim().replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    throw new Error(
      `invalid vCenter thumbprint ${JSON.stringify(raw)}: expected the SHA-1 (20 bytes) or SHA-256 (32 bytes) ` +
        'certificate fingerprint as hex pairs, e.g. 3F:A2:...',
    );
  }
  return { algorithm: hex.length === 40 ? 'sha1' : 'sha256', display: hexPairs(hex) };
}

/** Upper-case hex as `:`-joined pairs. */
export function hexPairs(hex: string): string {
  return hex.match(/../g)?.join(':') ?? '';
}
