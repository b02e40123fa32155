/**
 * The HTTP library every Kubernetes call sends through: client-node's own reads a whole answer
 * into memory however large it is, so a list of Backups with huge annotations, or a hostile API
 * server, could hold gigabytes before the deadline ends the call. This one counts the bytes of
 * each answer as they arrive and stops reading past a bound.
 */
import http from 'node:http';
import https from 'node:https';
import type { HttpLibrary, RequestContext } from '@kubernetes/client-node';

/** An answer larger than the bound: the request was stopped there. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`an answer larger than ${maxBytes} bytes`);
  }
}

/** A library for one call whose answers are read up to `maxBytes` each. */
export async function boundedHttpLibrary(maxBytes: number): Promise<HttpLibrary> {
  const k8s = await import('@kubernetes/client-node');
  return k8s.wrapHttpLibrary({
    send: async (request) => {
      const { status, headers, body } = await exchange(request, maxBytes);
      return new k8s.ResponseContext(status, headers, { text: async () => body.toString('utf8'), binary: async () => body });
    },
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function exchange(request: RequestContext, maxBytes: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const url = new URL(request.getUrl());
    const agent = request.getAgent();
    const body = request.getBody();
    if (body !== undefined && typeof body !== 'string') {
      reject(new Error('a request body that is not text'));
      return;
    }
    const send = url.protocol === 'http:' ? http.request : https.request;
    const signal = request.getSignal();
    const req = send(url, {
      method: request.getHttpMethod(),
      headers: { ...request.getHeaders(), ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
      ...(agent ? { agent } : {}),
      ...(signal ? { signal } : {}),
    });
    const tooLarge = () => {
      reject(new ResponseTooLargeError(maxBytes));
      req.destroy();
    };
    req.once('error', reject);
    req.once('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();
      let chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        if (length > maxBytes) return;
        length += chunk.length;
        if (length <= maxBytes) return void chunks.push(chunk);
        chunks = [];
        tooLarge();
      });
      res.once('error', reject);
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: Buffer.concat(chunks) }));
    });
    req.end(body);
  });
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
