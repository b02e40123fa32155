/**
 * A JSON report read back (by `remediate`), checked field by field before anything reads it: a
 * report is a file anyone may have edited, and a field of the wrong type must fail here, naming
 * the field (`clusters[0].workers.machines[1].name is a number, not a string`), rather than deep in
 * a renderer or, worse, be taken for something else. Fields no reader uses are not checked.
 */
import type { DriftReport } from '../model/report.js';
import { isMap } from '../util/values.js';

const MACHINE_STATUSES = ['Healthy', 'Stale', 'Ghost', 'Unknown'] as const;
const MACHINE_SOURCES = ['backup', 'vm', 'node'] as const;
const SEVERITIES = ['error', 'warning'] as const;

/** A field that is wrong: its path in the report and what is wrong with it. */
export class ReportFieldError extends Error {
  override readonly name = 'ReportFieldError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

type Check = (value: unknown, at: string) => void;

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `a ${typeof value}`;
}

const fail = (at: string, value: unknown, wanted: string): never => {
  throw new ReportFieldError(at, `is ${kindOf(value)}, not ${wanted}`);
};

const text: Check = (value, at) => {
  if (typeof value !== 'string') fail(at, value, 'a string');
};

const name: Check = (value, at) => {
  text(value, at);
  if ((value as string).trim() === '') throw new ReportFieldError(at, 'is empty');
};

const bool: Check = (value, at) => {
  if (typeof value !== 'boolean') fail(at, value, 'true or false');
};

const oneOf =
  (allowed: readonly string[]): Check =>
  (value, at) => {
    text(value, at);
    if (!allowed.includes(value as string)) throw new ReportFieldError(at, `is ${JSON.stringify(value)}, not one of ${allowed.join(', ')}`);
  };

const listOf =
  (item: Check): Check =>
  (value, at) => {
    if (!Array.isArray(value)) fail(at, value, 'a list');
    (value as unknown[]).forEach((v, i) => item(v, `${at}[${i}]`));
  };

const stringMap: Check = (value, at) => {
  if (!isMap(value)) fail(at, value, 'a map');
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) text(v, `${at}[${JSON.stringify(key)}]`);
};

/** A map with these fields; a `?` after a name makes it optional (absent or null). */
const fields =
  (shape: Record<string, Check>): Check =>
  (value, at) => {
    if (!isMap(value)) fail(at, value, 'a map');
    const map = value as Record<string, unknown>;
    for (const [key, check] of Object.entries(shape)) {
      const optional = key.endsWith('?');
      const field = optional ? key.slice(0, -1) : key;
      const path = at ? `${at}.${field}` : field;
      if (optional && (map[field] === undefined || map[field] === null)) continue;
      if (!(field in map)) throw new ReportFieldError(path, 'is missing');
      check(map[field], path);
    }
  };

const machine = fields({
  name,
  status: oneOf(MACHINE_STATUSES),
  reason: text,
  source: oneOf(MACHINE_SOURCES),
  'vcenter?': name,
  'datacenter?': text,
  'vmName?': text,
  'biosUUID?': name,
  'instanceUUID?': name,
  'powerState?': text,
  'nodeName?': name,
  'warnings?': listOf(text),
});

const listing = fields({ status: text, machines: listOf(machine) });

const cluster = fields({
  namespace: name,
  name,
  status: text,
  controlPlane: listing,
  workers: listing,
  'labels?': stringMap,
});

const infraMachine = fields({
  name,
  vcenter: name,
  biosUUID: name,
  reason: text,
  'datacenter?': text,
  'folder?': text,
  'resourcePool?': text,
  'powerState?': text,
});

const reportShape = fields({
  summary: fields({ status: text }),
  clusters: listOf(cluster),
  infraMachines: listOf(infraMachine),
  errors: listOf(fields({ scope: text, message: text, severity: oneOf(SEVERITIES) })),
  'metadata?': fields({
    backup: name,
    generatedAt: name,
    'detectorVersion?': text,
    'apiServerAccess?': bool,
    'vcenters?': listOf(text),
    'ignoreFile?': text,
  }),
});

/** The value as a report, or a ReportFieldError naming the first field that is wrong. */
export function checkReportFields(value: unknown): DriftReport {
  reportShape(value, '');
  return value as DriftReport;
}
