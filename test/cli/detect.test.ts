/** `drift-detector detect` end to end: fixture backups against a real vSphere simulator. */
import test from 'ava';
import { randomUUID, X509Certificate } from 'node:crypto';
import { access, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { DriftReport, MachineReport } from '../../src/model/report.js';
import { buildBackup, writeNotAnArchive, writeTruncatedCopy } from '../fixtures/builder.js';
import { capvVM, runCli, scenario, tempDir, tkgCluster, VCSIM, type CliResult } from '../helpers/scenario.js';
import type { SeedDatacenter, SeedVM } from '../helpers/seed.js';
import { closedPort } from '../helpers/vcsim.js';

function allVMs(datacenters: SeedDatacenter[]): SeedVM[] {
  return datacenters.flatMap((d) => d.vms);
}

async function detect(backupPath: string, ...flags: string[]): Promise<{ result: CliResult; report?: DriftReport; output: string }> {
  const dir = await tempDir();
  const output = join(dir, 'report.json');
  const result = await runCli(['detect', '--backup', backupPath, '-o', output, '--skip-access-apiserver', ...flags]);
  const report = await readFile(output, 'utf8').then(
    (text) => JSON.parse(text) as DriftReport,
    () => undefined,
  );
  return { result, report, output };
}

const machines = (report: DriftReport, cluster: string, part: 'controlPlane' | 'workers'): MachineReport[] =>
  report.clusters.find((c) => c.name === cluster)![part].machines;

test('no drift: every cluster Healthy, exit 0', async (t) => {
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1'), tkgCluster('wc2', { classBased: true })] });
  const { result, report } = await detect(backup.path);
  t.is(result.code, 0, result.stderr);
  t.is(report!.summary.status, 'Healthy');
  t.deepEqual(report!.summary.clusters, {
    total: 2,
    Healthy: 2,
    ManualRemediationNotRequired: 0,
    ManualRemediationRequired: 0,
    NeedFurtherConfirmation: 0,
  });
  t.is(report!.clusters.flatMap((c) => [...c.controlPlane.machines, ...c.workers.machines]).length, 6);
  t.is(report!.metadata!.apiServerAccess, false);
});

test('a workload cluster carrying the management role label outside tkg-system is judged: its Ghost is found, with a warning', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { labels: { 'cluster-role.tkg.tanzu.vmware.com/management': 'yes' } })] },
    { mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`)) },
  );
  const { report } = await detect(backup.path);
  t.is(report!.summary.status, 'ManualRemediationRequired');
  t.is(machines(report!, 'wc1', 'workers').filter((m) => m.status === 'Ghost').length, 1);
  t.deepEqual(report!.infraMachines, []);
  t.true(
    report!.errors.some(
      (e) =>
        e.scope === 'cluster:default/wc1' &&
        e.severity === 'warning' &&
        /carries the label cluster-role\.tkg\.tanzu\.vmware\.com\/management but is not in tkg-system/.test(e.message),
    ),
  );
});

test('workers scaled out after the backup: the new VM is a Ghost worker', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`)),
    },
  );
  const { result, report } = await detect(backup.path, '--exit-code');
  t.is(result.code, 1);
  t.is(report!.summary.status, 'ManualRemediationRequired');
  const ghost = machines(report!, 'wc1', 'workers').filter((m) => m.status === 'Ghost');
  t.is(ghost.length, 1);
  t.regex(ghost[0]!.name, /-zzzzz$/);
  t.is(report!.clusters[0]!.controlPlane.status, 'Healthy');
});

test('workers scaled in after the backup: the removed machine is Stale, nothing to do', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs, b) => {
        const gone = b.clusters[0]!.machines.find((m) => !m.controlPlane)!.name;
        dcs[0]!.vms = dcs[0]!.vms.filter((vm) => vm.name !== gone);
      },
    },
  );
  const { result, report } = await detect(backup.path, '--exit-code');
  t.is(result.code, 0);
  t.is(report!.summary.status, 'ManualRemediationNotRequired');
  t.deepEqual(
    machines(report!, 'wc1', 'workers')
      .map((m) => m.status)
      .sort(),
    ['Healthy', 'Stale'],
  );
});

