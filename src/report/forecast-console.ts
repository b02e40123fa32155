/**
 * The unpause forecast on a terminal (docs/unpause-forecast.md): per cluster its summary line, the
 * actions and findings, what could not be judged, the verdict and its reasons; then errors and the
 * forecast's digest. Names come from the cluster and vCenter: control characters are replaced.
 */
import type { ClusterForecast, Forecast, ForecastAction, ForecastFinding, Verdict } from '../forecast/model.js';
import { printable } from '../util/shell.js';

export interface ForecastConsoleOptions {
  color: boolean;
}

const VERDICT_COLOR: Record<Verdict, number> = { UnsafeToUnpause: 31, ReviewBeforeUnpause: 33, SafeToUnpause: 32 };

export function renderForecastConsole(forecast: Forecast, options: ForecastConsoleOptions): string {
  const paint = (v: Verdict) => (options.color ? `\u001b[${VERDICT_COLOR[v]}m${v}\u001b[0m` : v);
  const bold = (text: string) => (options.color ? `\u001b[1m${text}\u001b[0m` : text);
  const out: string[] = [bold(`Unpause forecast for ${printable(forecast.source)}`)];
  if (forecast.clusters.length === 0) out.push('  (no cluster to forecast)');
  for (const c of forecast.clusters) out.push('', ...clusterLines(c, paint, bold));
  if (forecast.errors.length > 0) {
    out.push('', bold('Errors'), ...forecast.errors.map((e) => `  ${printable(e.scope)}: ${printable(e.message)}`));
  }
  const counts = (['SafeToUnpause', 'ReviewBeforeUnpause', 'UnsafeToUnpause'] as const).map(
    (v) => `${forecast.clusters.filter((c) => c.verdict === v).length} ${v}`,
  );
  out.push('', `${forecast.clusters.length} cluster(s): ${counts.join(', ')}`, `Forecast digest: ${forecast.digest}`);
  return `${out.join('\n')}\n`;
}

function clusterLines(c: ClusterForecast, paint: (v: Verdict) => string, bold: (t: string) => string): string[] {
  const out = [bold(`Cluster ${printable(c.namespace)}/${printable(c.name)}${c.paused ? '' : ' (not paused)'}`), `  ${printable(c.summary)}`];
  if (c.actions.length > 0) out.push('  Actions:', ...c.actions.map((a) => `    ${actionLine(a)}`));
  if (c.findings.length > 0) out.push('  Findings:', ...c.findings.map((f) => `    ${findingLine(f)}`));
  if (c.unknowns.length > 0) out.push('  Unknown:', ...c.unknowns.map((u) => `    ${printable(u)}`));
  out.push(`  Verdict: ${paint(c.verdict)}`);
  for (const r of c.reasons) out.push(`    - ${printable(r.message)} [#${r.rule}]`);
  return out;
}

function objectText(o: ForecastAction['object']): string {
  return printable(
    `${o.kind} ${o.kind === 'VirtualMachine' || o.kind === 'Node' ? '' : `${o.namespace}/`}${o.name}${o.vcenter ? ` on ${o.vcenter}` : ''}`,
  );
}

function actionLine(a: ForecastAction): string {
  return `${a.kind} ${objectText(a.object)} (${a.when}): ${printable(a.why)} [#${a.rule}]`;
}

function findingLine(f: ForecastFinding): string {
  return `${f.kind} ${objectText(f.object)}: ${printable(f.why)} [#${f.rule}]`;
}
