/**
 * Follows the objects of one resource that match a selector: a Kubernetes watch stream, and when
 * it ends or cannot be opened, a fresh listing compared with what was known (so nothing that
 * happened meanwhile is missed) before the next watch. Reports only appearances and
 * disappearances by name: what the unpause tripwire needs.
 */
import type { ApiResource } from './capi-resources.js';
import type { KubeClient } from './client.js';

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
    const opened = Date.now();
    const why = await watchOnce(client, resource, options, seen).catch((err: unknown) => `watch failed: ${(err as Error).message}`);
    if (signal.aborted) return;
    options.debug?.(`${resource.plural} in ${options.namespace}: ${why}; listing again`);
    try {
      const items = await client.listObjects(resource, { namespace: options.namespace, labelSelector: options.labelSelector }, signal);
      const present = new Set(items.map((o) => (o as { metadata?: { name?: string } }).metadata?.name ?? ''));
      for (const name of [...known]) if (!present.has(name)) seen('DELETED', { metadata: { name } });
      for (const item of items) seen('ADDED', item);
    } catch (err) {
      if (signal.aborted) return;
      options.debug?.(`${resource.plural} in ${options.namespace}: listing failed: ${(err as Error).message}`);
    }
    if (Date.now() - opened < options.relistMs) await sleep(options.relistMs, signal);
  }
}

/** One watch stream, until it ends, fails or the signal aborts; resolves with why it stopped. */
async function watchOnce(
  client: KubeClient,
  resource: ApiResource,
  options: FollowOptions,
  onEvent: (type: string, object: unknown) => void,
): Promise<string> {
  const { Watch } = await import('@kubernetes/client-node');
  const path = `/apis/${resource.group}/${resource.version}/namespaces/${encodeURIComponent(options.namespace)}/${resource.plural}`;
  return new Promise<string>((resolve) => {
    let controller: AbortController | undefined;
    let finished = false;
    const finish = (why: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(connectTimer);
      options.signal.removeEventListener('abort', onAbort);
      controller?.abort();
      resolve(why);
    };
    const onAbort = () => finish('stopped');
    options.signal.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(() => finish(`the watch did not open within ${options.connectTimeoutMs} ms`), options.connectTimeoutMs);
    new Watch(client.config)
      .watch(
        path,
        { labelSelector: options.labelSelector, allowWatchBookmarks: true },
        (type, object) => onEvent(type, object),
        (err: unknown) => finish(err ? `the watch ended: ${(err as Error).message ?? String(err)}` : 'the watch ended'),
      )
      .then((c) => {
        controller = c;
        clearTimeout(connectTimer);
        if (finished || options.signal.aborted) c.abort();
      })
      .catch((err: unknown) => finish(`the watch failed: ${(err as Error).message}`));
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
