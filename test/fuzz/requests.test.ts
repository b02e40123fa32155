/**
 * Property: what Velero and kube-apiserver send is read or refused as bad input, never an internal
 * error. The AdmissionReview parser and the admission use case over random and mutated reviews; the
 * restore gate's Execute, over gRPC, with item and restore JSON random, mutated or nested deep.
 */
import test from 'ava';
import { status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { RestoreAdmission } from '../../src/app/admission.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { MalformedReview, parseReview } from '../../src/webhook/review.js';
import { call, clusterItem, executeRequest, FakeDetection, standardReport, startTestService } from '../grpc/helpers.js';
import { veleroRestore } from '../helpers/velero.js';
import { admissionReview, restoreObject } from '../webhook/helpers.js';
import { check, isRawError, mutationsOf, within } from './fuzz.js';

/** JSON bodies: random, random values, the example mutated, nested deep, not UTF-8. */
function bodies(example: object): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.string({ maxLength: 100 }).map((s) => Buffer.from(s)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    mutationsOf(example).map((v) => Buffer.from(JSON.stringify(v))),
    mutationsOf(example).map((v) => Buffer.from(JSON.stringify(v))),
    fc
      .integer({ min: 500, max: 100_000 })
      .map((depth) =>
        Buffer.from(JSON.stringify({ ...example, deep: 0 }).replace('"deep":0', `"deep":${'['.repeat(depth)}${']'.repeat(depth)}`)),
      ),
    fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from(b), Buffer.from([0xff]), Buffer.from('"}')])),
  );
}

const REVIEW = admissionReview(restoreObject({ backupName: 'b1', labels: { 'driftdetector.dev/override': 'x' } }));

test('AdmissionReview: parsed, or refused as malformed; the admission answers or refuses as bad input', async (t) => {
  const detection = new FakeDetection();
  detection.reports.set('b1', standardReport('b1'));
  const service = await startTestService({ deps: detection.deps() });
  t.teardown(() => service.stop());
  const admission = new RestoreAdmission(service.running.service, {
    deadlineMs: 2000,
    logger: jsonLogger({ level: 'error', write: () => {} }),
  });
  await check(
    t,
    fc.asyncProperty(bodies(REVIEW), async (body) => {
      let review;
      try {
        review = parseReview(body.toString('utf8'));
      } catch (err) {
        if (err instanceof MalformedReview) return;
        throw new Error(`parseReview: ${String((err as Error).stack ?? err)}`, { cause: err });
      }
      if (!review.restore) return;
      try {
        await within(admission.judge(review.restore, new AbortController().signal), 5000, 'the admission');
      } catch (err) {
        if (isRawError(err) || (err as Error).name !== 'DomainError')
          throw new Error(`judge: ${String((err as Error).stack ?? err)}`, { cause: err });
      }
    }),
    200,
  );
});

const ITEM = JSON.parse(clusterItem('default', 'wc-ok').toString('utf8')) as object;
const RESTORE = JSON.parse(veleroRestore('b1').toString('utf8')) as object;
/** What Execute may answer: the item, a block, a missing backup, bad input; never INTERNAL or UNKNOWN. */
const ANSWERS = new Set([status.OK, status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.NOT_FOUND]);

test('RestoreItemAction Execute: item and restore JSON of any shape answer OK or a client error, never INTERNAL', async (t) => {
  const detection = new FakeDetection();
  detection.reports.set('b1', standardReport('b1'));
  const service = await startTestService({ deps: detection.deps() });
  t.teardown(() => service.stop());
  const input = fc.oneof(
    fc.tuple(bodies(ITEM), fc.constant(Buffer.from(JSON.stringify(RESTORE)))),
    fc.tuple(fc.constant(Buffer.from(JSON.stringify(ITEM))), bodies(RESTORE)),
    fc.tuple(bodies(ITEM), bodies(RESTORE)),
  );
  await check(
    t,
    fc.asyncProperty(input, fc.boolean(), async ([item, restore], v2) => {
      try {
        await call(v2 ? service.clients.riaV2 : service.clients.riaV1, 'Execute', executeRequest(item, restore));
      } catch (err) {
        const code = (err as ServiceError).code;
        if (!ANSWERS.has(code)) throw new Error(`code ${code}: ${(err as ServiceError).details}`, { cause: err });
      }
    }),
    200,
    5000,
  );
});

test('a 100,000-deep item is INVALID_ARGUMENT naming the field, not INTERNAL', async (t) => {
  const service = await startTestService({ deps: new FakeDetection().deps() });
  t.teardown(() => service.stop());
  const deep = Buffer.from(`{"metadata":{"name":"x"},"spec":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`);
  const err = await t.throwsAsync<ServiceError>(call(service.clients.riaV2, 'Execute', executeRequest(deep, veleroRestore('b1'))));
  t.is(err.code, status.INVALID_ARGUMENT);
  t.is(err.details, 'item: nested deeper than 512 levels');
});

test('an AdmissionReview nested 100,000 deep is malformed, by name', (t) => {
  const body = `{"kind":"AdmissionReview","request":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  t.throws(() => parseReview(body), { instanceOf: MalformedReview, message: 'the body is nested deeper than 512 levels' });
});
