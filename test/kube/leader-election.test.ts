/**
 * Leader election through a Lease on the loopback Kubernetes API, which answers 409 to a create of
 * an existing Lease and to an update at a stale resourceVersion, as the API server does. Waits are
 * bounded polls on the Lease or on who leads; the only time asserted is a lower bound (a Lease is
 * not taken before its duration has passed on the taker's clock), which load cannot break.
 */
import test from 'ava';
import { kubeClient, type KubeClient } from '../../src/kube/client.js';
import { LeaseClient, microTime, observedLease } from '../../src/kube/lease.js';
import { LeaderElector, type LeaseTiming } from '../../src/kube/leader-election.js';
import { silentLogger } from '../../src/util/jsonlog.js';
import { startKubeApi, type KubeApi } from '../helpers/kube-api.js';
import { pollUntil } from '../grpc/helpers.js';

const NAMESPACE = 'drift-detector';
const FAST: LeaseTiming = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

let api: KubeApi;
let client: KubeClient;
test.before(async () => {
  api = await startKubeApi();
  client = await kubeClient(api.kubeConfig, { timeoutMs: 5000 });
});
test.after.always(() => api?.stop());

interface Replica {
  elector: LeaderElector;
  identity: string;
  /** Each leadership: when it started and, once over, when its work had stopped. */
  terms: { started: number; ended?: number }[];
}

function replica(lease: string, identity: string, timing: LeaseTiming = FAST): Replica {
  const terms: Replica['terms'] = [];
  const elector = new LeaderElector({
    ...timing,
    lease: new LeaseClient(async () => client, NAMESPACE, lease),
    identity,
    logger: silentLogger,
    lead: async (signal) => {
      const term: { started: number; ended?: number } = { started: Date.now() };
      terms.push(term);
      signal.addEventListener('abort', () => (term.ended = Date.now()), { once: true });
    },
  });
  return { elector, identity, terms };
}

const leaseOf = (name: string) => {
  const stored = api.get('coordination.k8s.io/v1', 'Lease', NAMESPACE, name);
  return stored ? observedLease(stored).record : undefined;
};

test('of two replicas exactly one leads, and the Lease names it', async (t) => {
  const a = replica('two', 'pod-a_1');
  const b = replica('two', 'pod-b_2');
  a.elector.start();
  b.elector.start();
  t.teardown(() => Promise.all([a.elector.stop(), b.elector.stop()]));
  await pollUntil(
    async () => [a.elector.isLeader, b.elector.isLeader],
    (leading) => leading.includes(true),
    20_000,
    'a leader',
  );
  // Several retry periods later, still exactly one.
  await new Promise((r) => setTimeout(r, 5 * FAST.retryPeriodMs));
  t.not(a.elector.isLeader, b.elector.isLeader);
  const leader = a.elector.isLeader ? a : b;
  const record = leaseOf('two')!;
  t.is(record.holderIdentity, leader.identity);
  t.is(record.leaseDurationSeconds, 2, 'whole seconds, rounded up');
  t.is(record.leaseTransitions, 0);
  t.regex(record.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'a MicroTime');
  const writes = api.requests.filter((r) => r.path.includes('/leases') && (r.method === 'PUT' || r.method === 'POST'));
  t.true(
    writes.filter((r) => r.method === 'PUT').every((r) => typeof r.body?.metadata?.resourceVersion === 'string'),
    'every update names the resourceVersion it read',
  );
});

test('a write at a stale resourceVersion is a Conflict: the LeaseClient says nobody took it', async (t) => {
  const lease = new LeaseClient(async () => client, NAMESPACE, 'stale');
  const now = microTime(Date.now());
  const created = await lease.create({ holderIdentity: 'x', leaseDurationSeconds: 15, renewTime: now, acquireTime: now, leaseTransitions: 0 });
  t.truthy(created);
  t.is(await lease.create({ holderIdentity: 'y', leaseDurationSeconds: 15, leaseTransitions: 0 }), undefined, '409 AlreadyExists');
  const first = await lease.update(created!.resourceVersion, { ...created!.record, holderIdentity: 'y' });
  t.is(first?.record.holderIdentity, 'y');
  t.is(await lease.update(created!.resourceVersion, { ...created!.record, holderIdentity: 'z' }), undefined, '409 Conflict');
  t.is(leaseOf('stale')!.holderIdentity, 'y');
});

