/** Small guards shared by every parser of untrusted input (backups, configuration, requests). */

/** A JSON/YAML mapping: an object that is neither null nor an array. */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The message of an error, or the text of anything else thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A path without leading or trailing slashes (or surrounding blanks). */
export function trimSlashes(path: string): string {
  return path.trim().replace(/^\/+|\/+$/g, '');
}
