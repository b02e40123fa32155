import test from 'ava';
import { summarize } from '../../src/drift/summarize.js';
import type { InfraMachineReport, ReportError, RollupStatus } from '../../src/model/report.js';
import { cluster, machine } from '../helpers/reports.js';

// docs/drift-rules.md §5: the summary's roll-up, its counts, and hasErrors.
const infra: InfraMachineReport = { name: 'orphan', vcenter: 'vc.example.com', biosUUID: '', reason: 'test' };
const warning: ReportError = { scope: 'cluster:default/a', message: 'not read', severity: 'warning' };
const error: ReportError = { scope: 'vcenter:vc.example.com', message: 'refused', severity: 'error' };

const cases: Array<[string, Parameters<typeof machine>[1][], InfraMachineReport[], RollupStatus]> = [
  ['no clusters', [], [], 'Healthy'],
  ['healthy clusters', ['Healthy'], [], 'Healthy'],
  ['infrastructure machines outrank Stale', ['Stale'], [infra], 'NeedFurtherConfirmationInfraMachines'],
  ['infrastructure machines do not outrank Unknown', ['Unknown'], [infra], 'NeedFurtherConfirmation'],
  ['infrastructure machines do not outrank Ghost', ['Ghost'], [infra], 'ManualRemediationRequired'],
];
for (const [title, statuses, infraMachines, expected] of cases) {
  test(`summarize: ${title}`, (t) => {
    const clusters = statuses.map((s, i) => cluster('default', `c${i}`, [machine(`c${i}-m`, s)]));
    t.is(summarize({ clusters, infraMachines, errors: [] }, 0).status, expected);
  });
}

test('summarize: counts clusters per status and infrastructure machines; only errors set hasErrors', (t) => {
  const clusters = (['Healthy', 'Healthy', 'Stale', 'Ghost', 'Unknown'] as const).map((s, i) =>
    cluster('default', `c${i}`, [machine(`c${i}-m`, s)]),
  );
  const withWarning = summarize({ clusters, infraMachines: [infra, infra], errors: [warning] }, 7, 3);
  t.deepEqual(withWarning, {
    status: 'ManualRemediationRequired',
    clusters: { total: 5, Healthy: 2, ManualRemediationNotRequired: 1, ManualRemediationRequired: 1, NeedFurtherConfirmation: 1 },
    infraMachinesNeedFurtherConfirmation: 2,
    outOfScopeVMs: 7,
    ignoredVMs: 3,
    hasErrors: false,
  });
  t.true(summarize({ clusters, infraMachines: [], errors: [warning, error] }, 0).hasErrors);
});
