/** `drift-detector check` run: the service's Check, its verdicts on stdout, the exit code from them. */
import { readBearerTokenFile } from '../rpc/bearer.js';
import { clearTextRefusal, ServiceClient, usesTls, type ClientCredentials } from '../rpc/client.js';
import { SERVICE_NAMES } from '../rpc/protos.js';
import { presentsTls } from '../rpc/tls-probe.js';
import { ServiceError, statusName } from '../rpc/service-error.js';
import type { ReportError } from '../model/report.js';
import { errorSections } from '../report/console.js';
import type { CheckFlags } from './check-flags.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, UsageError } from './errors.js';
import { readTextOr, unreadableReason } from '../util/files.js';

interface ClusterVerdict {
  namespace: string;
  name: string;
  status: string;
  verdict: string;
  overridden: boolean;
  action: string;
  reason: string;
}

interface CheckResponse {
  verdict: string;
  clusters: ClusterVerdict[];
  backup: string;
  summary_status: string;
  /** Absent from a service older than this client. */
  errors?: ReportError[];
  /** Why the backup was not checked (absent from a bucket that answered); empty when it was. */
  not_checked?: string;
}

const TLS_HINT = 'use --ca (or --tls)';

/**
 * A failed call, in words that say what to do: a clear-text channel refused by a server that
 * presents TLS names the flag that is missing, instead of grpc-js's `No connection established`.
 */
export async function explainedFailure(what: string, flags: CheckFlags, err: ServiceError): Promise<Error> {
  const detail = `${what} at ${flags.server}: ${callFailure(err)}`;
  const clearText = !usesTls({ tls: flags.tls, caCert: flags.ca, clientCert: flags.cert });
  if (statusName(err.code) === 'UNAVAILABLE' && clearText && (await presentsTls(flags.server))) {
    return new Error(`${detail}; the server presents TLS: give its CA with --ca <file> (or --tls when a system CA signed its certificate)`, {
      cause: err,
    });
  }
  return new Error(detail, { cause: err });
}

/** The client of the service the flags name, after checking that they go together. */
export async function connect(flags: CheckFlags): Promise<ServiceClient> {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UsageError('check', '--cert and --key go together');
  const refusal = clearTextRefusal(
    flags.server,
    usesTls({ tls: flags.tls, caCert: flags.ca, clientCert: flags.cert }),
    flags.tokenFile !== undefined,
  );
  if (refusal) throw new UsageError('check', `${refusal}: ${TLS_HINT}`);
  return new ServiceClient(SERVICE_NAMES.driftDetector, flags.server, await clientCredentials(flags), { refusalHint: TLS_HINT });
}

export async function runCheck(flags: CheckFlags): Promise<void> {
  if (!flags.backupName) throw new UsageError('check', 'required option --backup-name <name> not given (or --watch)');
  const client = await connect(flags);
  const request = {
    backup_name: flags.backupName,
    storage_location: flags.storageLocation ?? '',
    override_reason: flags.override ?? '',
    override_clusters: (flags.overrideClusters ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== ''),
    failure_policy: flags.failurePolicy === 'Fail' ? 'FAIL' : flags.failurePolicy === 'Ignore' ? 'IGNORE' : 'FAILURE_POLICY_UNSPECIFIED',
    skip_access_apiserver: flags.skipAccessApiserver === true,
    refresh: flags.refresh === true,
  };
  let response: CheckResponse;
  try {
    response = await client.call<CheckResponse>('Check', request, { timeoutMs: flags.timeout });
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    throw await explainedFailure(`check ${flags.backupName}`, flags, err);
  } finally {
    client.close();
  }
  process.stdout.write(renderVerdicts(response));
  process.exitCode = response.verdict === 'BLOCK' ? EXIT_ACTION_NEEDED : EXIT_OK;
}

/** A failed call in words: its status, the peer's words, and what a reset stream means. */
export function callFailure(err: ServiceError): string {
  const reset = /RST_STREAM/.test(err.message)
    ? ' (the service, or a proxy on the way, reset the call without an answer: often a request larger than it accepts)'
    : '';
  return `${statusName(err.code)}: ${err.message}${reset}`;
}

export function renderVerdicts(response: CheckResponse): string {
  if (response.not_checked) return `${response.verdict}  backup ${response.backup} (not checked)\n  warning: ${response.not_checked}\n`;
  const lines = [`${response.verdict}  backup ${response.backup} (${response.summary_status || 'no clusters'})`];
  if (response.clusters.length === 0) lines.push('  the backup holds no Cluster API clusters');
  for (const c of response.clusters) {
    const mark = c.overridden ? `${c.verdict} (overridden)` : c.verdict;
    lines.push(`  ${mark.padEnd(18)} ${`${c.namespace}/${c.name}`.padEnd(32)} ${c.status.padEnd(30)} ${c.reason}`);
  }
  // Each cause once (a vCenter that could not be listed); the clusters' reasons refer to it by scope.
  lines.push(...errorSections(response.errors ?? []));
  return `${lines.join('\n')}\n`;
}

/** The files the flags name, read: PEM texts whole, the token trimmed. */
async function clientCredentials(flags: CheckFlags): Promise<ClientCredentials> {
  const pem = async (path: string | undefined, flag: string) => (path ? readSecretFile(path, flag) : undefined);
  const [caCert, clientCert, clientKey, token] = await Promise.all([
    pem(flags.ca, '--ca'),
    pem(flags.cert, '--cert'),
    pem(flags.key, '--key'),
    flags.tokenFile ? readToken(flags.tokenFile) : undefined,
  ]);
  return {
    ...(flags.tls ? { tls: true } : {}),
    ...(caCert !== undefined ? { caCert } : {}),
    ...(clientCert !== undefined ? { clientCert } : {}),
    ...(clientKey !== undefined ? { clientKey } : {}),
    ...(token ? { token } : {}),
  };
}

async function readSecretFile(path: string, flag: string): Promise<string> {
  return readTextOr(path, (why) => new UsageError('check', `${flag} ${path}: cannot read it (${why})`));
}

async function readToken(path: string): Promise<string> {
  const read = await readBearerTokenFile(path).catch((err: unknown) => {
    throw new UsageError('check', `--token-file ${path}: cannot read it (${unreadableReason(err)})`);
  });
  if ('problem' in read) throw new UsageError('check', `--token-file: the token file ${path} ${read.problem}`);
  return read.token;
}
