/**
 * The small value semantics the controllers apply (docs/unpause-forecast.md): label selectors,
 * int-or-percent `maxUnhealthy`, `unhealthyRange`, and how durations are written. Pure.
 */
import type { LabelSelector } from './model.js';

/**
 * Whether `selector` matches `labels`, as metav1.LabelSelectorAsSelector does. An empty selector
 * matches nothing here: the MachineDeployment and MachineSet controllers skip an empty selector
 * rather than match everything.
 */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (matchLabels.length === 0 && expressions.length === 0) return false;
  if (!matchLabels.every(([k, v]) => labels[k] === v)) return false;
  return expressions.every((x) => {
    const has = Object.hasOwn(labels, x.key);
    const values = x.values ?? [];
    switch (x.operator) {
      case 'In':
        return has && values.includes(labels[x.key]!);
      case 'NotIn':
        return !has || !values.includes(labels[x.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/**
 * `maxUnhealthy` as a count of `total`: an integer as is, a percentage rounded down
 * (intstr.GetValueFromIntOrPercent with roundUp=false); undefined means 100%.
 * Throws on a value the MachineHealthCheck controller could not parse either.
 */
export function maxUnhealthyCount(value: number | string | undefined, total: number): number {
  if (value === undefined) return total;
  if (typeof value === 'number') return Math.max(0, value);
  const percent = /^(\d+)%$/.exec(value.trim());
  if (percent) return Math.floor((Number(percent[1]) * total) / 100);
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  throw new Error(`maxUnhealthy ${JSON.stringify(value)} is neither a count nor a percentage`);
}

/** `[min-max]` of `unhealthyRange`; throws when it is not of that form (the controller refuses it too). */
export function unhealthyRange(value: string): { min: number; max: number } {
  const m = /^\[(\d+)-(\d+)\]$/.exec(value.trim());
  if (!m || Number(m[1]) > Number(m[2])) throw new Error(`unhealthyRange ${JSON.stringify(value)} is not of the form [min-max]`);
  return { min: Number(m[1]), max: Number(m[2]) };
}

/** A duration the way operators write it: `20m`, `1h30m`, `45s`. */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

/** A Go `time.Duration` string as Kubernetes writes it (`20m0s`, `1h`, `300s`, `1.5h`) in seconds; undefined when it is not one. */
export function parseGoDuration(value: string): number | undefined {
  const text = value.trim();
  if (text === '0') return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0));
}
