/**
 * `serve` assembled once and opened whole, without the CLI: the gRPC listener, the admission
 * webhook and the metrics listener all answer from the same DriftService (one analysis for the
 * watch, a Check and an admission), and one shutdown closes the three. A door that cannot open
 * closes the ones already open.
 */
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { startService } from '../../src/serve/start.js';
import { jsonLogger } from '../../src/util/jsonlog.js';
import { call, FakeDetection, makeClients, standardReport, testConfig, until } from '../grpc/helpers.js';
import { makePki, type Pki } from '../grpc/pki.js';
import { admissionReview, post, responseOf, restoreObject } from '../webhook/helpers.js';

let pki: Pki;

test.before(async () => {
  pki = await makePki();
});

test.after.always(async () => {
  await pki?.remove();
});

function serveConfig(overrides: Parameters<typeof testConfig>[0] = {}) {
  return testConfig({
    metricsListen: '127.0.0.1:0',
    webhook: { listen: '127.0.0.1:0', certFile: pki.serverCert, keyFile: pki.serverKey, deadlineMs: 20_000 },
    watch: { enabled: true, intervalMs: 60 * 60_000, events: false, source: 'bucket' },
    ...overrides,
  });
}

const insecure = { credentials: grpc.ServerCredentials.createInsecure(), vcenterCredentials: {} };

/** True when something accepts a TCP connection at `port` on loopback. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

test('gRPC, webhook and metrics open on one assembly: one analysis answers the watch, a Check and an admission', async (t) => {
  const detection = new FakeDetection();
  detection.reports.set('b1', standardReport('b1'));
  const logs: string[] = [];
  const running = await startService({
    config: serveConfig(),
    secrets: insecure,
    deps: { ...detection.deps(), catalogOf: () => ({ recentCompleted: () => Promise.resolve({ backups: [{ name: 'b1' }], future: [] }) }) },
    logger: jsonLogger({ level: 'debug', write: (line) => logs.push(line) }),
    env: {},
  });
  const clients = makeClients(running.address, grpc.credentials.createInsecure());
  try {
    await until(() => running.readiness!.snapshot()[0]?.analyzedAt !== undefined, 'the watch to analyse b1');
    const check = await call<{ verdict: string }>(clients.detector, 'Check', { backup_name: 'b1' });
    t.is(check.verdict, 'BLOCK');
    const ca = await readFile(pki.caCert);
    const admission = responseOf(await post(running.webhook!.port, ca, admissionReview(restoreObject({ backupName: 'b1' }))));
    t.false(admission.allowed);
    t.is(detection.calls.length, 1, 'the watch, the gRPC door and the webhook share one analysis');

    const metrics = await fetch(`http://${running.metricsAddress}/metrics`).then((r) => r.text());
    t.regex(metrics, /drift_detector_detections_total\{result="ok"\} 1/);
    t.regex(metrics, /drift_detector_grpc_requests_total\{method="Check",code="OK"\} 1/);
    t.regex(metrics, /drift_detector_backup_restorable\{storage_location="default",backup="b1"\} 0/);
    const serving = JSON.parse(logs.find((l) => l.includes('"@message":"serving"'))!) as Record<string, unknown>;
    t.is(serving['address'], running.address);
    t.is(serving['metrics'], running.metricsAddress);
    t.is(serving['watchSource'], 'injected');
  } finally {
    clients.close();
    await running.shutdown(2_000);
  }
  const ports = [running.port, running.webhook!.port, Number(running.metricsAddress!.split(':')[1])];
  t.deepEqual(await Promise.all(ports.map(accepts)), [false, false, false], 'every listener closed');
  t.true(logs.some((l) => l.includes('"@message":"stopped"')));
});

test('a door that cannot open closes the doors already open', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const busy = (taken.address() as AddressInfo).port;
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const grpcPort = (free.address() as AddressInfo).port;
  await new Promise((resolve) => free.close(resolve));

  const error = await t.throwsAsync(
    startService({
      config: serveConfig({ listen: `127.0.0.1:${grpcPort}`, metricsListen: `127.0.0.1:${busy}` }),
      secrets: insecure,
      deps: new FakeDetection().deps(),
      logger: jsonLogger({ level: 'error', write: () => {} }),
      env: {},
    }),
  );
  t.regex(error.message, new RegExp(`^metrics\\.listen 127\\.0\\.0\\.1:${busy}: .*EADDRINUSE`));
  t.false(await accepts(grpcPort), 'the gRPC listener opened before it is closed again');
});
