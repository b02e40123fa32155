/**
 * The admission webhook door of `serve`: HTTPS on its own listener (webhook.listen), POST
 * /validate/restores with an AdmissionReview, answered by the RestoreAdmission use case. The
 * certificate and key are re-read when the files change (cert-manager rotates them in place): the
 * next handshake presents the new certificate, connections open keep theirs.
 *
 * Bounds: the body (a Restore is a few KiB), the time of every request, and the answer itself
 * (webhook.deadline, inside the use case). A body the door cannot read is HTTP 400; anything the
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
import { MalformedReview, parseReview, reviewResponse } from './review.js';

/** The path the ValidatingWebhookConfiguration calls (deploy/webhook). */
export const WEBHOOK_PATH = '/validate/restores';
/** Largest AdmissionReview read; a Restore with its AdmissionReview envelope is a few KiB. */
export const MAX_REVIEW_BYTES = 1024 * 1024;
/** Time a request may take beyond the deadline: reading the body and writing the answer. */
const REQUEST_SLACK_MS = 2000;

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
  const server = createServer({ cert: current.cert, key: current.key, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      logger.error('webhook: request failed', { error: errorMessage(err) });
      plain(res, 500, 'drift-detector could not judge this restore; see its log');
    });
  });
  server.requestTimeout = config.deadlineMs + REQUEST_SLACK_MS;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);

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

async function handle(req: IncomingMessage, res: ServerResponse, options: WebhookOptions): Promise<void> {
  const { logger } = options;
  const path = (req.url ?? '').split('?')[0];
  if (path !== WEBHOOK_PATH) return plain(res, 404, `not found; the webhook is served at ${WEBHOOK_PATH}`);
  if (req.method !== 'POST') return plain(res, 405, 'POST an AdmissionReview');
  // The caller's connection: when it goes, the analysis goes on for the cache, the wait ends.
  const controller = new AbortController();
  res.on('close', () => controller.abort(new Error('the caller closed the connection')));
  let body: string;
  try {
    body = await readBody(req, MAX_REVIEW_BYTES);
  } catch (err) {
    return plain(res, 413, errorMessage(err));
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

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        reject(new Error(`the AdmissionReview is larger than ${max} bytes`));
        // The rest is read and dropped (bounded by the request timeout), so the 413 reaches the caller.
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function plain(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
}

function json(res: ServerResponse, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}
