/**
 * Prometheus metrics of the service, on their own registry (so several servers can live in one
 * process, as in tests) and served over plain HTTP on a separate port, since gRPC is HTTP/2.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createReadinessMetrics, type ReadinessGauges } from './readiness-metrics.js';

export interface ServiceMetrics {
  registry: Registry;
  detections: Counter<'result'>;
  detectionDuration: Histogram<'result'>;
  verdicts: Counter<'verdict' | 'action' | 'source'>;
  cacheHits: Counter<'kind'>;
  cacheMisses: Counter;
  requests: Counter<'method' | 'code'>;
  /** The readiness watch's gauges and counters (series only once a watch runs). */
  readiness: ReadinessGauges;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'drift_detector_' });
  return {
    registry,
    detections: new Counter({
      name: 'drift_detector_detections_total',
      help: 'Drift analyses run, by result (ok, error)',
      labelNames: ['result'],
      registers: [registry],
    }),
    detectionDuration: new Histogram({
      name: 'drift_detector_detection_duration_seconds',
      help: 'Duration of one drift analysis (backup read, vCenter listing, workload Nodes, comparison)',
      labelNames: ['result'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    verdicts: new Counter({
      name: 'drift_detector_gate_verdicts_total',
      help: 'Restore gate decisions, by verdict (ALLOW, BLOCK), action (restore, pause, fail) and source (execute, check)',
      labelNames: ['verdict', 'action', 'source'],
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'drift_detector_analysis_cache_hits_total',
      help: 'Calls answered by an analysis already finished (cached) or already in flight (shared)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: 'drift_detector_analysis_cache_misses_total',
      help: 'Calls that started a new analysis',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'drift_detector_grpc_requests_total',
      help: 'gRPC calls handled, by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    readiness: createReadinessMetrics(registry),
  };
}

/** `GET /metrics` (and `/healthz`) on a plain HTTP listener. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500).end();
        },
      );
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404).end();
    }
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
