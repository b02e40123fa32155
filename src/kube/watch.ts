/**
 * Follows the objects of one resource that match a selector: a listing compared with what was
 * known, then a Kubernetes watch from the listing's resourceVersion; when the watch ends or cannot
 * be opened, a fresh listing (so nothing that happened meanwhile is missed) and the next watch. Reports only appearances and
 * disappearances by name: what the unpause tripwire needs.
 */
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { ApiResource } from './capi-resources.js';
import type { KubeClient } from './client.js';
import { sleep } from '../util/sleep.js';

export type Appearance = 'ADDED' | 'DELETED';

export interface FollowOptions {
  namespace: string;
  labelSelector: string;
  /** Names present when following starts: they are not reported as added. */
  known: Iterable<string>;
  signal: AbortSignal;
  /** Pause before the next listing after a watch that could not be opened or ended at once, in ms. */
  relistMs: number;
  /** Bound on opening one watch, in ms. */
  connectTimeoutMs: number;
  /**
   * The server ends each watch after this long (`timeoutSeconds`); a listing and a new watch follow.
   * A connection that died without a word is thereby replaced too.
   */
  watchSeconds: number;
  debug?: (message: string) => void;
}

/** Calls `onChange` for every name that appears or disappears, until the signal aborts. */
export async function followObjects(
  client: KubeClient,
  resource: ApiResource,
  options: FollowOptions,
  onChange: (type: Appearance, name: string, object: unknown) => void,
): Promise<void> {
  const known = new Set(options.known);
  const seen = (type: string, object: unknown) => {
    const name = (object as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    if (typeof name !== 'string') return;
    if (type === 'ADDED' && !known.has(name)) {
      known.add(name);
      onChange('ADDED', name, object);
    } else if (type === 'DELETED' && known.delete(name)) {
      onChange('DELETED', name, object);
    }
  };
  const { signal } = options;
  while (!signal.aborted) {
    const started = Date.now();
    let resourceVersion: string | undefined;
    try {
      const listing = await client.listObjectsAt(resource, { namespace: options.namespace, labelSelector: options.labelSelector }, signal);
      const present = new Set(listing.items.map((o) => (o as { metadata?: { name?: string } }).metadata?.name ?? ''));
      for (const name of [...known]) if (!present.has(name)) seen('DELETED', { metadata: { name } });
      for (const item of listing.items) seen('ADDED', item);
      resourceVersion = listing.resourceVersion;
    } catch (err) {
      if (signal.aborted) return;
      options.debug?.(`${resource.plural} in ${options.namespace}: listing failed: ${(err as Error).message}`);
    }
    if (resourceVersion !== undefined) {
      const why = await watchOnce(client, resource, options, resourceVersion, seen);
      if (signal.aborted) return;
      options.debug?.(`${resource.plural} in ${options.namespace}: ${why}; listing again`);
    }
    if (Date.now() - started < options.relistMs) await sleep(options.relistMs, signal);
  }
}

/**
 * One watch stream, until it ends, fails or the signal aborts; resolves with why it stopped. The
 * request is made here (not by client-node's Watch) so that stopping always closes the connection,
 * even before the server has sent its headers.
 */
async function watchOnce(
  client: KubeClient,
  resource: ApiResource,
  options: FollowOptions,
  resourceVersion: string,
  onEvent: (type: string, object: unknown) => void,
): Promise<string> {
  const url = new URL(
    `${client.server}/apis/${resource.group}/${resource.version}/namespaces/${encodeURIComponent(options.namespace)}/${resource.plural}`,
  );
  url.search = new URLSearchParams({
    watch: 'true',
    labelSelector: options.labelSelector,
    resourceVersion,
    allowWatchBookmarks: 'true',
    timeoutSeconds: String(options.watchSeconds),
  }).toString();
  const request: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await client.config.applyToHTTPSOptions(request);
  return new Promise<string>((resolve) => {
    let finished = false;
    const finish = (why: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(connectTimer);
      options.signal.removeEventListener('abort', onAbort);
      req.destroy();
      resolve(why);
    };
    const onAbort = () => finish('stopped');
    const req = https.request(url, request, (res) => {
      clearTimeout(connectTimer);
      if (res.statusCode !== 200) {
        res.resume();
        return finish(`the watch was refused with HTTP ${res.statusCode}`);
      }
      const lines = createInterface({ input: res, crlfDelay: Infinity });
      lines.on('line', (line) => {
        const event = parseEvent(line);
        if (event?.type === 'ERROR') finish('the watch answered an error (its resourceVersion may be too old)');
        else if (event) onEvent(event.type, event.object);
      });
      res.on('close', () => finish('the watch ended'));
      // Closing the request makes the response (and readline, which forwards it) report `aborted`.
      const failed = (err: Error) => finish(`the watch failed: ${err.message}`);
      res.on('error', failed);
      lines.on('error', failed);
    });
    req.on('error', (err) => finish(`the watch failed: ${err.message}`));
    const connectTimer = setTimeout(() => finish(`the watch did not open within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal.aborted) finish('stopped');
    req.end();
  });
}

function parseEvent(line: string): { type: string; object: unknown } | undefined {
  try {
    const event = JSON.parse(line) as { type?: unknown; object?: unknown };
    return typeof event.type === 'string' ? { type: event.type, object: event.object } : undefined;
  } catch {
    return undefined;
  }
}
