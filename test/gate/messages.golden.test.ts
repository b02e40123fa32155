/**
 * What the restore gate tells people, whole: each decision's reason, block message and Cluster
 * annotations; the Restore's summary annotations and Events; what Execute answers Velero.
 * Golden files under test/golden/gate/; `npm run test:golden:update` rewrites them.
 */
import { onlyLocation } from '../../src/app/backup-locator.js';
import test from 'ava';
import { status } from '@grpc/grpc-js';
import { decide, decideOnCheckFailure, type GateConfig, type GateDecision } from '../../src/gate/index.js';
import { DomainError } from '../../src/app/errors.js';
import { RestoreGate } from '../../src/app/restore-gate.js';
import type { DriftReport } from '../../src/model/report.js';
import {
  eventFor,
  outcomeFromDecision,
  outcomeFromError,
  outcomeFromItem,
  restoreAnnotations,
  type ClusterOutcome,
} from '../../src/plugin/restore-report.js';
import { grpcStatusOf } from '../../src/rpc/status.js';
import { silentLogger } from '../../src/util/jsonlog.js';
import { clusterItem } from '../grpc/helpers.js';
import { assertGolden } from '../helpers/golden.js';
import { cluster, machine, report as reportOf } from '../helpers/reports.js';
import { veleroRestore } from '../helpers/velero.js';

const OVERRIDE = 'driftdetector.dev/override';
const SCOPE = 'driftdetector.dev/override-clusters';
const BACKUP = 's3://velero/backups/b1/b1.tar.gz';

function driftReport(): DriftReport {
  const r = reportOf(
    BACKUP,
    cluster('default', 'wc-healthy', [machine('wc-healthy-cp-a', 'Healthy')], [machine('wc-healthy-md-a', 'Healthy')]),
    cluster(
      'default',
      'wc-stale',
      [machine('wc-stale-cp-a', 'Healthy')],
      [machine('wc-stale-md-a', 'Stale'), machine('wc-stale-md-b', 'Stale')],
    ),
    cluster(
      'default',
      'wc-ghost',
      [machine('wc-ghost-cp-a', 'Healthy'), machine('wc-ghost-cp-x', 'Ghost')],
      [machine('wc-ghost-md-y', 'Ghost'), machine('wc-ghost-md-b', 'Stale')],
    ),
    cluster('tkg', 'wc-unknown', [machine('wc-unknown-cp-a', 'Unknown')], [machine('wc-unknown-md-a', 'Healthy')]),
  );
  r.errors.push({ scope: 'cluster:default/docker1', message: 'no VSphereCluster: not a vSphere cluster', severity: 'error' });
  r.errors.push({
    scope: 'cluster:tkg-system/tkg-mgmt',
    message: 'tkg-system/tkg-mgmt is the old management cluster: it is recreated, not restored, so its machines are not checked for drift',
    severity: 'warning',
  });
  return r;
}

const block: GateConfig = { mode: 'block', failurePolicy: 'Fail', pauseOnDrift: false };
const blockIgnore: GateConfig = { ...block, failurePolicy: 'Ignore' };
const annotatePause: GateConfig = { mode: 'annotate', failurePolicy: 'Fail', pauseOnDrift: true };

const configName = (c: GateConfig) => `mode ${c.mode}, failurePolicy ${c.failurePolicy}${c.pauseOnDrift ? ', pauseOnDrift' : ''}`;

