/**
 * The admission webhook door of `serve`: HTTPS on its own listener (webhook.listen), POST
 * /validate/restores with an AdmissionReview, answered by the RestoreAdmission use case. The
 * certificate and key are re-read when the files change (cert-manager rotates them in place): the
 * next handshake presents the new certificate, connections open keep theirs.
 *
 * Bounds (docs/restore-gate.md §9; DEFAULTS.webhook): the TLS handshake and the headers, the
 * whole request (the deadline plus a little), idle keep-alive, connections at once, and the body
 * (body.ts: refused from its declared length before it is read, cut when it grows past the bound,
 * large bodies held at once from one budget). A body the door cannot read is HTTP 400; anything the
 * use case did not expect is HTTP 500, and the API server applies the configuration's failurePolicy.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { RestoreAdmission } from '../app/admission.js';
import { hostOf, joinHostPort } from '../config/addresses.js';
import { DEFAULTS } from '../config/defaults.js';
import type { WebhookConfig } from '../config/service-config.js';
import type { Logger } from '../util/jsonlog.js';
import { errorMessage } from '../util/values.js';
import { BodyBudget, BodyRefused, readBoundedBody } from './body.js';
import { MalformedReview, parseReview, reviewResponse } from './review.js';

/** The path the ValidatingWebhookConfiguration calls (deploy/webhook). */
export const WEBHOOK_PATH = '/validate/restores';
/** Largest AdmissionReview read; a Restore with its AdmissionReview envelope is a few KiB. */
export const MAX_REVIEW_BYTES = 1024 * 1024;
/** How often Node checks the header and request timeouts of open connections (its default is 30 s). */
const TIMEOUT_CHECK_MS = 1000;
/** After a refusal, how long the answer has to reach the client before the connection is destroyed. */
const CLOSE_GRACE_MS = 1000;

export interface WebhookOptions {
  config: WebhookConfig;
  admission: RestoreAdmission;
  logger: Logger;
  /** How often the TLS files are checked for change. */
  certPollMs?: number;
}

export interface RunningWebhook {
  /** `host:port` bound, with the real port. */
  address: string;
  port: number;
  /** Re-reads the TLS files now; true when the served certificate changed. */
  reloadCertificate(): Promise<boolean>;
  close(): Promise<void>;
}

interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

async function readKeyPair(config: WebhookConfig): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readFile(config.certFile), readFile(config.keyFile)]);
  return { cert, key };
}

export async function startWebhook(options: WebhookOptions): Promise<RunningWebhook> {
  const { config, logger } = options;
  let current = await readKeyPair(config).catch((err: unknown) => {
    throw new Error(`webhook.tls: cannot read ${config.certFile} or ${config.keyFile}: ${errorMessage(err)}`);
  });
  const limits = DEFAULTS.webhook;
  const budget = new BodyBudget(limits.maxBufferedBytes);
  const serverOptions = {
    cert: current.cert,
    key: current.key,
    minVersion: 'TLSv1.2' as const,
    handshakeTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  };
  const server = createServer(serverOptions, (req, res) => {
    handle(req, res, options, budget).catch((err: unknown) => {
      logger.error('webhook: request failed', { error: errorMessage(err) });
      plain(res, 500, 'drift-detector could not judge this restore; see its log');
    });
  });
  server.requestTimeout = config.deadlineMs + limits.requestSlackMs;
  server.headersTimeout = Math.min(server.requestTimeout, limits.headersTimeoutMs);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;

  const reloadCertificate = async (): Promise<boolean> => {
    let next: KeyPair;
    try {
      next = await readKeyPair(config);
      if (next.cert.equals(current.cert) && next.key.equals(current.key)) return false;
      // A half-written pair (certificate renewed, key not yet) fails here and is tried again next time.
      createSecureContext({ cert: next.cert, key: next.key });
      server.setSecureContext({ cert: next.cert, key: next.key, minVersion: 'TLSv1.2' });
    } catch (err) {
      logger.warn('webhook certificate not reloaded; serving the previous one', { error: errorMessage(err) });
      return false;
    }
    current = next;
    logger.info('webhook certificate reloaded', { certFile: config.certFile });
    return true;
  };
  const poll = setInterval(() => void reloadCertificate(), options.certPollMs ?? DEFAULTS.webhook.certPollMs);
  poll.unref();

  const host = hostOf(config.listen)!;
  const wanted = Number(config.listen.slice(config.listen.lastIndexOf(':') + 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`webhook.listen ${config.listen}: ${errorMessage(err)}`)));
    server.listen(wanted, host, () => resolve());
  }).catch((err: unknown) => {
    clearInterval(poll);
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const address = joinHostPort(host, port);
  logger.info('webhook serving', { address, path: WEBHOOK_PATH, deadlineMs: config.deadlineMs });
  return { address, port, reloadCertificate, close: () => close(server, poll) };
}

function close(server: Server, poll: NodeJS.Timeout): Promise<void> {
  clearInterval(poll);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: WebhookOptions, budget: BodyBudget): Promise<void> {
  const { logger } = options;
  const path = (req.url ?? '').split('?')[0];
  if (path !== WEBHOOK_PATH) return plain(res, 404, `not found; the webhook is served at ${WEBHOOK_PATH}`);
  if (req.method !== 'POST') return plain(res, 405, 'POST an AdmissionReview');
  // The caller's connection: when it goes, the analysis goes on for the cache, the wait ends.
  const controller = new AbortController();
  res.on('close', () => controller.abort(new Error('the caller closed the connection')));
  let body: string;
  try {
    body = await readBoundedBody(req, MAX_REVIEW_BYTES, budget);
  } catch (err) {
    // The rest of the body is not read: the answer goes, then the connection.
    if (err instanceof BodyRefused) return plain(res, err.status, err.message, { close: true });
    throw err;
  }
  let review;
  try {
    review = parseReview(body);
  } catch (err) {
    if (err instanceof MalformedReview) return plain(res, 400, `malformed AdmissionReview: ${err.message}`);
    throw err;
  }
  if (!review.restore) {
    return json(res, reviewResponse(review.uid, { allowed: true, warnings: [] }));
  }
  try {
    const answer = await options.admission.judge(review.restore, controller.signal);
    json(res, reviewResponse(review.uid, answer));
  } catch (err) {
    if (controller.signal.aborted) return;
    logger.error('webhook: restore admission failed', { uid: review.uid, error: errorMessage(err) });
    plain(res, 500, 'drift-detector could not judge this restore; see its log');
  }
}

function plain(res: ServerResponse, status: number, text: string, { close = false } = {}): void {
  if (res.headersSent || res.destroyed) return;
  const socket = res.socket;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
  if (close && socket) {
    // A lingering close: the answer is flushed and the write side ended, while what the client still
    // sends is read and dropped for a moment, so that a reset does not destroy the answer in flight.
    res.on('finish', () => {
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    });
  }
}

function json(res: ServerResponse, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}
