/**
 * Reads the kubeconfig that Cluster API stores in `<cluster>-kubeconfig` (key `value`) into what
 * one HTTPS connection needs. Only embedded credentials are accepted: a kubeconfig that comes out
 * of a backup must not make the detector read local files or run credential plugins.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isMap } from '../util/values.js';
import { parseYamlText } from '../config/values.js';

/** The parts of a workload kubeconfig used to reach its API server. Holds secrets: never log it. */
export interface WorkloadCredentials {
  /** `https://host:port` without a trailing slash. */
  server: string;
  /** PEM of `certificate-authority-data`; absent: the system trust store. */
  caPem?: string;
  clientCertPem?: string;
  clientKeyPem?: string;
  token?: string;
  username?: string;
  password?: string;
  insecureSkipTLSVerify: boolean;
  tlsServerName?: string;
  /** Names from the kubeconfig, for messages. */
  clusterEntry: string;
  userEntry: string;
}

/** A kubeconfig that cannot be used; the message names the missing or bad field, never a value. */
export class WorkloadKubeconfigError extends Error {
  override name = 'WorkloadKubeconfigError';
}

type YamlMap = Record<string, unknown>;
type Fail = (what: string) => never;

/** The current context's cluster and user entries, with their names for messages. */
interface Selected {
  clusterName: string;
  userName: string;
  cluster: YamlMap;
  user: YamlMap;
  clusterField: (key: string) => string;
  userField: (key: string) => string;
}

/**
 * Parses kubeconfig YAML text. `source` names where it came from (e.g. `ns/c1-kubeconfig`) and
 * prefixes every error.
 */
export function parseWorkloadKubeconfig(text: string, source: string): WorkloadCredentials {
  const fail: Fail = (what) => {
    throw new WorkloadKubeconfigError(`the kubeconfig in ${source} is malformed: ${what}`);
  };
  const selected = selectCurrentContext(yamlRoot(text, fail), fail);
  const { cluster, clusterField } = selected;
  const server = serverOf(cluster, clusterField, fail);
  const caPem = certificateAuthority(cluster, clusterField, fail);
  refusePluginsAndFiles(selected.user, selected.userField, fail);
  const userCredentials = embeddedUserCredentials(selected.user, selected.userField, fail);
  const tlsServerName = str(cluster['tls-server-name']);
  return {
    server,
    ...(caPem ? { caPem } : {}),
    ...userCredentials,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(tlsServerName ? { tlsServerName } : {}),
    clusterEntry: selected.clusterName,
    userEntry: selected.userName,
  };
}

function yamlRoot(text: string, fail: Fail): YamlMap {
  if (text.trim() === '') fail('it is empty');
  const root = parseYamlText(text, (_, detail) => fail(`it is ${detail}`));
  if (!isMap(root)) return fail('it is not a YAML mapping');
  return root;
}

function selectCurrentContext(root: YamlMap, fail: Fail): Selected {
  const contexts = namedEntries(root, 'contexts', 'context', fail);
  let contextName = str(root['current-context']);
  if (!contextName) {
    // Cluster API always sets current-context; accept a lone context when it is missing.
    if (contexts.length !== 1) fail('current-context is missing');
    contextName = contexts[0]!.name;
  }
  const context = contexts.find((c) => c.name === contextName)?.body;
  if (!context) return fail(`current-context "${contextName}" has no entry in contexts`);
  const clusterName = str(context['cluster']) ?? fail(`contexts["${contextName}"].context.cluster is missing`);
  const userName = str(context['user']) ?? fail(`contexts["${contextName}"].context.user is missing`);

  const cluster = namedEntries(root, 'clusters', 'cluster', fail).find((c) => c.name === clusterName)?.body;
  if (!cluster) return fail(`cluster "${clusterName}" (named by the current context) has no entry in clusters`);
  const user = namedEntries(root, 'users', 'user', fail).find((u) => u.name === userName)?.body;
  if (!user) return fail(`user "${userName}" (named by the current context) has no entry in users`);
  return {
    clusterName,
    userName,
    cluster,
    user,
    clusterField: (key) => `clusters["${clusterName}"].cluster.${key}`,
    userField: (key) => `users["${userName}"].user.${key}`,
  };
}

function serverOf(cluster: YamlMap, field: (key: string) => string, fail: Fail): string {
  const raw = str(cluster['server']) ?? fail(`${field('server')} is missing`);
  let server: URL;
  try {
    server = new URL(raw);
  } catch {
    return fail(`${field('server')} is not a URL`);
  }
  if (server.protocol !== 'https:') fail(`${field('server')} is not an https:// address`);
  return server.origin + server.pathname.replace(/\/+$/, '');
}

