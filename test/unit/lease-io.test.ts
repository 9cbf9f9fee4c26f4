/**
 * The Lease I/O of leader election (README "High availability"), in this process against
 * the fake API server: what a replica writes to the Lease when it creates, renews, takes
 * and releases it, and when it believes it leads. Renewals every 20 ms, so rounds are quick.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { JsonObjectApi } from '../../src/cluster/json-api.js';
import { LeaderElector } from '../../src/cluster/leader.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/processes.js';

const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/course-ops/leases/classops';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

let api: FakeApiServer;
const electors: LeaderElector[] = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  for (const e of electors.splice(0)) e.stop();
  await api.stop();
});

type LeaseSpec = {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
};
const lease = () => api.get('coordination.k8s.io/v1', 'Lease', 'course-ops', 'classops');
const spec = () => lease()?.spec as LeaseSpec;

/** Another replica's Lease, renewed `agoMs` ago. */
function leaseHeldBy(holder: string | null, agoMs: number, extra: Partial<LeaseSpec> = { leaseTransitions: 3 }) {
  const existing = lease();
  return api.put({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'classops',
      namespace: 'course-ops',
      ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: microTime(Date.now() - agoMs),
      renewTime: microTime(Date.now() - agoMs),
      ...extra,
    },
  });
}

function elector(identity: string, leaseDuration = '15s') {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(api.kubeconfig());
  const events: string[] = [];
  const problems: Array<string | undefined> = [];
  const e = new LeaderElector(kubeConfig.makeApiClient(JsonObjectApi), {
    name: 'classops',
    namespace: 'course-ops',
    identity,
    leaseDuration,
    renewInterval: '20ms',
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
    onLeaseProblem: (problem) => problems.push(problem),
  });
  electors.push(e);
  return { e, events, problems };
}

const leaseRequests = (method: string) => api.requests.filter((r) => r.startsWith(`${method} ${LEASE_PATH}`)).length;
const leaseWrites = () => api.writes().filter((w) => w.includes('/leases'));
const rounds = async (n: number) => {
  const after = leaseRequests('GET');
  await waitFor(async () => leaseRequests('GET') >= after + n, 3_000, `${n} rounds`);
};

test('no Lease: it is created for this replica, which then leads', async () => {
  const { e, events } = elector('classops-a', '1500ms');
  expect(e.isLeader).toBe(false);
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  expect(events).toEqual(['started']);
  expect(leaseWrites()[0]).toBe('POST /apis/coordination.k8s.io/v1/namespaces/course-ops/leases');
  expect(lease()!.metadata.name).toBe('classops');
  expect(spec()).toEqual({
    holderIdentity: 'classops-a',
    leaseDurationSeconds: 2,
    acquireTime: expect.stringMatching(MICRO_TIME),
    renewTime: expect.stringMatching(MICRO_TIME),
    leaseTransitions: 0,
  });
});

test('a held Lease is renewed each round: the renew time moves, the acquire time and transitions stay', async () => {
  const { e, events } = elector('classops-a');
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  // Read together: on a loaded machine renewals may already have happened by now.
  const created = spec();
  const putsBefore = leaseRequests('PUT');
  await waitFor(async () => leaseRequests('PUT') >= putsBefore + 2, 3_000, 'two renewals');
  const renewed = spec();
  expect(renewed).toEqual({
    holderIdentity: 'classops-a',
    leaseDurationSeconds: 15,
    acquireTime: created.acquireTime,
    renewTime: expect.stringMatching(MICRO_TIME),
    leaseTransitions: 0,
  });
  expect(renewed.renewTime! > created.renewTime!).toBe(true);
  expect(events).toEqual(['started']);
  expect(e.isLeader).toBe(true);
});