test('a Lease held by a replica that died is taken only after its duration, as seen on the taker’s clock', async (t) => {
  // The dead holder's renewTime says "just now" in its own clock's terms: the taker does not trust it, it times it.
  const renewed = microTime(Date.now() + 3_600_000);
  api.put({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'dead', namespace: NAMESPACE },
    spec: { holderIdentity: 'gone_0', leaseDurationSeconds: 2, acquireTime: renewed, renewTime: renewed, leaseTransitions: 4 },
  });
  const b = replica('dead', 'pod-b_3');
  const started = Date.now();
  b.elector.start();
  t.teardown(() => b.elector.stop());
  await pollUntil(
    async () => b.terms.length,
    (n) => n > 0,
    20_000,
    'take-over',
  );
  t.true(b.terms[0]!.started - started >= FAST.leaseDurationMs, 'not before a lease duration without a change');
  const record = leaseOf('dead')!;
  t.is(record.holderIdentity, 'pod-b_3');
  t.is(record.leaseTransitions, 5, 'a change of holder is counted');
});

test('the leader stops its work, then releases the Lease: the other takes it at once, far within the lease duration', async (t) => {
  // A lease of a minute: a take-over seen within the poll's bound can only come from the release.
  const slow: LeaseTiming = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 200 };
  const a = replica('release', 'pod-a_4', slow);
  a.elector.start();
  await pollUntil(
    async () => a.elector.isLeader,
    (x) => x,
    20_000,
    'a leads',
  );
  const b = replica('release', 'pod-b_5', slow);
  b.elector.start();
  t.teardown(() => b.elector.stop());
  let workEndedAtRelease: boolean | undefined;
  api.on('change', (c) => {
    if (c.object.kind === 'Lease' && (c.object as any).spec?.holderIdentity === '' && workEndedAtRelease === undefined) {
      workEndedAtRelease = a.terms[0]?.ended !== undefined;
    }
  });
  await a.elector.stop();
  t.false(a.elector.isLeader);
  t.true(workEndedAtRelease, "the leader's work had stopped before the Lease was released");
  await pollUntil(
    async () => b.terms.length,
    (n) => n > 0,
    30_000,
    'hand-over',
  );
  const record = leaseOf('release')!;
  t.is(record.holderIdentity, 'pod-b_5');
  t.is(record.leaseTransitions, 1);
});

test('a leader that cannot renew for the renew deadline stops leading; one that sees another holder stops at once', async (t) => {
  const a = replica('lost', 'pod-a_6');
  a.elector.start();
  t.teardown(() => a.elector.stop());
  await pollUntil(
    async () => a.elector.isLeader,
    (x) => x,
    20_000,
    'a leads',
  );
  api.fail(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/lost`, 503);
  await pollUntil(
    async () => a.terms[0]?.ended,
    (ended) => ended !== undefined,
    20_000,
    'leadership lost',
  );
  t.true(a.terms[0]!.ended! - a.terms[0]!.started >= FAST.renewDeadlineMs, 'not before the renew deadline');
  api.heal(`/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/lost`);
  await pollUntil(
    async () => a.terms.length,
    (n) => n === 2,
    20_000,
    'leads again',
  );
  // Someone else writes the Lease (a replica that judged it expired): the leader gives up at its next renewal.
  const stored = api.get('coordination.k8s.io/v1', 'Lease', NAMESPACE, 'lost')!;
  const now = microTime(Date.now());
  api.put({ ...stored, spec: { ...(stored as any).spec, holderIdentity: 'pod-c_7', renewTime: now, acquireTime: now } });
  await pollUntil(
    async () => a.terms[1]?.ended,
    (ended) => ended !== undefined,
    20_000,
    'gave way',
  );
  t.pass();
});

test('a cluster that cannot be reached yet: the candidate says so once and keeps trying', async (t) => {
  let tries = 0;
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
  let led = false;
  const elector = new LeaderElector({
    ...FAST,
    lease: new LeaseClient(
      async () => {
        if (++tries < 4) throw new Error('cannot load KUBECONFIG=/etc/kube/config');
        return client;
      },
      NAMESPACE,
      'late',
    ),
    identity: 'pod-a_8',
    logger,
    lead: async () => void (led = true),
  });
  elector.start();
  t.teardown(() => elector.stop());
  await pollUntil(
    async () => led,
    (x) => x,
    30_000,
    'leads once the cluster answers',
  );
  t.deepEqual(warnings, ['cannot acquire or renew the Lease'], 'one warning for three failed tries');
});
