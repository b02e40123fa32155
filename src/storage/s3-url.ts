/**
 * Velero's layout in a bucket (`[<prefix>/]backups/<name>/<name>.tar.gz`) and the s3:// URLs that
 * point into it, with the storage location such a URL stands for.
 */
import { isObjectName } from '../model/kube.js';
import { trimSlashes } from '../util/values.js';
import { BackupSourceError } from '../backup/errors.js';
import { StorageLocationError } from './errors.js';
import type { StorageLocation } from './storage-location.js';

/** `<prefix>/` or '' (Velero's layout: the prefix gets a trailing '/'). */
function prefixPath(location: StorageLocation): string {
  const prefix = trimSlashes(location.prefix ?? '');
  return prefix ? `${prefix}/` : '';
}

/** Key of the resources tarball of backup `name`. */
export function backupTarballKey(location: StorageLocation, name: string): string {
  return `${prefixPath(location)}backups/${name}/${name}.tar.gz`;
}

export function checkBackupKey(location: StorageLocation, name: string): void {
  // A backup name is a Kubernetes object name: no '/', so it cannot climb out of backups/.
  if (!isObjectName(name)) {
    throw new BackupSourceError(
      'invalid',
      location.bucket,
      `${prefixPath(location)}backups/${name}`,
      `"${name}" is not a Velero backup name (a Kubernetes object name)`,
    );
  }
}

/** Where an `s3://` backup URL points. */
export interface S3BackupUrl {
  bucket: string;
  /** The tarball's key. */
  key: string;
  /** Set when the key follows Velero's layout `[<prefix>/]backups/<name>/<name>.tar.gz`. */
  backupName?: string;
  /** The location prefix in front of `backups/`, when the key follows Velero's layout. */
  prefix?: string;
}

/**
 * Parses `s3://bucket/[prefix/]backups/NAME/NAME.tar.gz` (or `.../backups/NAME[/]`, which means
 * that backup's tarball). Any other key is taken as a tarball object outside Velero's layout.
 */
export function parseS3BackupUrl(url: string): S3BackupUrl {
  const fail = (detail: string): never => {
    throw new StorageLocationError(url, undefined, detail);
  };
  if (!/^s3:\/\//i.test(url)) fail('not an s3:// URL');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '') fail('no bucket: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz');
  if (/[?#]/.test(url)) fail('a query or fragment is not part of an S3 key');
  const key = path.replace(/^\/+/, '');
  if (key === '' || (key.endsWith('/') && !/(^|\/)backups\/[^/]+\/$/.test(key))) {
    fail('no object key: expected s3://BUCKET/[PREFIX/]backups/NAME/NAME.tar.gz');
  }

  const tarball = /^(?:(.+)\/)?backups\/([^/]+)\/([^/]+)\.tar\.gz$/.exec(key);
  if (tarball && tarball[2] === tarball[3]) return veleroUrl(bucket, tarball[1], tarball[2]!);
  const directory = /^(?:(.+)\/)?backups\/([^/]+)\/?$/.exec(key);
  if (directory) return veleroUrl(bucket, directory[1], directory[2]!);
  return { bucket, key };
}

function veleroUrl(bucket: string, prefix: string | undefined, name: string): S3BackupUrl {
  const location: StorageLocation = { bucket, ...(prefix ? { prefix } : {}) };
  return { bucket, key: backupTarballKey(location, name), backupName: name, ...(prefix ? { prefix: trimSlashes(prefix) } : {}) };
}

/**
 * The storage location for an s3:// URL: bucket and prefix from the URL; endpoint, region and
 * credentials from `base` (a storage-location file) where it sets them, else from the environment
 * (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, AWS_REGION or AWS_DEFAULT_REGION,
 * AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE). An endpoint taken from the environment implies
 * path-style addressing, which S3-compatible stores (MinIO and the like) need.
 */
export function storageLocationForUrl(parsed: S3BackupUrl, env: NodeJS.ProcessEnv = process.env, base?: StorageLocation): StorageLocation {
  const location: StorageLocation = { ...base, bucket: parsed.bucket };
  delete location.prefix;
  if (parsed.prefix) location.prefix = parsed.prefix;
  const envEndpoint = env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'];
  if (!location.s3Url && envEndpoint) {
    location.s3Url = envEndpoint.replace(/\/+$/, '');
    location.s3ForcePathStyle ??= true;
  }
  const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'];
  if (!location.region && region) location.region = region;
  if (!location.credentialsFile && env['AWS_SHARED_CREDENTIALS_FILE']) location.credentialsFile = env['AWS_SHARED_CREDENTIALS_FILE'];
  if (!location.profile && env['AWS_PROFILE']) location.profile = env['AWS_PROFILE'];
  return location;
}