test('a Lease another replica renews in time is left alone; once it lapses it is taken, counting a transition', async () => {
  leaseHeldBy('classops-b', 1_000, { leaseTransitions: 3, leaseDurationSeconds: 30 });
  const { e, events } = elector('classops-a');
  e.start();
  await rounds(3);
  expect(e.isLeader).toBe(false);
  expect(leaseWrites()).toEqual([]);

  const lapsed = leaseHeldBy('classops-b', 60_000, { leaseTransitions: 3, leaseDurationSeconds: 30 });
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  expect(events).toEqual(['started']);
  const taken = spec();
  expect(taken).toEqual({
    holderIdentity: 'classops-a',
    leaseDurationSeconds: 15,
    acquireTime: expect.stringMatching(MICRO_TIME),
    renewTime: expect.stringMatching(MICRO_TIME),
    leaseTransitions: 4,
  });
  expect(taken.acquireTime! > (lapsed['spec'] as LeaseSpec).acquireTime!).toBe(true);
});

test('a released Lease (no holder) is taken at once; its first transition counts from zero', async () => {
  leaseHeldBy(null, 0, {});
  expect(spec().leaseTransitions).toBeUndefined();
  const { e } = elector('classops-a');
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  expect(spec()).toMatchObject({ holderIdentity: 'classops-a', leaseTransitions: 1 });
});

test('a 409 on the Lease update is never counted as winning it', async () => {
  leaseHeldBy('classops-b', 60_000); // expired: worth taking
  // b renews at the same moment: b's write lands first, ours is answered 409.
  api.inject({ method: 'PUT', path: LEASE_PATH, status: 409, times: 1, onServed: () => leaseHeldBy('classops-b', 0) });
  const { e, events, problems } = elector('classops-a');
  e.start();
  await waitFor(async () => api.servedFaults.length === 1, 3_000, 'the 409');
  await rounds(3);
  expect(e.isLeader).toBe(false);
  expect(events).toEqual([]);
  expect(problems).toEqual([]); // a race lost, as replicas starting together have: no problem to report
  expect(spec().holderIdentity).toBe('classops-b');
});

test.each([
  ['the Lease update fails', 'PUT'],
  ['the Lease cannot be read', 'GET'],
])('%s: the replica stops leading at once, and leads again when the API server is back', async (_, method) => {
  const { e, events } = elector('classops-a');
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  api.inject({ method, path: LEASE_PATH, status: 500, times: 1 });
  await waitFor(async () => events.length === 3, 3_000, 'stopped and started again');
  expect(events).toEqual(['started', 'stopped', 'started']);
  expect(api.servedFaults).toEqual([`${method} ${LEASE_PATH} 500`]);
  expect(e.isLeader).toBe(true);
  // A Lease that cannot be read is not taken for missing: it is created once only.
  expect(api.requests.filter((r) => r.startsWith('POST '))).toHaveLength(1);
});

test('a Lease that cannot be made (its namespace missing, RBAC) is reported once with why, and once when it can', async () => {
  api.inject({
    method: 'POST',
    path: '/apis/coordination.k8s.io/v1/namespaces/course-ops/leases',
    status: 404,
    times: 5,
  });
  const { e, events, problems } = elector('classops-a');
  e.start();
  await waitFor(async () => api.servedFaults.length === 5, 3_000, 'five refused rounds');
  await waitFor(async () => e.isLeader, 3_000, 'a to lead once the Lease can be made');
  expect(problems).toEqual([expect.stringContaining('404'), undefined]);
  expect(events).toEqual(['started']);
});

test('a follower knows its leader only while it reads a Lease another replica renews in time', async () => {
  leaseHeldBy('classops-b', 1_000, { leaseDurationSeconds: 30 });
  const { e } = elector('classops-a');
  expect(e.followsLeader).toBe(false);
  e.start();
  await rounds(2);
  expect(e.followsLeader).toBe(true);
  api.inject({ method: 'GET', path: LEASE_PATH, status: 500, times: 1000 });
  await waitFor(async () => !e.followsLeader, 3_000, 'a to stop following');
  expect(e.isLeader).toBe(false);
});