test('a control-plane machine replaced after the backup: Ghost and Stale on the control plane', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { controlPlane: 3 })] },
    {
      mutate: (dcs, b) => {
        const c = b.clusters[0]!;
        const gone = c.machines.find((m) => m.controlPlane)!.name;
        dcs[0]!.vms = dcs[0]!.vms.filter((vm) => vm.name !== gone);
        dcs[0]!.vms.push(capvVM(`${c.controlPlaneName}-qqqqq`));
      },
    },
  );
  const { report } = await detect(backup.path);
  const cp = report!.clusters[0]!.controlPlane;
  t.is(cp.status, 'ManualRemediationRequired');
  t.deepEqual(cp.machines.map((m) => m.status).sort(), ['Ghost', 'Healthy', 'Healthy', 'Stale']);
  t.regex(cp.machines.find((m) => m.status === 'Ghost')!.reason, /etcd member/);
  t.is(report!.clusters[0]!.workers.status, 'Healthy');
});

test('a cluster deleted after the backup: all its machines Stale', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1'), tkgCluster('wc2')] },
    {
      mutate: (dcs) => {
        dcs[0]!.vms = dcs[0]!.vms.filter((vm) => !vm.name.startsWith('wc2-'));
      },
    },
  );
  const { report } = await detect(backup.path);
  const wc2 = report!.clusters.find((c) => c.name === 'wc2')!;
  t.is(wc2.status, 'ManualRemediationNotRequired');
  t.true([...wc2.controlPlane.machines, ...wc2.workers.machines].every((m) => m.status === 'Stale'));
  t.is(report!.clusters.find((c) => c.name === 'wc1')!.status, 'Healthy');
});

test('a cluster created after the backup: its VMs need further confirmation; unrelated VMs are out of scope', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs) => {
        dcs[0]!.vms.push(capvVM('wc9-control-plane-aaaaa'), capvVM('wc9-md-0-5d6f7-bbbbb'));
        dcs[0]!.folders = [...(dcs[0]!.folders ?? []), 'apps'];
        dcs[0]!.vms.push(capvVM('database-01', { folder: 'apps', resourcePool: undefined, extraConfig: {} }));
      },
    },
  );
  const { report } = await detect(backup.path);
  t.is(report!.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.is(report!.summary.infraMachinesNeedFurtherConfirmation, 2);
  t.deepEqual(report!.infraMachines.map((m) => m.name).sort(), ['wc9-control-plane-aaaaa', 'wc9-md-0-5d6f7-bbbbb']);
  t.is(report!.summary.outOfScopeVMs, 1);
  t.false(JSON.stringify(report).includes('database-01'));
});

/** Machines in the cluster's root pool, as in most TKG installs; `folder` defaults to the root VM folder. */
const inRootPool = (name: string, folder = '/DC0/vm') =>
  tkgCluster(name, { vcenter: { server: VCSIM, datacenter: '/DC0', folder, resourcePool: '/DC0/host/DC0_C0/Resources' } });
const unrelated = (name: string, extra: Partial<SeedVM> = {}) =>
  capvVM(name, { folder: undefined, resourcePool: undefined, extraConfig: {}, ...extra });

test('a clean backup whose machines share the root pool and root folder with unrelated VMs is Healthy', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [inRootPool('wc1')] },
    {
      mutate: (dcs) => dcs[0]!.vms.push(unrelated('jumpbox'), unrelated('vcsa-01')),
    },
  );
  const { result, report } = await detect(backup.path, '--exit-code');
  t.is(result.code, 0, result.stderr);
  t.is(report!.summary.status, 'Healthy');
  t.deepEqual(report!.infraMachines, []);
  t.is(report!.summary.outOfScopeVMs, 2);
});

test('sharing the root pool: a VM with CAPV metadata, or in the dedicated folder, still needs confirmation', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [inRootPool('wc1', '/DC0/vm/tkg')] },
    {
      mutate: (dcs) =>
        dcs[0]!.vms.push(
          unrelated('jumpbox'),
          unrelated('backup-proxy', { folder: 'tkg' }),
          capvVM('wc9-md-0-5d6f7-bbbbb', { folder: undefined, resourcePool: undefined }),
        ),
    },
  );
  const { report } = await detect(backup.path);
  t.is(report!.clusters[0]!.status, 'Healthy');
  t.is(report!.summary.status, 'NeedFurtherConfirmationInfraMachines');
  t.deepEqual(
    report!.infraMachines.map((m) => [m.name, m.folder, m.resourcePool]),
    [
      ['backup-proxy', '/DC0/vm/tkg', '/DC0/host/DC0_C0/Resources'],
      ['wc9-md-0-5d6f7-bbbbb', '/DC0/vm', '/DC0/host/DC0_C0/Resources'],
    ],
  );
  t.regex(report!.infraMachines[0]!.reason, /sits in folder \/DC0\/vm\/tkg that backed-up machines use/);
  t.is(report!.summary.outOfScopeVMs, 1);
});

