/**
 * The body of an AdmissionReview, read so that no client can make the webhook hold much: a body
 * declared larger than the bound is refused before a byte of it is read; a body sent without a
 * length (chunked) is cut as soon as it passes the bound; and beyond the first bytes of each
 * request (all a Restore's review needs), the bytes held by every request at once draw on one
 * shared budget, so hundreds of clients stalling halfway through large bodies cost a fixed amount.
 */
import type { IncomingMessage } from 'node:http';

/** What each request may hold without drawing on the shared budget. */
const FREE_BYTES_PER_REQUEST = 64 * 1024;

/** Refused: `status` 413 (too large) or 503 (the shared budget is spent); the connection is to be closed. */
export class BodyRefused extends Error {
  constructor(
    readonly status: 413 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** The bytes of request bodies held beyond each request's free share, across all requests. */
export class BodyBudget {
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get held(): number {
    return this.used;
  }
}

export function readBoundedBody(req: IncomingMessage, maxBytes: number, budget: BodyBudget): Promise<string> {
  const tooLarge = () => new BodyRefused(413, `the AdmissionReview is larger than ${maxBytes} bytes`);
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let borrowed = 0;
    const release = () => {
      budget.give(borrowed);
      borrowed = 0;
    };
    const refuse = (err: BodyRefused) => {
      // Nothing more is kept: whatever still comes flows past, dropped (the caller closes the connection).
      req.removeAllListeners('data');
      req.removeAllListeners('end');
      chunks.length = 0;
      release();
      reject(err);
      req.resume();
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) return refuse(tooLarge());
      const beyond = Math.max(0, size - FREE_BYTES_PER_REQUEST) - borrowed;
      if (beyond > 0) {
        if (!budget.take(beyond)) return refuse(new BodyRefused(503, 'too many large AdmissionReviews at once; retry'));
        borrowed += beyond;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      release();
      resolve(body);
    });
    // A client that goes (or is cut off by the request timeout) gives its share back.
    req.on('close', release);
    req.on('error', (err) => {
      release();
      reject(err);
    });
  });
}
