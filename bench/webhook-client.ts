/**
 * The admission webhook as the API server calls it, for the service and readiness measures:
 * AdmissionReviews of a Restore of one backup over one kept-alive HTTPS connection, and the same
 * listener's 404 as the bare round trip they are compared with.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { WEBHOOK_PATH } from '../src/webhook/server.js';
import { admissionReview, restoreObject } from '../test/webhook/helpers.js';

export interface WebhookTarget {
  port: number;
  /** The CA of the webhook's certificate (a file). */
  caCert: string;
  /** The backup the Restore names. */
  backup: string;
  timeoutMs: number;
}

export function webhookClient(target: WebhookTarget): { admit(): Promise<{ allowed: boolean }>; roundTrip(): Promise<void>; close(): void } {
  const ca = readFileSync(target.caCert);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify(admissionReview(restoreObject({ backupName: target.backup })));
  const send = (path: string, payload: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: target.port,
          path,
          method: 'POST',
          ca,
          agent,
          timeout: target.timeoutMs,
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('admission timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  return {
    async admit() {
      const { status: code, text } = await send(WEBHOOK_PATH, body);
      if (code !== 200) throw new Error(`the webhook answered HTTP ${code}: ${text.slice(0, 200)}`);
      return (JSON.parse(text) as { response: { allowed: boolean } }).response;
    },
    async roundTrip() {
      await send('/bench-round-trip', '{}');
    },
    close: () => agent.destroy(),
  };
}

/** Runs `fn` `n` times one after the other; the milliseconds of each. */
export async function timeEach(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return out;
}