test('a duplicate BIOS UUID makes the machine Unknown', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs, b) => {
        const worker = b.clusters[0]!.machines.find((m) => !m.controlPlane)!;
        const vm = allVMs(dcs).find((v) => v.name === worker.name)!;
        vm.instanceUuid = randomUUID();
        dcs[0]!.vms.push(capvVM('copy-of-a-worker', { uuid: vm.uuid }));
      },
    },
  );
  const { report } = await detect(backup.path);
  const unknown = machines(report!, 'wc1', 'workers').filter((m) => m.status === 'Unknown');
  t.is(unknown.length, 1);
  t.regex(unknown[0]!.reason, /duplicate BIOS UUID/);
  t.is(report!.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.is(report!.summary.outOfScopeVMs + report!.summary.infraMachinesNeedFurtherConfirmation, 0, 'the copy is not a ghost');
});

test('templates are ignored', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs) => dcs[0]!.vms.push(capvVM('wc1-ubuntu-2204-template', { template: true, resourcePool: undefined })),
    },
  );
  const { report } = await detect(backup.path);
  t.is(report!.summary.status, 'Healthy');
  t.is(report!.summary.outOfScopeVMs, 0);
});

test('a vCenter that is down: machines Unknown, clusters NeedFurtherConfirmation, the run goes on', async (t) => {
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1')] }, { server: await closedPort() });
  const { result, report } = await detect(backup.path);
  t.is(result.code, 0, 'the report was written');
  t.is(report!.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.true(report!.summary.hasErrors);
  t.regex(report!.errors[0]!.message, /refused|unreachable/i);
  t.true([...report!.clusters[0]!.controlPlane.machines, ...report!.clusters[0]!.workers.machines].every((m) => m.status === 'Unknown'));
});

test('a pinned thumbprint that does not match is refused', async (t) => {
  const wrong = Array.from({ length: 20 }, () => 'AB').join(':');
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1')] }, { thumbprint: wrong });
  const { report } = await detect(backup.path);
  t.is(report!.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.regex(report!.errors[0]!.message, /thumbprint mismatch/);
});

test('an untrusted certificate without a thumbprint is refused unless --insecure-skip-verify', async (t) => {
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1')] }, { thumbprint: 'none' });
  const refused = await detect(backup.path);
  t.is(refused.report!.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.regex(refused.report!.errors[0]!.message, /certificate/i);
  t.regex(refused.report!.errors[0]!.message, /VSphereCluster spec\.thumbprint/, "detect's hint: the backup pins it");
  const skipped = await detect(backup.path, '--insecure-skip-verify');
  t.is(skipped.report!.summary.status, 'Healthy');
});

test('--ignore-healthy-resources lists only what needs attention, with the summary whole', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1'), tkgCluster('wc2')] },
    {
      mutate: (dcs) => dcs[0]!.vms.push(capvVM('wc1-md-0-abcde-zzzzz')),
    },
  );
  const { report } = await detect(backup.path, '--ignore-healthy-resources');
  t.deepEqual(
    report!.clusters.map((c) => c.name),
    ['wc1'],
  );
  t.deepEqual(
    machines(report!, 'wc1', 'workers').map((m) => m.status),
    ['Ghost'],
  );
  t.deepEqual(machines(report!, 'wc1', 'controlPlane'), []);
  t.is(report!.summary.clusters.total, 2);
  t.is(report!.summary.clusters.Healthy, 1);
});

test('several vCenters: one down makes only its clusters NeedFurtherConfirmation', async (t) => {
  const down = await closedPort();
  const { backup } = await scenario(t, {
    clusters: [tkgCluster('wc1'), tkgCluster('wc2', { vcenter: { server: `https://${down}/sdk`, datacenter: '/DC0' } })],
  });
  const { report } = await detect(backup.path);
  t.is(report!.clusters.find((c) => c.name === 'wc1')!.status, 'Healthy');
  t.is(report!.clusters.find((c) => c.name === 'wc2')!.status, 'NeedFurtherConfirmation');
  t.deepEqual(
    report!.errors.map((e) => e.scope),
    [`vcenter:${down}`],
  );
  t.is(report!.metadata!.vcenters.length, 2);
});

test('credentials: a refused login is reported without the password; the operator can override them for a vCenter they trust', async (t) => {
  const password = `s3cret-${randomUUID()}`;
  const { backup, vcsim } = await scenario(
    t,
    { clusters: [tkgCluster('wc1', { vcenter: { server: VCSIM, datacenter: '/DC0', password: 'stale-password' } })] },
    {
      login: { username: 'administrator@vsphere.local', password },
    },
  );
  const refused = await detect(backup.path, '-D');
  t.is(refused.report!.clusters[0]!.status, 'NeedFurtherConfirmation');
  t.regex(refused.report!.errors[0]!.message, /login/i);
  for (const text of [refused.result.stdout, refused.result.stderr, JSON.stringify(refused.report)]) {
    t.false(text.includes('stale-password'));
  }
  const dir = await tempDir();
  const output = join(dir, 'report.json');
  const operator = { VSPHERE_USERNAME: 'administrator@vsphere.local', VSPHERE_PASSWORD: password };
  // The backup pins vcsim's thumbprint, but the backup vouches for its own credentials only.
  const notSent = await runCli(['detect', '--backup', backup.path, '-o', output, '--skip-access-apiserver'], operator);
  t.is(notSent.code, 0, notSent.stderr);
  const refusedReport = JSON.parse(await readFile(output, 'utf8')) as DriftReport;
  t.regex(
    refusedReport.errors[0]!.message,
    new RegExp(`operator's vSphere credentials were not sent to ${vcsim.server}: .*--vsphere-trusted-host ${vcsim.server}`),
  );
  t.is(refusedReport.clusters[0]!.status, 'NeedFurtherConfirmation');
  const overridden = await runCli(
    ['detect', '--backup', backup.path, '-o', output, '--skip-access-apiserver', '-D', '--vsphere-trusted-host', vcsim.server],
    operator,
  );
  t.is(overridden.code, 0, overridden.stderr);
  t.is(JSON.parse(await readFile(output, 'utf8')).summary.status, 'Healthy');
  t.false(overridden.stderr.includes(password));
  t.regex(overridden.stderr, /credentials from the command line or environment/);
});

test('-D logs each step to stderr, never to stdout', async (t) => {
  const { backup } = await scenario(t, { clusters: [tkgCluster('wc1')] });
  const { result } = await detect(backup.path, '-D');
  for (const step of ['backup: reading', 'vsphere: listing', 'RetrievePropertiesEx', 'analysis: done', 'report: json written']) {
    t.true(result.stderr.includes(step), step);
  }
  t.regex(result.stderr, /API servers not contacted/);
  t.false(result.stdout.includes('[debug]'));
});

test('inventory snapshot: written from the live vCenter, then used by detect with no vCenter', async (t) => {
  const { backup, vcsim } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    {
      mutate: (dcs) => dcs[0]!.vms.push(capvVM('wc1-md-0-abcde-zzzzz')),
    },
  );
  const dir = await tempDir();
  const snapshot = join(dir, 'inventory.json');
  const inv = await runCli(['inventory', '--backup', backup.path, '-o', snapshot]);
  t.is(inv.code, 0, inv.stderr);
  t.regex(inv.stdout, /4 VMs/);
  const text = await readFile(snapshot, 'utf8');
  t.false(text.includes('instance-id'), 'no extraConfig values in the snapshot');
  // -o -: the snapshot alone on stdout (a pipe), the counts on stderr.
  const piped = await runCli(['inventory', '--backup', backup.path, '-o', '-']);
  t.is(piped.code, 0, piped.stderr);
  const pipedSnapshot = JSON.parse(piped.stdout) as { kind: string; vcenters: Array<{ vms: unknown[] }> };
  t.is(pipedSnapshot.kind, 'DriftDetectorInventory');
  t.is(pipedSnapshot.vcenters[0]!.vms.length, 4);
  t.regex(piped.stderr, /4 VMs\nInventory snapshot written to standard output\n/);
  await vcsim.stop();
  const { result, report } = await detect(backup.path, '--inventory', snapshot);
  t.is(result.code, 0, result.stderr);
  t.is(report!.summary.status, 'ManualRemediationRequired');

  const byServer = await runCli(['inventory', '--server', vcsim.server, '-o', join(dir, 'down.json')], {
    VSPHERE_USERNAME: 'u',
    VSPHERE_PASSWORD: 'p',
  });
  t.is(byServer.code, 2, 'a vCenter that cannot be read writes no snapshot');
  await t.throwsAsync(access(join(dir, 'down.json')));
});