function certificateAuthority(cluster: YamlMap, field: (key: string) => string, fail: Fail): string | undefined {
  if (cluster['certificate-authority'] !== undefined && cluster['certificate-authority-data'] === undefined) {
    fail(`${field('certificate-authority')} points to a local file; a backed-up kubeconfig must embed certificate-authority-data`);
  }
  if (cluster['certificate-authority-data'] === undefined) return undefined;
  const caPem = pemFromBase64(cluster['certificate-authority-data'], 'CERTIFICATE', field('certificate-authority-data'), fail);
  checkReadable(() => new X509Certificate(caPem), `${field('certificate-authority-data')} does not hold a readable certificate`, fail);
  return caPem;
}

/** A kubeconfig from a backup must not make the detector run a program or read a local file. */
function refusePluginsAndFiles(user: YamlMap, field: (key: string) => string, fail: Fail): void {
  for (const plugin of ['exec', 'auth-provider'] as const) {
    if (user[plugin] !== undefined && user[plugin] !== null) {
      fail(
        `${field(plugin)} asks for a credential plugin, which the detector does not run; use a kubeconfig with an embedded client certificate`,
      );
    }
  }
  for (const fileKey of ['client-certificate', 'client-key', 'token-file'] as const) {
    if (user[fileKey] !== undefined && user[fileKey] !== null) {
      fail(`${field(fileKey)} points to a local file; a backed-up kubeconfig must embed its credentials`);
    }
  }
}

type UserCredentials = Pick<WorkloadCredentials, 'clientCertPem' | 'clientKeyPem' | 'token' | 'username' | 'password'>;

/** A client certificate and key, a token, or a username and password, as embedded in the user entry. */
function embeddedUserCredentials(user: YamlMap, field: (key: string) => string, fail: Fail): UserCredentials {
  const hasCert = user['client-certificate-data'] !== undefined;
  const hasKey = user['client-key-data'] !== undefined;
  if (hasCert !== hasKey) fail(`${field(hasCert ? 'client-key-data' : 'client-certificate-data')} is missing`);
  const token = str(user['token']);
  const username = str(user['username']);
  const password = str(user['password']);
  if (!hasCert && !token && !username) {
    fail(`${field('client-certificate-data')} and ${field('client-key-data')} are missing (and there is no token)`);
  }
  return {
    ...(hasCert ? clientCertificate(user, field, fail) : {}),
    ...(token ? { token } : {}),
    ...(username ? { username, password: password ?? '' } : {}),
  };
}

function clientCertificate(user: YamlMap, field: (key: string) => string, fail: Fail): { clientCertPem: string; clientKeyPem: string } {
  const clientCertPem = pemFromBase64(user['client-certificate-data'], 'CERTIFICATE', field('client-certificate-data'), fail);
  const clientKeyPem = pemFromBase64(user['client-key-data'], 'PRIVATE KEY', field('client-key-data'), fail);
  checkReadable(() => new X509Certificate(clientCertPem), `${field('client-certificate-data')} does not hold a readable certificate`, fail);
  checkReadable(() => createPrivateKey(clientKeyPem), `${field('client-key-data')} does not hold a readable private key`, fail);
  return { clientCertPem, clientKeyPem };
}

/** Runs a parse of key material; its own error may quote the material, so only `what` is said. */
function checkReadable(parse: () => unknown, what: string, fail: Fail): void {
  try {
    parse();
  } catch {
    fail(what);
  }
}

/** The validity window of the kubeconfig's client certificate, if it has one. */
export function clientCertificateValidity(credentials: WorkloadCredentials): { notBefore: Date; notAfter: Date; subject: string } | undefined {
  if (!credentials.clientCertPem) return undefined;
  const cert = new X509Certificate(credentials.clientCertPem);
  return {
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    subject: cert.subject.replace(/\n/g, ', '),
  };
}

function namedEntries(root: YamlMap, listKey: string, bodyKey: string, fail: Fail): { name: string; body: YamlMap }[] {
  const list = root[listKey];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return fail(`${listKey} is not a list`);
  return list.map((entry: unknown, i) => {
    if (!isMap(entry)) return fail(`${listKey}[${i}] is not a mapping`);
    const name = str(entry['name']) ?? fail(`${listKey}[${i}].name is missing`);
    const body = entry[bodyKey];
    if (!isMap(body)) return fail(`${listKey}[${i}].${bodyKey} is missing`);
    return { name, body };
  });
}

function pemFromBase64(value: unknown, label: string, field: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') return fail(`${field} is empty`);
  const compact = value.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return fail(`${field} is not base64`);
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem)) return fail(`${field} does not hold a PEM ${label.toLowerCase()}`);
  return pem;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
