/**
 * KubeTarget, the cluster as a Target (README "Applying", "Health"), against the fake API
 * server in this process: what it lists, applies, deletes and records, and how it reads
 * each student's health from the Deployment and its pods.
 */
import { KubeTarget } from '../../src/cluster/apply.js';
import { kubeConfigFor } from '../../src/cluster/connect.js';
import type { KubeObject } from '../../src/render/objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

let api: FakeApiServer;
let target: KubeTarget;
beforeEach(async () => {
  api = await new FakeApiServer().start();
  target = new KubeTarget(kubeConfigFor({ kubeconfig: api.kubeconfig(), context: '' })!);
});
afterEach(async () => {
  await api.stop();
});

const NS = 'container-course-week01';
const MANAGED = { 'app.kubernetes.io/managed-by': 'classops' };

const service = (name: string, labels: Record<string, string> = MANAGED): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS, labels },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});

test('it names the cluster it writes to', () => {
  expect(target.description).toBe(`cluster ${api.url}`);
});

describe('listing what classops manages', () => {
  test('every managed kind, with its apiVersion and kind, and only objects with the classops label', async () => {
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: MANAGED } });
    api.put(service('mine'));
    api.put(service('theirs', { 'app.kubernetes.io/managed-by': 'helm' }));
    const live = await target.listManaged();
    expect(live.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`)).toEqual([
      `v1 Namespace ${NS}`,
      'v1 Service mine',
    ]);
  });

  test('a kind the cluster does not serve (404, a CRD not installed) has nothing of ours; any other error fails the listing', async () => {
    api.put(service('mine'));
    // The group's discovery answers 404 (Traefik not installed), then the kind's listing does.
    api.inject({ method: 'GET', path: '/apis/traefik.io/v1alpha1', status: 404, times: 1 });
    expect((await target.listManaged()).map((o) => o.metadata.name)).toEqual(['mine']);
    api.inject({ method: 'GET', path: '/middlewares', status: 404, times: 1 });
    expect((await target.listManaged()).map((o) => o.metadata.name)).toEqual(['mine']);
    expect(api.servedFaults).toEqual([
      'GET /apis/traefik.io/v1alpha1 404',
      'GET /apis/traefik.io/v1alpha1/middlewares 404',
    ]);

    api.inject({ method: 'GET', path: '/middlewares', status: 403, times: 1 });
    await expect(target.listManaged()).rejects.toThrow(/^list Middleware: HTTP 403: injected fault 403$/);
  });
});

describe('writing', () => {
  test('apply is a forced server-side apply with field manager classops, and is counted', async () => {
    await target.apply(service('web'));
    expect(api.writes()).toEqual([`PATCH /api/v1/namespaces/${NS}/services/web?fieldManager=classops&force=true`]);
    expect(api.get('v1', 'Service', NS, 'web')!.metadata.managedFields).toEqual([
      expect.objectContaining({ manager: 'classops', operation: 'Apply' }),
    ]);
    expect(target.writes).toBe(1);
  });

  test('apply retries what the API server may answer differently next time, and reports what it cannot', async () => {
    api.inject({ method: 'PATCH', path: '/services/web', status: 409, times: 1 });
    await target.apply(service('web'));
    expect(api.get('v1', 'Service', NS, 'web')).toBeDefined();
    api.inject({ method: 'PATCH', path: '/services/web', status: 422, times: 1 });
    await expect(target.apply(service('web'))).rejects.toThrow(`apply Service ${NS}/web: HTTP 422: injected fault 422`);
  });

  test('remove deletes the object (cluster-wide ones without a namespace); one already gone is what was wanted', async () => {
    await target.apply(service('web'));
    api.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch', labels: MANAGED } });
    await target.remove({ apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'web' });
    await target.remove({ apiVersion: 'v1', kind: 'Namespace', name: 'scratch' });
    await target.remove({ apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'web' });
    expect(api.writes()).toEqual([
      `PATCH /api/v1/namespaces/${NS}/services/web?fieldManager=classops&force=true`,
      `DELETE /api/v1/namespaces/${NS}/services/web`,
      'DELETE /api/v1/namespaces/scratch',
      `DELETE /api/v1/namespaces/${NS}/services/web`,
    ]);
    expect(api.get('v1', 'Service', NS, 'web')).toBeUndefined();
    expect(api.get('v1', 'Namespace', undefined, 'scratch')).toBeUndefined();
    expect(target.writes).toBe(4);
  });

  test('a delete the API server refuses is an error', async () => {
    await target.apply(service('web'));
    api.inject({ method: 'DELETE', status: 403, times: 1 });
    await expect(target.remove({ apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'web' })).rejects.toThrow(
      `delete Service ${NS}/web: HTTP 403: injected fault 403`,
    );
    expect(api.get('v1', 'Service', NS, 'web')).toBeDefined();
  });

  test('an event names the object, classops and the reason; long messages are cut; events never fail', async () => {
    await target.event(
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'student-ann' },
      'Warning',
      'PruneRefused',
      'x'.repeat(2000),
    );
    await target.event({ apiVersion: 'v1', kind: 'Namespace', name: 'week02' }, 'Normal', 'Created', 'hello');
    const [first, second] = [api.list('Event', NS)[0]!, api.list('Event', 'default')[0]!];
    expect(first).toMatchObject({
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'student-ann', namespace: NS },
      reason: 'PruneRefused',
      type: 'Warning',
      source: { component: 'classops' },
      count: 1,
    });
    expect(first.message).toBe('x'.repeat(1024));
    expect(first.metadata.name).toMatch(/^student-ann\.[0-9a-f]+$/);
    expect(first.firstTimestamp).toBe(first.lastTimestamp);
    expect(Date.parse(first.firstTimestamp as string)).not.toBeNaN();
    expect(second).toMatchObject({
      involvedObject: { kind: 'Namespace', name: 'week02' },
      reason: 'Created',
      type: 'Normal',
      message: 'hello',
    });
    expect(second.metadata.name).toMatch(/^week02\./);

    // Events on one object in the same millisecond do not collide.
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'student-bo' };
    await Promise.all(Array.from({ length: 10 }, (_, i) => target.event(ref, 'Normal', 'Updated', `pass ${i}`)));
    expect(api.list('Event', NS).filter((e) => e.involvedObject.name === 'student-bo')).toHaveLength(10);

    api.inject({ method: 'POST', path: '/events', status: 403, times: 1 });
    await expect(
      target.event({ apiVersion: 'v1', kind: 'Service', namespace: NS, name: 'web' }, 'Normal', 'Updated', 'm'),
    ).resolves.toBeUndefined();
    expect(api.servedFaults).toEqual([`POST /api/v1/namespaces/${NS}/events 403`]);
    expect(target.writes).toBe(13);
  });
});

describe('health, per student, from the Deployment and its pods', () => {
  const deployment = (student: string, status: object = {}, namespace = NS) =>
    api.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `student-${student}`, namespace, labels: { ...MANAGED, 'classops.dev/student': student } },
      spec: {},
      status,
    });
  let pods = 0;
  const pod = (student: string, status: object, namespace = NS) =>
    api.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `student-${student}-${(pods += 1)}`,
        namespace,
        labels: { ...MANAGED, 'classops.dev/student': student },
      },
      status,
    });
  const waiting = (reason: string) => ({ ready: false, state: { waiting: { reason } } });
  /** A Deployment whose previous version is Ready, and whose newest (generation 2) is rolling out: `status` says how far. */
  const updating = (student: string, status: object) => {
    deployment(student);
    const d = api.get('apps/v1', 'Deployment', NS, `student-${student}`)!;
    api.put({ ...d, spec: { image: 'v2' } });
    api.put({ ...api.get('apps/v1', 'Deployment', NS, `student-${student}`)!, status });
    pod(student, { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] });
  };
  const previousReady = { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1 };

  test('each state a student app can be in', async () => {
    deployment('ready', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 });
    pod('ready', { phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] }); // the Deployment decides
    deployment('pulling');
    pod('pulling', { phase: 'Pending', containerStatuses: [waiting('ImagePullBackOff')] });
    deployment('crashing');
    pod('crashing', { phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] });
    deployment('restarting');
    pod('restarting', {
      phase: 'Running',
      containerStatuses: [{ ready: false, restartCount: 3, state: { running: {} } }],
    });
    deployment('starting');
    pod('starting', {
      phase: 'Running',
      containerStatuses: [{ ready: false, restartCount: 0, state: { running: {} } }],
    });
    deployment('unschedulable');
    pod('unschedulable', {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }],
    });
    deployment('nowhere');
    pod('nowhere', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] });
    deployment('scheduled');
    pod('scheduled', {
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
      ],
    });
    deployment('creating');
    pod('creating', { phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] });
    deployment('nopod', { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' }] });
    // The ReplicaSet could not make a pod: the API server said why.
    const refused = (message: string) => ({
      conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message }],
    });
    deployment(
      'overquota',
      refused(
        'pods "student-overquota-7d9f-x2" is forbidden: exceeded quota: classops-quota, requested: pods=1, used: pods=150, limited: pods=150',
      ),
    );
    deployment(
      'forbidden',
      refused('pods "student-forbidden-1" is forbidden: violates PodSecurity "restricted:latest"'),
    );
    deployment('recovered', { conditions: [{ type: 'ReplicaFailure', status: 'False', message: 'exceeded quota' }] });
    // Ready, but with the previous version: the newest decides, as it is what the commit asked for.
    updating('newcrashes', previousReady);
    pod('newcrashes', { phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] });
    updating('newstarts', previousReady);
    pod('newstarts', {
      phase: 'Running',
      containerStatuses: [{ ready: false, restartCount: 0, state: { running: {} } }],
    });
    updating('newrefused', {
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 0,
      readyReplicas: 1,
      conditions: [{ type: 'ReplicaFailure', status: 'True', message: 'pods "x" is forbidden: exceeded quota: q' }],
    });
    // What an admission webhook says reaches commit statuses and metric labels: escaped, and cut whole.
    deployment('oddwebhook', {
      conditions: [
        {
          type: 'ReplicaFailure',
          status: 'True',
          message: `denied \u001b[31mred\u001b[0m\nforged line ${'é'.repeat(300)}`,
        },
      ],
    });
    // A status that is not the API's shape (a broken proxy) spoils only its own student's health.
    deployment('oddstatus', { conditions: null, readyReplicas: '1' });
    deployment('oddmessage', { conditions: [{ type: 'ReplicaFailure', status: 'True', message: 12345 }] });
    updating('notseen', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1 });
    updating('newcreating', previousReady);
    pod('newcreating', { phase: 'Pending', containerStatuses: [waiting('ContainerCreating')] });
    // Rolled out, not ready yet: the conditions every Deployment has say nothing is refused.
    deployment('rolledunready', {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      conditions: [
        { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
        { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'exceeded quota? no' },
      ],
    });
    pod('rolledunready', {
      phase: 'Running',
      containerStatuses: [{ ready: false, restartCount: 0, state: { running: {} } }],
    });
    // Only this namespace's pods are this week's: a crash in another week is not this one's.
    deployment('onlyelsewhere');
    pod(
      'onlyelsewhere',
      { phase: 'Running', containerStatuses: [waiting('CrashLoopBackOff')] },
      'container-course-week02',
    );
    deployment('settling');
    pod('settling', { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] });
    deployment('oddwait');
    pod('oddwait', { phase: 'Running', containerStatuses: [waiting('PodInitializing')] });
    // Pods of another student, and of the same student in another week, are not this one's.
    pod('other', { phase: 'Pending', containerStatuses: [waiting('ErrImagePull')] });
    deployment('twoweeks', {}, 'container-course-week02');
    pod('twoweeks', { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] });
    pod('twoweeks', { phase: 'Pending', containerStatuses: [waiting('ErrImagePull')] }, 'container-course-week02');

    const health = Object.fromEntries(await target.health());
    expect(health).toEqual({
      [`${NS}/ready`]: { phase: 'Ready', reason: undefined },
      [`${NS}/pulling`]: { phase: 'Failing', reason: 'ImagePullBackOff' },
      [`${NS}/crashing`]: { phase: 'Failing', reason: 'CrashLoopBackOff' },
      [`${NS}/restarting`]: { phase: 'Failing', reason: 'probe failures: the app restarts' },
      [`${NS}/starting`]: { phase: 'Progressing', reason: 'readiness probe not passing yet' },
      [`${NS}/unschedulable`]: { phase: 'Pending', reason: 'Unschedulable' },
      [`${NS}/nowhere`]: { phase: 'Pending', reason: 'Unschedulable' },
      [`${NS}/scheduled`]: { phase: 'Pending', reason: 'waiting for a pod' },
      [`${NS}/creating`]: { phase: 'Pending', reason: 'ContainerCreating' },
      [`${NS}/nopod`]: { phase: 'Pending', reason: 'waiting for a pod' },
      [`${NS}/overquota`]: {
        phase: 'Failing',
        reason: "the week's ResourceQuota is full: an instructor must raise render.quota",
      },
      [`${NS}/forbidden`]: {
        phase: 'Failing',
        reason:
          'the cluster refuses its pod: pods "student-forbidden-1" is forbidden: violates PodSecurity "restricted:latest"',
      },
      [`${NS}/recovered`]: { phase: 'Pending', reason: 'waiting for a pod' },
      [`${NS}/newcrashes`]: { phase: 'Failing', reason: 'CrashLoopBackOff' },
      [`${NS}/newstarts`]: { phase: 'Progressing', reason: 'readiness probe not passing yet' },
      // A whole week rolling out at once (an upgrade) needs up to a pod more per student: the
      // quota refuses some new pods for a while, as the previous versions answer on.
      [`${NS}/newrefused`]: {
        phase: 'Progressing',
        reason: "the new version waits for room in the week's ResourceQuota; the previous one answers",
      },
      [`${NS}/notseen`]: { phase: 'Progressing', reason: undefined },
      [`${NS}/oddwebhook`]: {
        phase: 'Failing',
        reason: `the cluster refuses its pod: denied \\u001b[31mred\\u001b[0m\\u000aforged line ${'é'.repeat(168)}…`,
      },
      [`${NS}/oddstatus`]: { phase: 'Pending', reason: 'waiting for a pod' },
      [`${NS}/oddmessage`]: { phase: 'Failing', reason: 'the cluster refuses its pod: no reason given' },
      [`${NS}/newcreating`]: { phase: 'Pending', reason: 'ContainerCreating' },
      [`${NS}/rolledunready`]: { phase: 'Progressing', reason: 'readiness probe not passing yet' },
      [`${NS}/onlyelsewhere`]: { phase: 'Pending', reason: 'waiting for a pod' },
      [`${NS}/settling`]: { phase: 'Progressing', reason: undefined },
      [`${NS}/oddwait`]: { phase: 'Progressing', reason: 'PodInitializing' },
      ['container-course-week02/twoweeks']: { phase: 'Failing', reason: 'ErrImagePull' },
    });
    // One pod listing per namespace that has Deployments, with classops' label.
    expect(api.requests.filter((r) => r.includes('/pods'))).toEqual([
      `GET /api/v1/namespaces/${NS}/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dclassops`,
      'GET /api/v1/namespaces/container-course-week02/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dclassops',
    ]);
  });

  test('every container state that needs a change from the student is Failing, with the state as the reason', async () => {
    const reasons = [
      'ImagePullBackOff',
      'ErrImagePull',
      'InvalidImageName',
      'CrashLoopBackOff',
      'CreateContainerConfigError',
      'CreateContainerError',
      'RunContainerError',
    ];
    for (const reason of reasons) {
      deployment(reason.toLowerCase());
      pod(reason.toLowerCase(), { phase: 'Running', containerStatuses: [waiting(reason)] });
    }
    const health = await target.health();
    expect(reasons.map((r) => health.get(`${NS}/${r.toLowerCase()}`))).toEqual(
      reasons.map((reason) => ({ phase: 'Failing', reason })),
    );
  });

  test('a Deployment without a student label is known by its name; unmanaged ones are not read', async () => {
    api.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS, labels: MANAGED },
      spec: {},
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2 },
    });
    api.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'theirs', namespace: 'elsewhere' },
      spec: {},
    });
    expect(Object.fromEntries(await target.health())).toEqual({ [`${NS}/web`]: { phase: 'Ready', reason: undefined } });
    expect(api.requests.filter((r) => r.includes('/pods'))).toHaveLength(1);
  });

  test('no Deployments: no pods are listed', async () => {
    expect((await target.health()).size).toBe(0);
    expect(api.requests.filter((r) => r.includes('/pods'))).toEqual([]);
  });
});
