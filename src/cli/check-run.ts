import { readFile } from 'node:fs/promises';
import { credentials as grpcCredentials, Metadata, status, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import { isLoopbackListen } from '../grpc/config.js';
import { loadProto, PROTO_FILES } from '../rpc/protos.js';
import type { CheckFlags } from './check-flags.js';
import { EXIT_ACTION_NEEDED, EXIT_OK, UsageError } from './errors.js';

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
}

export async function runCheck(flags: CheckFlags): Promise<void> {
  if (!flags.backupName) throw new UsageError('check', 'required option --backup-name <name> not given');
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UsageError('check', '--cert and --key go together');
  const useTls = flags.tls === true || flags.ca !== undefined || flags.cert !== undefined;
  if (flags.tokenFile && !useTls && !isLoopbackListen(flags.server)) {
    throw new UsageError('check', `refusing to send the token in clear text to ${flags.server}: use --ca (or --tls)`);
  }
  const channel = await channelCredentials(flags, useTls);
  const metadata = new Metadata();
  if (flags.tokenFile) metadata.set('authorization', `Bearer ${await readSecretFile(flags.tokenFile, '--token-file')}`);

  const pkg = grpc.loadPackageDefinition(loadProto(PROTO_FILES.driftDetector)) as unknown as {
    driftdetector: { v1: { DriftDetector: new (address: string, credentials: ChannelCredentials) => Client } };
  };
  const client = new pkg.driftdetector.v1.DriftDetector(flags.server, channel);
  const request = {
    backup_name: flags.backupName,
    storage_location: flags.storageLocation ?? '',
    override_reason: flags.override ?? '',
    override_clusters: (flags.overrideClusters ?? '').split(',').map((c) => c.trim()).filter((c) => c !== ''),
    failure_policy: flags.failurePolicy === 'Fail' ? 'FAIL' : flags.failurePolicy === 'Ignore' ? 'IGNORE' : 'FAILURE_POLICY_UNSPECIFIED',
    skip_access_apiserver: flags.skipAccessApiserver === true,
    refresh: flags.refresh === true,
  };
  let response: CheckResponse;
  try {
    response = await new Promise<CheckResponse>((resolve, reject) => {
      (client as unknown as { Check: Function }).Check(
        request,
        metadata,
        { deadline: Date.now() + flags.timeout * 1000 },
        (err: ServiceError | null, res: CheckResponse) => (err ? reject(err) : resolve(res)),
      );
    });
  } catch (err) {
    const e = err as ServiceError;
    throw new Error(`check ${flags.backupName} at ${flags.server}: ${status[e.code] ?? e.code}: ${e.details || e.message}`);
  } finally {
    client.close();
  }
  process.stdout.write(renderVerdicts(response));
  process.exitCode = response.verdict === 'BLOCK' ? EXIT_ACTION_NEEDED : EXIT_OK;
}

export function renderVerdicts(response: CheckResponse): string {
  const lines = [`${response.verdict}  backup ${response.backup} (${response.summary_status || 'no clusters'})`];
  if (response.clusters.length === 0) lines.push('  the backup holds no Cluster API clusters');
  for (const c of response.clusters) {
    const mark = c.overridden ? `${c.verdict} (overridden)` : c.verdict;
    lines.push(`  ${mark.padEnd(18)} ${`${c.namespace}/${c.name}`.padEnd(32)} ${c.status.padEnd(30)} ${c.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

async function channelCredentials(flags: CheckFlags, useTls: boolean): Promise<ChannelCredentials> {
  if (!useTls) return grpcCredentials.createInsecure();
  const pem = async (path: string | undefined, flag: string) => (path ? Buffer.from(await readSecretFile(path, flag, false)) : null);
  return grpcCredentials.createSsl(await pem(flags.ca, '--ca'), await pem(flags.key, '--key'), await pem(flags.cert, '--cert'));
}

async function readSecretFile(path: string, flag: string, trim = true): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return trim ? text.trim() : text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError('check', `${flag} ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`);
  }
}