test('inventory --server: an untrusted certificate names its thumbprint and hints --thumbprint, which then pins it', async (t) => {
  const { vcsim } = await scenario(t, { clusters: [tkgCluster('wc1')] });
  const dir = await tempDir();
  const login = { VSPHERE_USERNAME: 'u', VSPHERE_PASSWORD: 'p' };
  const refused = await runCli(['inventory', '--server', vcsim.server, '-o', join(dir, 'a.json')], login);
  t.is(refused.code, 2);
  t.true(refused.stderr.includes(`is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT); its SHA-1 thumbprint is ${vcsim.thumbprint}`), refused.stderr);
  t.regex(refused.stderr, /pin this thumbprint with --server <vCenter> --thumbprint <SHA-1>/);
  t.false(refused.stderr.includes('VSphereCluster'), 'inventory --server reads no backup: its hint is its own flag');

  const wrong = Array.from({ length: 20 }, () => 'AB').join(':');
  const mismatch = await runCli(['inventory', '--server', vcsim.server, '--thumbprint', wrong, '-o', join(dir, 'b.json')], login);
  t.is(mismatch.code, 2);
  t.regex(mismatch.stderr, /thumbprint mismatch .*; check the certificate before you give its new thumbprint with --thumbprint/);

  const pinned = await runCli(['inventory', '--server', vcsim.server, '--thumbprint', vcsim.thumbprint, '-o', join(dir, 'c.json')], login);
  t.is(pinned.code, 0, pinned.stderr);
  t.regex(pinned.stdout, /Inventory snapshot written to /);

  // The hint's other way: trust the certificate's CA (vcsim's certificate is its own).
  const ca = join(dir, 'ca.pem');
  await writeFile(ca, await peerCertificatePem(vcsim.server));
  const trusted = await runCli(['inventory', '--server', vcsim.server, '-o', join(dir, 'd.json')], { ...login, NODE_EXTRA_CA_CERTS: ca });
  t.is(trusted.code, 0, trusted.stderr);
});