function renderDecision(title: string, d: GateDecision): string {
  const lines = [
    `== ${title}`,
    `status ${d.status}, verdict ${d.verdict} (drift ${d.driftVerdict}), action ${d.action}${d.overridden ? ', overridden' : ''}`,
    `reason: ${d.reason}`,
    ...(d.error !== undefined ? [`error: ${d.error}`] : []),
    'annotations:',
    ...Object.entries(d.annotations).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Each case: a title, the cluster, the gate configuration, the Restore's annotations. */
const decisions: Array<[string, string, string, GateConfig, Record<string, string>]> = [
  ['a Healthy cluster', 'default', 'wc-healthy', block, {}],
  ['a cluster with Stale machines only', 'default', 'wc-stale', block, {}],
  ['a cluster with Ghost machines is blocked', 'default', 'wc-ghost', block, {}],
  ['an unconfirmed cluster is blocked', 'tkg', 'wc-unknown', block, {}],
  ['an unconfirmed cluster with failurePolicy Ignore', 'tkg', 'wc-unknown', blockIgnore, {}],
  ['a cluster missing from the report, with a report error scoped to it', 'default', 'docker1', block, {}],
  ['a cluster missing from the report, with nothing said of it', 'default', 'absent', blockIgnore, {}],
  ['the old management cluster, left out of the analysis with a warning', 'tkg-system', 'tkg-mgmt', block, {}],
  ['an override for every cluster', 'default', 'wc-ghost', block, { [OVERRIDE]: ' ghost VMs adopted by hand, INC-7 ' }],
  ['an override scoped to the cluster', 'default', 'wc-ghost', block, { [OVERRIDE]: 'INC-7', [SCOPE]: 'default/wc-ghost' }],
  ['an override scoped to another cluster', 'default', 'wc-ghost', block, { [OVERRIDE]: 'INC-7', [SCOPE]: 'tkg/wc-unknown, default/wc-other' }],
  ['an override whose scope is not ns/name', 'default', 'wc-ghost', block, { [OVERRIDE]: 'INC-7', [SCOPE]: 'wc-ghost' }],
  ['annotate mode with pauseOnDrift', 'default', 'wc-ghost', annotatePause, {}],
];

const FAILURE = 'cannot open the backup: backup b1 not found: s3://velero/backups/b1/b1.tar.gz';
const checkFailures: Array<[string, GateConfig, Record<string, string>]> = [
  ['the drift check failed', block, {}],
  ['the drift check failed, failurePolicy Ignore', blockIgnore, {}],
  ['the drift check failed, overridden', block, { [OVERRIDE]: 'restore regardless, INC-9' }],
  ['the drift check failed, annotate mode with pauseOnDrift', annotatePause, {}],
];

function allDecisions(): Array<[string, GateDecision]> {
  const report = driftReport();
  return [
    ...decisions.map(([title, ns, name, config, annotations]): [string, GateDecision] => [
      `${title} (${ns}/${name}, ${configName(config)})`,
      decide(report, ns, name, annotations, config),
    ]),
    ...checkFailures.map(([title, config, annotations]): [string, GateDecision] => [
      `${title} (default/wc-any, ${configName(config)})`,
      decideOnCheckFailure('default', 'wc-any', annotations, config, FAILURE),
    ]),
  ];
}

test('decisions: reason, block message and annotations of the Cluster', async (t) => {
  const text = allDecisions()
    .map(([title, d]) => renderDecision(title, d))
    .join('\n');
  await assertGolden(t, 'gate/decisions.txt', text);
});

function renderRestore(title: string, outcomes: ClusterOutcome[]): string {
  const annotations = Object.entries(restoreAnnotations(outcomes)).map(([k, v]) => `  ${k}: ${v}`);
  const events = outcomes.map((o) => {
    const e = eventFor(o);
    return `  ${e.type} ${e.reason}: ${e.message}`;
  });
  return [`== ${title}`, 'Restore annotations:', ...annotations, 'Events:', ...events, ''].join('\n');
}

test('the Restore: its summary annotations and one Event per Cluster', async (t) => {
  const report = driftReport();
  const inBlock = (ns: string, name: string, annotations: Record<string, string> = {}) =>
    outcomeFromDecision(decide(report, ns, name, annotations, block));
  const blockMode = [
    inBlock('default', 'wc-healthy'),
    inBlock('default', 'wc-stale'),
    inBlock('default', 'wc-ghost'),
    inBlock('tkg', 'wc-unknown', { [OVERRIDE]: 'checked by hand', [SCOPE]: 'tkg/wc-unknown' }),
    outcomeFromDecision(decideOnCheckFailure('default', 'wc-any', {}, blockIgnore, FAILURE)),
    outcomeFromError('default/wc-broken', new Error('item: metadata.name: required')),
  ];
  const annotateMode = [
    outcomeFromDecision(decide(report, 'default', 'wc-ghost', {}, annotatePause)),
    outcomeFromDecision(decide(report, 'default', 'wc-healthy', {}, annotatePause)),
  ];
  // What the plugin in remote mode knows: the annotated item the service returned.
  const annotatedItem = (name: string, annotations: Record<string, string>, paused = false) =>
    Buffer.from(JSON.stringify({ metadata: { name, annotations }, ...(paused ? { spec: { paused: true } } : {}) }));
  const remote = [
    outcomeFromItem('default/wc-ghost', annotatedItem('wc-ghost', decide(report, 'default', 'wc-ghost', {}, annotatePause).annotations, true)),
    outcomeFromItem(
      'default/wc-ghost2',
      annotatedItem('wc-ghost2', decide(report, 'default', 'wc-ghost', { [OVERRIDE]: 'INC-7' }, block).annotations),
    ),
    outcomeFromItem('default/wc-odd', Buffer.from('not json')),
  ];
  const text = [
    renderRestore(`a Restore in ${configName(block)}`, blockMode),
    renderRestore(`a Restore in ${configName(annotatePause)}`, annotateMode),
    renderRestore('a Restore gated by the remote service (outcomes read from the returned items)', remote),
  ].join('\n');
  await assertGolden(t, 'gate/restore.txt', text);
});

/** The RestoreGate that serve and the plugin's handlers run, over a service that answers with `report` or fails. */
function restoreGate(config: GateConfig, answer: DriftReport | Error): RestoreGate {
  const service = {
    gate: config,
    options: { locations: onlyLocation('default', { locate: () => Promise.reject(new Error('not read')) }), logger: silentLogger },
    analyze: async () => {
      if (answer instanceof Error) throw answer;
      return { report: answer };
    },
  };
  return new RestoreGate(service as unknown as ConstructorParameters<typeof RestoreGate>[0], silentLogger);
}

async function renderExecute(
  title: string,
  gate: RestoreGate,
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
): Promise<string> {
  const item = clusterItem(namespace, name);
  const input = { item, restore: veleroRestore('b1', { annotations }), itemFromBackup: item };
  try {
    const { item: returned } = await gate.execute(input, { signal: new AbortController().signal, fields: {} });
    const { metadata, spec } = JSON.parse(returned.toString('utf8')) as { metadata: object; spec: { paused?: boolean } };
    return `== ${title}\nitem returned:\n${JSON.stringify({ metadata, ...(spec.paused ? { spec: { paused: true } } : {}) }, null, 2)}\n`;
  } catch (err) {
    return `== ${title}\nitem failed: ${status[grpcStatusOf(err)]}: ${(err as Error).message}\n`;
  }
}

test('Execute: the annotated Cluster returned to Velero, or the error that keeps it out', async (t) => {
  const report = driftReport();
  const down = new DomainError('unavailable', 'cannot read s3://velero/backups/b1/b1.tar.gz: connect ECONNREFUSED 127.0.0.1:9000');
  const parts = await Promise.all([
    renderExecute(`a Healthy cluster (${configName(block)})`, restoreGate(block, report), 'default', 'wc-healthy'),
    renderExecute(`a cluster with Ghost machines (${configName(block)})`, restoreGate(block, report), 'default', 'wc-ghost'),
    renderExecute(`a cluster with Ghost machines, overridden (${configName(block)})`, restoreGate(block, report), 'default', 'wc-ghost', {
      [OVERRIDE]: 'INC-7',
    }),
    renderExecute(`a cluster with Ghost machines (${configName(annotatePause)})`, restoreGate(annotatePause, report), 'default', 'wc-ghost'),
    renderExecute(`the drift check failed (${configName(block)})`, restoreGate(block, down), 'default', 'wc-healthy'),
    renderExecute(`the drift check failed (${configName(blockIgnore)})`, restoreGate(blockIgnore, down), 'default', 'wc-healthy'),
  ]);
  await assertGolden(t, 'gate/execute.txt', parts.join('\n'));
});
