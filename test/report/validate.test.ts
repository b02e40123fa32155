/** A report read back is checked field by field: a wrong type fails naming the field, before any reader sees it. */
import test from 'ava';
import { checkReportFields, ReportFieldError } from '../../src/report/validate.js';
import { driftedReport } from '../helpers/remediate-report.js';

const cases: Array<[string, (r: any) => void, string]> = [
  [
    'a numeric machine name',
    (r) => (r.clusters[0].workers.machines[0].name = 12345),
    'clusters[0].workers.machines[0].name is a number, not a string',
  ],
  [
    'an empty BIOS UUID',
    (r) => (r.clusters[0].controlPlane.machines[1].biosUUID = ' '),
    'clusters[0].controlPlane.machines[1].biosUUID is empty',
  ],
  [
    'a status outside its values',
    (r) => (r.clusters[1].workers.machines[1].status = 'Gone'),
    'clusters[1].workers.machines[1].status is "Gone", not one of Healthy, Stale, Ghost, Unknown',
  ],
  ['machines that are a map', (r) => (r.clusters[0].workers.machines = {}), 'clusters[0].workers.machines is a map, not a list'],
  ['a missing section', (r) => delete r.clusters[0].controlPlane, 'clusters[0].controlPlane is missing'],
  [
    'a nodeName that is a list',
    (r) => (r.clusters[0].workers.machines[0].nodeName = ['a']),
    'clusters[0].workers.machines[0].nodeName is a list, not a string',
  ],
  ['a label that is a number', (r) => (r.clusters[0].labels = { a: 1 }), 'clusters[0].labels["a"] is a number, not a string'],
  ['an infrastructure machine without vCenter', (r) => delete r.infraMachines[0].vcenter, 'infraMachines[0].vcenter is missing'],
  ['a metadata backup that is null', (r) => (r.metadata.backup = null), 'metadata.backup is null, not a string'],
  [
    'an error severity outside its values',
    (r) => (r.errors = [{ scope: 'backup', message: 'x', severity: 'fatal' }]),
    'errors[0].severity is "fatal", not one of error, warning',
  ],
];

for (const [name, tamper, message] of cases) {
  test(`refused: ${name}`, (t) => {
    const report = structuredClone(driftedReport()) as any;
    tamper(report);
    const err = t.throws(() => checkReportFields(report), { instanceOf: ReportFieldError });
    t.is(err.message, message);
  });
}

test('a report as detect writes it passes, optional fields absent or null alike', (t) => {
  const report = driftedReport() as any;
  t.is(checkReportFields(report), report);
  report.clusters[0].workers.machines[0].nodeName = null;
  t.notThrows(() => checkReportFields(report));
});