/** The certificate a TLS server presents, as PEM. */
function peerCertificatePem(server: string): Promise<string> {
  const [host, port] = server.split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: host!, port: Number(port), rejectUnauthorized: false, timeout: 10_000 }, () => {
      const pem = new X509Certificate(socket.getPeerCertificate().raw).toString();
      socket.end();
      resolve(pem);
    });
    socket.once('error', reject);
    socket.once('timeout', () => socket.destroy(new Error(`no TLS answer from ${server}`)));
  });
}

test('detect -h lists the original flags', async (t) => {
  const { code, stdout } = await runCli(['detect', '-h']);
  t.is(code, 0);
  for (const flag of [
    '--backup',
    '--format',
    '-h, --help',
    '--ignore-healthy-resources',
    '--insecure-skip-verify',
    '-o, --output',
    '--skip-access-apiserver',
  ]) {
    t.true(stdout.includes(flag), flag);
  }
  const root = await runCli(['-h']);
  t.true(root.stdout.includes('-D, --debug'));
});

test('usage mistakes exit 2 with a clear message', async (t) => {
  const noOutput = await runCli(['detect', '--backup', 'x.tar.gz']);
  t.is(noOutput.code, 2);
  t.regex(noOutput.stderr, /-o, --output/);
  const badFormat = await runCli(['detect', '--backup', 'x.tar.gz', '-o', 'r.json', '--format', 'yaml']);
  t.is(badFormat.code, 2);
  t.regex(badFormat.stderr, /json/);
});

