/**
 * The key that signs the verdicts written on Backups, shared by every replica of `serve` through a
 * Secret in the service's namespace: the first replica to need it creates it with 32 random bytes;
 * the others get 409 AlreadyExists and read it. Held in memory, never logged.
 */
import { randomBytes } from 'node:crypto';
import { KubeCallError } from './call.js';
import type { KubeClient } from './client.js';

/** The Secret's data key. */
const KEY_FIELD = 'hmac-sha256-key';
/** Shorter than this is not a key this service made (a hand-written Secret, say): refused, not used. */
const MIN_KEY_BYTES = 32;

/** The key, created on first use; a failure is the caller's and is tried again at the next use. */
export function verdictKey(client: () => Promise<KubeClient>, namespace: Promise<string> | string, name: string): () => Promise<Buffer> {
  let key: Promise<Buffer> | undefined;
  return () =>
    (key ??= Promise.resolve(namespace)
      .then((ns) => createOrRead(client, ns, name))
      .catch((err: unknown) => {
        key = undefined;
        throw err;
      }));
}

async function createOrRead(client: () => Promise<KubeClient>, namespace: string, name: string): Promise<Buffer> {
  const kube = await client();
  const fresh = randomBytes(MIN_KEY_BYTES);
  const body = {
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'drift-detector' } },
    type: 'Opaque',
    data: { [KEY_FIELD]: fresh.toString('base64') },
  };
  try {
    await kube.call(`Secret ${namespace}/${name}`, 'create', ({ core }, o) => core.createNamespacedSecret({ namespace, body }, o));
    return fresh;
  } catch (err) {
    if (!(err instanceof KubeCallError && err.status === 409)) throw err;
  }
  const data = await kube.readSecretData(namespace, name);
  const key = Buffer.from(data[KEY_FIELD] ?? '', 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new Error(
      `Secret ${namespace}/${name}: ${KEY_FIELD} holds no key of ${MIN_KEY_BYTES} bytes; delete the Secret and serve creates one`,
    );
  }
  return key;
}
