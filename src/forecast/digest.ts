/**
 * The forecast's digest (docs/unpause-forecast.md#digest): SHA-256 of its canonical form — JSON with
 * keys sorted at every level, no whitespace, `generatedAt` and the digest itself left out — so that
 * the same predictions give the same digest whatever the order of keys or the time.
 */
import { createHash } from 'node:crypto';
import type { Forecast } from './model.js';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function forecastDigest(forecast: Omit<Forecast, 'digest'> & { digest?: string }): string {
  const { generatedAt: _time, digest: _digest, ...rest } = forecast;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}