// Bad input (issue: backup reader): exit 2, an error naming the file and the entry, no report.
const badBackups: { title: string; make: (dir: string, good: string) => Promise<string>; expect: RegExp }[] = [
  {
    title: 'not gzip or tar',
    make: async (dir) => {
      const p = join(dir, 'notes.tar.gz');
      await writeNotAnArchive(p);
      return p;
    },
    expect: /notes\.tar\.gz/,
  },
  {
    title: 'truncated',
    make: async (dir, good) => {
      const p = join(dir, 'truncated.tar.gz');
      await writeTruncatedCopy(good, p, { fraction: 0.5 });
      return p;
    },
    expect: /truncated\.tar\.gz.*(truncated|unexpected end)/i,
  },
  {
    title: 'an entry that is not JSON',
    make: async (dir) =>
      (
        await buildBackup(
          {
            clusters: [tkgCluster('wc1')],
            extra: [{ path: 'resources/machines.cluster.x-k8s.io/namespaces/default/broken.json', content: '{not json' }],
          },
          { path: join(dir, 'broken.tar.gz') },
        )
      ).path,
    expect: /broken\.tar\.gz.*resources\/machines\.cluster\.x-k8s\.io\/namespaces\/default\/broken\.json/,
  },
  {
    title: 'no Cluster API objects at all',
    make: async (dir) => (await buildBackup({ clusters: [] }, { path: join(dir, 'empty.tar.gz') })).path,
    expect: /empty\.tar\.gz.*Cluster API/,
  },
];

for (const bad of badBackups) {
  test(`bad input, ${bad.title}: exit 2, the file and entry named, no report written`, async (t) => {
    const dir = await tempDir();
    const good = (await buildBackup({ clusters: [tkgCluster('wc1')] }, { path: join(dir, 'good.tar.gz') })).path;
    const path = await bad.make(dir, good);
    const output = join(dir, 'report.json');
    const result = await runCli(['detect', '--backup', path, '-o', output, '--skip-access-apiserver']);
    t.is(result.code, 2);
    t.regex(result.stderr.replace(/\n/g, ' '), bad.expect);
    t.deepEqual(
      (await readdir(dir)).filter((f) => f.includes('report')),
      [],
    );
  });
}

test('a missing backup file is a clear error', async (t) => {
  const dir = await tempDir();
  const result = await runCli(['detect', '--backup', join(dir, 'nope.tar.gz'), '-o', join(dir, 'r.json')]);
  t.is(result.code, 2);
  t.regex(result.stderr, /nope\.tar\.gz/);
});

test('an earlier report is left whole when a run fails', async (t) => {
  const dir = await tempDir();
  const output = join(dir, 'report.json');
  await writeFile(output, '{"previous":true}');
  const bad = join(dir, 'bad.tar.gz');
  await writeNotAnArchive(bad);
  const result = await runCli(['detect', '--backup', bad, '-o', output]);
  t.is(result.code, 2);
  t.is(await readFile(output, 'utf8'), '{"previous":true}');
});

test('json and html in one run: --format json,html pairs with the -o files; an .html file alone is html', async (t) => {
  const { backup } = await scenario(
    t,
    { clusters: [tkgCluster('wc1')] },
    { mutate: (dcs, b) => dcs[0]!.vms.push(capvVM(`${b.clusters[0]!.machineDeploymentName}-7f9c8d-zzzzz`)) },
  );
  const dir = await tempDir();
  const both = await runCli([
    'detect',
    '--backup',
    backup.path,
    '--skip-access-apiserver',
    '--format',
    'json,html',
    '-o',
    join(dir, 'r.json'),
    '-o',
    join(dir, 'r.html'),
  ]);
  t.is(both.code, 0, both.stderr);
  const report = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as DriftReport;
  const html = await readFile(join(dir, 'r.html'), 'utf8');
  t.regex(html, /^<!doctype html>/);
  t.true(html.includes(`<b id="count-required">${report.summary.clusters.ManualRemediationRequired}</b>`));
  t.regex(html, /Remediation plan/);
  t.is((await runCli(['detect', '--backup', backup.path, '--skip-access-apiserver', '-o', join(dir, 'only.html')])).code, 0);
  t.regex(await readFile(join(dir, 'only.html'), 'utf8'), /^<!doctype html>/);
  const mismatch = await runCli(['detect', '--backup', backup.path, '--format', 'json,html', '-o', join(dir, 'x.json')]);
  t.is(mismatch.code, 2);
  t.regex(mismatch.stderr, /one -o per format/);
});
