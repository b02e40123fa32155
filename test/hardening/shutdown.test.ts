/**
 * Shutdown with an analysis still running: calls are cancelled at the shutdown timeout, and the
 * analysis' own work is aborted then too, so nothing keeps the process alive.
 */
import test from 'ava';
import { status, type ServiceError } from '@grpc/grpc-js';
import { call, FakeDetection, standardReport, startTestService } from '../grpc/helpers.js';

test('shutdown aborts a running analysis at the timeout, and the call in flight is cancelled', async (t) => {
  const fake = new FakeDetection();
  fake.reports.set('b1', standardReport('b1'));
  fake.delayMs = 10 * 60 * 1000; // an analysis that would run far past the shutdown
  const service = await startTestService({ deps: fake.deps() });
  t.teardown(() => service.clients.close());
  const inFlight = call(service.clients.detector, 'Detect', { backup_name: 'b1' });
  while (fake.calls.length === 0) await new Promise((r) => setTimeout(r, 20));
  const signal = fake.calls[0]!.options.signal!;
  const started = Date.now();
  await service.running.shutdown(500);
  const err = await t.throwsAsync<ServiceError>(inFlight);
  t.is(err.code, status.CANCELLED);
  t.true(signal.aborted, "the analysis' work was aborted");
  t.regex(String((signal.reason as Error).message), /shutting down/);
  t.true(Date.now() - started < 1500, `shutdown took ${Date.now() - started} ms`);
});
