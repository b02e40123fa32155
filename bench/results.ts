/** One line of the benchmark table, the results file, and the table as text. */

export type Unit = 'ms' | 'MiB' | 'x' | 'calls/s';

export interface Target {
  /** What the target bounds: our value, or the ratio to the baseline. */
  on: 'ours' | 'ratio';
  max: number;
  text: string;
  /**
   * The target holds at every preset, not only at the default scale: what does not grow with the
   * backup (a process's start, its idle footprint, a remote-mode Execute whose analysis runs in
   * the service).
   */
  anyScale?: boolean;
}

export interface Measure {
  id: string;
  label: string;
  unit: Unit;
  /** Medians over the runs. */
  ours: number;
  baseline: number;
  baselineLabel: string;
  /** ours / baseline. */
  ratio: number;
  target?: Target;
  met?: boolean;
  samples: { ours: number[]; baseline: number[] };
  note?: string;
}

export function measure(fields: Omit<Measure, 'ratio' | 'met'>): Measure {
  const ratio = fields.ours / fields.baseline;
  const m: Measure = { ...fields, ratio };
  if (fields.target) m.met = (fields.target.on === 'ours' ? fields.ours : ratio) <= fields.target.max;
  return m;
}

export const MiB = 1024 * 1024;

function format(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(2)} ms`;
    case 'MiB':
      return `${value.toFixed(0)} MiB`;
    case 'x':
      return `${value.toFixed(2)}x`;
    case 'calls/s':
      return `${Math.round(value)}/s`;
  }
}

/**
 * A Markdown table: measure, ours, baseline, ratio, target, met. The targets are set for the
 * default (full) scale unless they hold at any scale: at a smaller preset a miss of a full-scale
 * target says so instead of a bare `NO`.
 */
export function renderTable(measures: Measure[], options: { fullScale: boolean } = { fullScale: true }): string {
  const met = (m: Measure) =>
    m.met === undefined ? '—' : m.met ? 'yes' : options.fullScale || m.target?.anyScale ? 'NO' : 'n/a (target for full scale)';
  const rows = [
    ['measure', 'ours', 'baseline', 'ratio', 'target', 'met?'],
    ...measures.map((m) => [
      m.label,
      format(m.ours, m.unit),
      `${format(m.baseline, m.unit)} (${m.baselineLabel})`,
      `${m.ratio.toFixed(2)}x`,
      m.target?.text ?? '—',
      met(m),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.slice(1).map(line)].join('\n');
}
