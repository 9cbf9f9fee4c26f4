/**
 * Leader election (README "High availability") against the fake API server: a Lease held
 * by another replica is respected, and losing a race for it (409) is never counted as
 * winning it.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { JsonObjectApi } from '../../src/cluster/json-api.js';
import { LeaderElector } from '../../src/cluster/leader.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/processes.js';

const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/default/leases/classops';
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

let api: FakeApiServer;
const electors: LeaderElector[] = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
  await api.stop();
});

/** Another replica's Lease, renewed `agoMs` ago. */
function leaseHeldBy(holder: string, agoMs: number) {
  const existing = api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops');
  return api.put({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'classops',
      namespace: 'default',
      ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: microTime(Date.now() - agoMs),
      renewTime: microTime(Date.now() - agoMs),
      leaseTransitions: 3,
    },
  });
}

function elector(identity: string) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(api.kubeconfig());
  const events: string[] = [];
  const e = new LeaderElector(kubeConfig.makeApiClient(JsonObjectApi), {
    name: 'classops',
    namespace: 'default',
    identity,
    leaseDuration: '15s',
    renewInterval: '100ms',
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  electors.push(e);
  return { e, events };
}

const holder = () => api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops')?.spec.holderIdentity;
const leaseReads = () => api.requests.filter((r) => r.startsWith(`GET ${LEASE_PATH}`)).length;

describe('leader election with a Lease', () => {
  test('a 409 on the Lease update is never counted as winning it', async () => {
    leaseHeldBy('classops-b', 60_000); // expired: worth taking
    // b renews at the same moment: b's write lands first, ours is answered 409.
    api.inject({
      method: 'PUT',
      path: LEASE_PATH,
      status: 409,
      times: 1,
      onServed: () => leaseHeldBy('classops-b', 0),
    });
    const { e, events } = elector('classops-a');
    e.start();
    await waitFor(async () => api.servedFaults.length === 1, 10_000, 'the 409');
    const after = leaseReads();
    await waitFor(async () => leaseReads() >= after + 3, 10_000, 'three more rounds');
    expect(api.servedFaults).toEqual([`PUT ${LEASE_PATH} 409`]);
    expect(e.isLeader).toBe(false);
    expect(events).toEqual([]);
    expect(holder()).toBe('classops-b');

    // Not vacuous: once b's lease expires, a takes it and leads.
    leaseHeldBy('classops-b', 60_000);
    await waitFor(async () => e.isLeader, 10_000, 'a to lead');
    expect(events).toEqual(['started']);
    expect(holder()).toBe('classops-a');
  });

  test('a lease another replica renewed recently is not taken; release hands it over at once', async () => {
    leaseHeldBy('classops-b', 1_000);
    const { e, events } = elector('classops-a');
    e.start();
    const before = leaseReads();
    await waitFor(async () => leaseReads() >= before + 3, 10_000, 'three rounds');
    expect(e.isLeader).toBe(false);
    expect(api.writes().filter((w) => w.includes('/leases/'))).toEqual([]);

    leaseHeldBy('classops-b', 60_000);
    await waitFor(async () => e.isLeader, 10_000, 'a to lead');
    await e.release();
    expect(events).toEqual(['started']);
    expect(holder() ?? null).toBeNull();
  });
});