test('stop: no more rounds, even when it comes while a round is under way, and the Lease is kept as it is', async () => {
  const { e, events } = elector('classops-a');
  e.start();
  e.stop(); // the first round is in flight
  const leaseRequests = () => api.requests.filter((r) => r.includes('/leases'));
  // The round finishes (however loaded the machine), and then ten renew intervals pass without another.
  await waitFor(async () => leaseRequests().length >= 2, 10_000, 'the round in flight to finish');
  await new Promise((r) => setTimeout(r, 200));
  expect(leaseRequests()).toEqual([
    `GET ${LEASE_PATH}`,
    'POST /apis/coordination.k8s.io/v1/namespaces/course-ops/leases',
  ]);
  // That round created the Lease, but a stopped replica does not start leading: the Lease runs out on its own.
  expect(events).toEqual([]);
  expect(e.isLeader).toBe(false);
  expect(spec().holderIdentity).toBe('classops-a');

  const { e: later } = elector('classops-c');
  later.stop();
  later.start(); // a stopped elector never starts again
  await new Promise((r) => setTimeout(r, 100));
  expect(api.requests.filter((r) => r.includes('/leases'))).toHaveLength(2);
});

test('release hands the Lease over at once: no holder, a one-second duration; another replica takes it', async () => {
  const { e, events } = elector('classops-a');
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  const before = spec();
  await e.release();
  expect(e.isLeader).toBe(false);
  expect(events).toEqual(['started']);
  const released = spec();
  expect(released).toMatchObject({ holderIdentity: null, leaseDurationSeconds: 1, acquireTime: before.acquireTime });
  expect(released.renewTime).toMatch(MICRO_TIME);
  expect(released.renewTime! >= before.renewTime!).toBe(true);
  const puts = leaseRequests('PUT');
  await new Promise((r) => setTimeout(r, 100));
  expect(leaseRequests('PUT')).toBe(puts); // released means stopped

  const { e: b } = elector('classops-b');
  b.start();
  await waitFor(async () => b.isLeader, 3_000, 'b to lead');
  expect(spec()).toMatchObject({ holderIdentity: 'classops-b', leaseTransitions: 1 });
});

test('release right after start waits for the round under way: it never starts leading, and the Lease it made is released', async () => {
  const { e, events } = elector('classops-a');
  e.start();
  await e.release();
  await new Promise((r) => setTimeout(r, 100));
  expect(events).toEqual([]);
  expect(e.isLeader).toBe(false);
  expect(leaseWrites()).toEqual([
    'POST /apis/coordination.k8s.io/v1/namespaces/course-ops/leases',
    `PUT ${LEASE_PATH}`,
  ]);
  expect(spec()).toMatchObject({ holderIdentity: null, leaseDurationSeconds: 1 });
});

test('release writes nothing when this replica does not lead, or no longer holds the Lease', async () => {
  leaseHeldBy('classops-b', 0);
  const { e: waiting } = elector('classops-a');
  waiting.start();
  await rounds(2);
  await waiting.release();
  expect(leaseWrites()).toEqual([]);

  // c leads, then (unseen by c) b takes the Lease: c's release leaves b's Lease alone.
  leaseHeldBy('classops-b', 60_000);
  const { e: c } = elector('classops-c');
  c.start();
  await waitFor(
    async () => c.isLeader,
    3_000,
    'c to lead',
    () => api.requests.join('\n'),
  );
  c.stop();
  await new Promise((r) => setTimeout(r, 50));
  const renewedByB = leaseHeldBy('classops-b', 0).metadata.resourceVersion as string;
  await c.release();
  expect(lease()!.metadata.resourceVersion).toBe(renewedByB);
  expect(spec().holderIdentity).toBe('classops-b');
});

test('release when the API server is away: it gives up quietly, the Lease runs out on its own', async () => {
  const { e } = elector('classops-a');
  e.start();
  await waitFor(async () => e.isLeader, 3_000, 'a to lead');
  e.stop();
  await new Promise((r) => setTimeout(r, 50));
  api.inject({ method: 'GET', path: LEASE_PATH, status: 500, times: 1 });
  await expect(e.release()).resolves.toBeUndefined();
  expect(api.servedFaults).toEqual([`GET ${LEASE_PATH} 500`]);
  expect(spec().holderIdentity).toBe('classops-a');
  expect(e.isLeader).toBe(false);
});
