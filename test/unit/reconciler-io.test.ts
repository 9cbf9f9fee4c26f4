/**
 * One reconcile pass in this process (README "The controller"): the real reconciler and
 * KubeTarget against the fake API server, a real roster folder. What the cluster gets
 * (server-side applies, deletes and their order, events), what State and the metrics
 * say after the pass, and what a cancelled pass still writes (nothing).
 */
import { getEventListeners } from 'node:events';
import { DEFAULT_RETRY } from '../../src/cluster/kube.js';
import { reconcile } from '../../src/controller/reconciler.js';
import { State } from '../../src/controller/state.js';
import { FakeApiServer, rolledOut } from '../support/fake-apiserver.js';
import { entry, InProcessCourse, NS } from '../support/in-process.js';
import { rosterText } from '../support/rosters.js';

let api: FakeApiServer;
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await api.stop();
});

const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const names = (kind: string) =>
  api
    .list(kind)
    .map((o) => o.metadata.name as string)
    .sort();
/** The kind (by its API path) of each write, in order. */
const pluralOf = (request: string) => /\/([a-z]+)\/[^/?]+(\?|$)/.exec(request)?.[1];
const events = () =>
  api.list('Event').map((e) => ({
    reason: e.reason as string,
    type: e.type as string,
    on: `${e.involvedObject.kind}/${e.involvedObject.name}`,
    message: e.message as string,
  }));

describe('applying', () => {
  test('a first pass applies every object server-side as classops, kinds in apply order, and says so', async () => {
    const c = new InProcessCourse(api).week(entry('Ann') + entry('bo'));
    const outcome = await reconcile(c.options);

    expect(outcome.result).toBe('success');
    const writes = api.writes();
    expect(outcome.writes).toBe(writes.length);
    expect(writes.every((w) => w.startsWith('PATCH ') && w.endsWith('?fieldManager=classops&force=true'))).toBe(true);
    expect(writes.map(pluralOf)).toEqual([
      'namespaces',
      'resourcequotas',
      'limitranges',
      'networkpolicies',
      'networkpolicies',
      'networkpolicies',
      'services',
      'services',
      'deployments',
      'deployments',
      'ingresses',
      'ingresses',
      'ingresses',
      'ingresses',
    ]);
    expect(writes[0]).toBe(`PATCH /api/v1/namespaces/${NS}?fieldManager=classops&force=true`);
    // Before writing, each managed kind was listed once: with no watch, the listing the plan came from is fresh.
    const firstWrite = api.requests.findIndex((r) => r.startsWith('PATCH '));
    const listings = api.requests
      .slice(0, firstWrite)
      .filter((r) => r.startsWith('GET ') && r.includes('labelSelector'));
    expect(listings.length).toBeGreaterThan(0);
    expect(new Set(listings).size).toBe(listings.length);
    const deployment = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    expect(deployment.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'classops' })]);
    expect(deployment.metadata.annotations['classops.dev/spec-hash']).toMatch(/\S/);

    // One Created event per Deployment, naming the revision; the log has one line per object.
    expect(events()).toEqual([
      {
        reason: 'Created',
        type: 'Normal',
        on: 'Deployment/student-ann',
        message: `classops applied revision ${outcome.revision}`,
      },
      {
        reason: 'Created',
        type: 'Normal',
        on: 'Deployment/student-bo',
        message: `classops applied revision ${outcome.revision}`,
      },
    ]);
    const info = c.logs.filter((l) => l.level === 'info');
    expect(info).toHaveLength(14);
    expect(info).toContainEqual(
      expect.objectContaining({ msg: `created Deployment ${NS}/student-ann`, revision: outcome.revision }),
    );
    expect(info[0]).toMatchObject({ msg: `created Namespace ${NS}` });

    expect(await c.samples('applyOperations')).toEqual({
      'action=created,kind=Namespace': 1,
      'action=created,kind=ResourceQuota': 1,
      'action=created,kind=LimitRange': 1,
      'action=created,kind=NetworkPolicy': 3,
      'action=created,kind=Service': 2,
      'action=created,kind=Deployment': 2,
      'action=created,kind=Ingress': 4,
    });
  });

  test('a second pass writes nothing and counts every object unchanged; a changed image is an update with an Updated event', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo'));
    await reconcile(c.options);
    const before = api.writes({ includeEvents: true }).length;
    const objectWrites = api.writes().length;

    const again = await reconcile(c.options);
    expect(again).toMatchObject({ result: 'success', writes: 0 });
    expect(api.writes({ includeEvents: true }).length).toBe(before);
    expect((await c.samples('applyOperations'))['action=unchanged,kind=Deployment']).toBe(2);

    c.week(entry('ann', 'ghcr.io/ann/app:v2') + entry('bo'));
    const changed = await reconcile(c.options);
    expect(changed.writes).toBe(1);
    expect(api.writes().slice(objectWrites)).toEqual([
      `PATCH ${DEPLOYMENTS}/student-ann?fieldManager=classops&force=true`,
    ]);
    expect(events().at(-1)).toEqual({
      reason: 'Updated',
      type: 'Normal',
      on: 'Deployment/student-ann',
      message: `classops applied revision ${changed.revision}`,
    });
    expect(c.logs.at(-1)).toMatchObject({ level: 'info', msg: `updated Deployment ${NS}/student-ann` });
    const ops = await c.samples('applyOperations');
    expect(ops['action=updated,kind=Deployment']).toBe(1);
    expect(ops['action=unchanged,kind=Deployment']).toBe(2 + 1);
    expect(c.state.lastGood!.get(`${NS}/ann`)!.entry.containerImage).toBe('ghcr.io/ann/app:v2');
  });

  test('a restarted controller (a new State) reads last-known-good back from the cluster and writes nothing', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo'));
    await reconcile(c.options);
    const before = api.writes({ includeEvents: true }).length;
    c.state = new State();
    // The file breaks while this controller was down: its students are kept from what is applied.
    c.file('week-01.yaml', rosterText(entry('ann') + entry('bo')) + '  - name: broken\n    github_username "x"\n');
    const outcome = await reconcile(c.options);
    expect(outcome).toMatchObject({ writes: 0, result: 'success' });
    expect(outcome.heldBack.map((f) => f.complete)).toEqual([false]);
    expect(api.writes({ includeEvents: true }).length).toBe(before);
    expect([...c.state.lastGood!.keys()].sort()).toEqual([`${NS}/ann`, `${NS}/bo`]);
    expect([...c.state.students.values()].map((s) => [s.githubUsername, s.deployment])).toEqual([
      ['ann', 'kept'],
      ['bo', 'kept'],
    ]);
  });

  test('an object the API server rejects: the pass is partial, the others are applied, that student keeps the last-known-good', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo'));
    const first = await reconcile(c.options);
    const firstSuccess = c.state.reconcile.lastSuccessAt;
    c.week(entry('ann', 'ghcr.io/ann/app:v2') + entry('bo', 'ghcr.io/bo/app:v2'));
    api.inject({ method: 'PATCH', path: `${DEPLOYMENTS}/student-ann`, status: 422, times: 1 });
    const before = api.writes({ includeEvents: true }).length;

    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('partial');
    expect(outcome.writes).toBe(1);
    expect(outcome.errors).toEqual([expect.stringContaining(`apply Deployment ${NS}/student-ann: HTTP 422`)]);
    // bo's change went out with its event; ann's did not.
    expect(api.writes({ includeEvents: true }).slice(before)).toEqual([
      `PATCH ${DEPLOYMENTS}/student-ann?fieldManager=classops&force=true`,
      `PATCH ${DEPLOYMENTS}/student-bo?fieldManager=classops&force=true`,
      `POST /api/v1/namespaces/${NS}/events`,
    ]);
    expect(c.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: `could not apply Deployment ${NS}/student-ann`,
        error: outcome.errors[0],
      }),
    );
    expect((await c.samples('applyOperations'))['action=failed,kind=Deployment']).toBe(1);
    expect(c.state.reconcile).toMatchObject({
      result: 'partial',
      revision: outcome.revision,
      error: outcome.errors[0],
      writes: 1,
      lastSuccessAt: firstSuccess,
    });
    expect(c.state.reconcile.finishedAt).not.toBe(firstSuccess);
    expect(c.state.lastGood!.get(`${NS}/ann`)!.entry.containerImage).toBe('ghcr.io/ann/app:v1');
    expect(c.state.lastGood!.get(`${NS}/bo`)!.entry.containerImage).toBe('ghcr.io/bo/app:v2');
    expect(first.revision).not.toBe(outcome.revision);
  });

  test('a repair and a new student in one pass go out in kind order: the hand-edited Namespace first', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    await reconcile(c.options);
    // Someone relaxes the week's pod security by hand; bo joins in the same commit.
    const enforce = 'pod-security.kubernetes.io/enforce';
    const namespace = api.get('v1', 'Namespace', undefined, NS)!;
    const restricted = namespace.metadata.labels[enforce] as string;
    api.put({
      ...namespace,
      metadata: { ...namespace.metadata, labels: { ...namespace.metadata.labels, [enforce]: 'privileged' } },
    });
    const before = api.writes().length;
    c.week(entry('ann') + entry('bo'));
    const outcome = await reconcile(c.options);
    expect(outcome.plan.update.map((o) => o.kind)).toEqual(['Namespace']);
    expect(api.writes().slice(before).map(pluralOf)).toEqual([
      'namespaces',
      'services',
      'deployments',
      'ingresses',
      'ingresses',
    ]);
    expect(api.get('v1', 'Namespace', undefined, NS)!.metadata.labels[enforce]).toBe(restricted);
  });

  test('a failure in an object of no student (the Namespace) makes the pass partial and leaves every student fresh', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    api.inject({ method: 'PATCH', path: `/api/v1/namespaces/${NS}`, status: 403, times: 1 });
    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('partial');
    expect(outcome.errors).toEqual([expect.stringContaining(`apply Namespace ${NS}: HTTP 403`)]);
    expect(c.state.lastGood!.has(`${NS}/ann`)).toBe(true);
  });

  test('a connection the API server drops mid-request is retried: the listing and the apply each go through', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    api.inject({ method: 'GET', path: '/deployments', status: 'drop', times: 1 });
    api.inject({ method: 'PATCH', path: `${DEPLOYMENTS}/student-ann`, status: 'drop', times: 2 });
    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('success');
    expect(outcome.errors).toEqual([]);
    expect(api.servedFaults).toEqual([
      'GET /apis/apps/v1/deployments drop',
      `PATCH ${DEPLOYMENTS}/student-ann drop`,
      `PATCH ${DEPLOYMENTS}/student-ann drop`,
    ]);
    expect(names('Deployment')).toEqual(['student-ann']);
    expect(c.state.lastGood!.has(`${NS}/ann`)).toBe(true);
  });

  test('an apply or delete carried out whose answer is lost is sent again: the object lands, the pruned one is gone', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo') + entry('cy'));
    api.inject({ method: 'PATCH', path: `${DEPLOYMENTS}/student-ann`, status: 'drop-after', times: 1 });
    expect((await reconcile(c.options)).result).toBe('success');
    expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')).toBeDefined();

    c.week(entry('ann') + entry('cy'));
    api.inject({ method: 'DELETE', path: `${DEPLOYMENTS}/student-bo`, status: 'drop-after', times: 1 });
    const outcome = await reconcile(c.options);
    // The second DELETE finds bo's Deployment already gone (404), which is what the prune wanted.
    expect(outcome).toMatchObject({ result: 'success', errors: [] });
    expect(names('Deployment')).toEqual(['student-ann', 'student-cy']);
    expect(api.servedFaults).toEqual([
      `PATCH ${DEPLOYMENTS}/student-ann drop-after`,
      `DELETE ${DEPLOYMENTS}/student-bo drop-after`,
    ]);
    expect(api.requests.filter((r) => r.startsWith(`DELETE ${DEPLOYMENTS}/student-bo`)).length).toBe(2);
  });

  test('an API server that drops every listing: the pass fails with a clear error and changes nothing', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    api.inject({ method: 'GET', path: '/namespaces', status: 'drop', times: 100 });
    await expect(reconcile(c.options)).rejects.toThrow(/^list Namespace: \S/);
    expect(api.servedFaults.length).toBe(DEFAULT_RETRY.attempts);
    expect(api.writes({ includeEvents: true })).toEqual([]);
    expect(c.state.reconcile).toMatchObject({ result: 'failure', error: expect.stringMatching(/^list Namespace: /) });
  }, 30_000);
});

describe('pruning', () => {
  test('a removed student is pruned in the reverse of apply order, with a log line each, and leaves last-known-good', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo') + entry('cy'));
    await reconcile(c.options);
    c.week(entry('ann') + entry('cy'));
    const before = api.requests.length;
    const outcome = await reconcile(c.options);
    expect(outcome).toMatchObject({ result: 'success', writes: 4 });
    expect(api.requests.slice(before).filter((r) => r.startsWith('DELETE '))).toEqual([
      `DELETE /apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/student-bo`,
      `DELETE /apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/student-bo--latest`,
      `DELETE ${DEPLOYMENTS}/student-bo`,
      `DELETE /api/v1/namespaces/${NS}/services/student-bo`,
    ]);
    expect(names('Deployment')).toEqual(['student-ann', 'student-cy']);
    expect(c.logs.filter((l) => l.msg.startsWith('pruned ')).map((l) => l.msg)).toEqual([
      `pruned Ingress ${NS}/student-bo`,
      `pruned Ingress ${NS}/student-bo--latest`,
      `pruned Deployment ${NS}/student-bo`,
      `pruned Service ${NS}/student-bo`,
    ]);
    expect(c.logs.find((l) => l.msg.startsWith('pruned '))).toMatchObject({ revision: outcome.revision });
    const ops = await c.samples('applyOperations');
    expect([ops['action=pruned,kind=Ingress'], ops['action=pruned,kind=Deployment']]).toEqual([2, 1]);
    expect([...c.state.lastGood!.keys()].sort()).toEqual([`${NS}/ann`, `${NS}/cy`]);
  });

  test('a stray object of a student who stays is pruned, and the student keeps their last-known-good', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo'));
    await reconcile(c.options);
    // A copy of ann's Ingress under another name, as an older classops or a hand copy could leave it.
    const ingress = api.get('networking.k8s.io/v1', 'Ingress', NS, 'student-ann')!;
    api.put({ ...ingress, metadata: { ...ingress.metadata, name: 'student-ann--old' } });
    const outcome = await reconcile(c.options);
    expect(outcome.plan.prune.map((r) => `${r.kind}/${r.name}`)).toEqual(['Ingress/student-ann--old']);
    expect(api.get('networking.k8s.io/v1', 'Ingress', NS, 'student-ann--old')).toBeUndefined();
    expect([...c.state.lastGood!.keys()].sort()).toEqual([`${NS}/ann`, `${NS}/bo`]);

    // So when ann's file breaks, she keeps running as she was.
    c.file('week-01.yaml', rosterText(entry('ann') + entry('bo')) + '  - name: broken\n    github_username "x"\n');
    await reconcile(c.options);
    expect([...c.state.students.values()].map((s) => [s.githubUsername, s.deployment])).toEqual([
      ['ann', 'kept'],
      ['bo', 'kept'],
    ]);
  });

  test('a delete the API server refuses is reported and makes the pass partial; one already gone is fine', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo') + entry('cy'));
    await reconcile(c.options);
    c.week(entry('ann') + entry('cy'));
    api.inject({ method: 'DELETE', path: `${DEPLOYMENTS}/student-bo`, status: 403, times: 1 });
    api.inject({ method: 'DELETE', path: `/services/student-bo`, status: 404, times: 1 });
    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('partial');
    expect(outcome.errors).toEqual([expect.stringContaining(`delete Deployment ${NS}/student-bo: HTTP 403`)]);
    expect(outcome.writes).toBe(3);
    expect(c.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: `could not prune Deployment ${NS}/student-bo`,
        error: outcome.errors[0],
      }),
    );
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo', 'student-cy']);
    // The next pass finishes the job (the 404 was the fault's: the Service is still there).
    const next = await reconcile(c.options);
    expect(next).toMatchObject({ result: 'success', writes: 2 });
    expect(names('Service')).toEqual(['student-ann', 'student-cy']);
    expect(names('Deployment')).toEqual(['student-ann', 'student-cy']);
  });

  test('the mass prune guard refuses, says why (event on the Deployment, log, State, metrics); --allow-mass-prune goes ahead', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo') + entry('cy'));
    await reconcile(c.options);
    c.week('  # everyone left?\n');
    const before = api.writes().length;
    const refused = await reconcile(c.options);
    expect(refused.result).toBe('refused');
    expect(api.writes().length).toBe(before);
    const reason = `Pruning would remove 3 of 3 students in ${NS}, more than the guard allows (1, cluster.maxPruneFraction 0.5). Nothing was deleted, and its running students were left as they are; if this is intended, run once with --allow-mass-prune.`;
    expect(events().filter((e) => e.type === 'Warning')).toEqual([
      { reason: 'PruneRefused', type: 'Warning', on: 'Deployment/student-ann', message: reason },
    ]);
    expect(c.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'prune refused', namespace: NS, reason }),
    );
    expect(c.state.reconcile).toMatchObject({ result: 'refused', refusedPrunes: [reason], error: undefined });
    expect(c.state.reconcile.lastSuccessAt).toBe(c.state.reconcile.finishedAt);
    const ops = await c.samples('applyOperations');
    expect([ops['action=refused,kind=Deployment'], ops['action=refused,kind=Ingress']]).toEqual([3, 6]);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo', 'student-cy']);

    c.allowMassPrune = true;
    const allowed = await reconcile(c.options);
    expect(allowed.result).toBe('success');
    expect(names('Deployment')).toEqual([]);
    expect(api.get('v1', 'Namespace', undefined, NS)).toBeDefined();
    expect(c.state.lastGood!.size).toBe(0);
  });

  test('a week no roster names any more: its namespace is never deleted, the refusal is on the Namespace', async () => {
    const c = new InProcessCourse(api).week(entry('ann'), 1).week(entry('bo'), 2);
    await reconcile(c.options);
    c.drop('week-02.yaml');
    const outcome = await reconcile(c.options);
    expect(outcome.plan.refused.map((r) => r.objects[0]!.kind)).toContain('Namespace');
    expect(api.get('v1', 'Namespace', undefined, 'container-course-week02')).toBeDefined();
    expect(
      events()
        .filter((e) => e.type === 'Warning')
        .map((e) => e.on),
    ).toContain('Namespace/container-course-week02');
  });
});

describe('State and metrics after a pass', () => {
  test('a week over its quota: everyone is applied, the log and classops_week_over_quota say so, until it fits', async () => {
    const c = new InProcessCourse(api, {}, { quota: { pods: '3' } }).week(entry('ann') + entry('bo') + entry('cy'));
    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('success');
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(c.logs.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      `${NS}: its 3 students need pods 4 (a pod per student, one more for a rollout), but render.quota.pods is 3: the API server refuses what goes past it, so the apps, routes or next versions of some students will not start until an instructor raises it in classops.yaml.`,
    ]);
    expect(await c.samples('weekOverQuota')).toEqual({ [`namespace=${NS}`]: 1 });
    c.week(entry('ann') + entry('bo'));
    await reconcile(c.options);
    expect(await c.samples('weekOverQuota')).toEqual({});
  });

  test('files, students and health as an instructor reads them; metrics follow each pass', async () => {
    const c = new InProcessCourse(api)
      .week(entry('Ann') + entry('bo') + entry('cy') + '  - name: "Dee"\n    github_username: "dee"\n')
      .file('roster.yaml', 'students: [\n');
    await reconcile(c.options);
    // The cluster's view: ann ready, bo's image cannot be pulled, cy's pod is up but not ready yet.
    const ready = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put(rolledOut(ready));
    const pod = (student: string, status: object) =>
      api.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `student-${student}-1`,
          namespace: NS,
          labels: { 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': student },
        },
        status,
      });
    pod('bo', {
      phase: 'Pending',
      containerStatuses: [{ ready: false, state: { waiting: { reason: 'ErrImagePull' } } }],
    });
    pod('cy', { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] });
    const outcome = await reconcile(c.options);
    expect(outcome.writes).toBe(0);

    const status = c.state.toJSON() as {
      files: Array<Record<string, unknown>>;
      students: Array<Record<string, unknown>>;
    };
    expect(status.files).toEqual([
      expect.objectContaining({ file: expect.stringMatching(/roster\.yaml$/), complete: false, week: undefined }),
      expect.objectContaining({ complete: true, week: 1, entries: 4, validEntries: 3, findings: expect.any(Array) }),
    ]);
    expect(outcome.heldBack).toEqual([expect.objectContaining({ file: expect.stringMatching(/roster\.yaml$/) })]);
    expect(status.students.map((s) => [s['githubUsername'], s['deployment'], s['health']])).toEqual([
      ['Ann', 'deployed', { phase: 'Ready', reason: undefined }],
      ['bo', 'deployed', { phase: 'Failing', reason: 'ErrImagePull' }],
      ['cy', 'deployed', { phase: 'Progressing', reason: undefined }],
      ['dee', 'absent', undefined],
    ]);

    expect(await c.samples('rosterFileComplete')).toEqual({
      [`file=${c.folder}/roster.yaml`]: 0,
      [`file=${c.folder}/week-01.yaml`]: 1,
    });
    expect(await c.samples('rosterEntries')).toEqual({
      'validity=valid,week=1': 3,
      'validity=invalid,week=1': 1,
      'validity=valid,week=unknown': 0,
      'validity=invalid,week=unknown': 0,
    });
    expect(await c.samples('studentsDeployed')).toEqual({
      'deployment=deployed,week=01': 3,
      'deployment=absent,week=01': 1,
    });
    expect(await c.samples('studentsReady')).toEqual({ 'week=01': 1 });
    expect(await c.samples('studentReady')).toEqual({
      'reason=,student=ann,week=01': 1,
      'reason=ErrImagePull,student=bo,week=01': 0,
      'reason=Progressing,student=cy,week=01': 0,
    });
    expect(await c.samples('revision')).toEqual({
      [`revision=${outcome.revision},source=folder ${c.folder}`]: 1,
    });

    // The next pass replaces every gauge: bo left, the broken file was fixed, a new revision.
    c.week(entry('Ann') + entry('cy')).drop('roster.yaml');
    const next = await reconcile(c.options);
    expect(await c.samples('studentReady')).toEqual({
      'reason=,student=ann,week=01': 1,
      'reason=Progressing,student=cy,week=01': 0,
    });
    expect(await c.samples('studentsDeployed')).toEqual({ 'deployment=deployed,week=01': 2 });
    expect(await c.samples('studentsReady')).toEqual({ 'week=01': 1 });
    expect(Object.keys(await c.samples('rosterFileComplete'))).toEqual([`file=${c.folder}/week-01.yaml`]);
    expect(await c.samples('rosterEntries')).toEqual({ 'validity=valid,week=1': 2, 'validity=invalid,week=1': 0 });
    expect(await c.samples('revision')).toEqual({ [`revision=${next.revision},source=folder ${c.folder}`]: 1 });
  });

  test('the duration a pass records is in seconds and no longer than the caller waited for it', async () => {
    const c = new InProcessCourse(api).week(entry('ann') + entry('bo'));
    const started = performance.now();
    await reconcile(c.options);
    const waited = (performance.now() - started) / 1000;
    const { durationSeconds } = c.state.reconcile;
    expect(durationSeconds).toBeGreaterThan(0);
    expect(durationSeconds).toBeLessThanOrEqual(waited);
  });

  test('health that cannot be read leaves it unknown and the pass a success', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    api.inject({ method: 'GET', path: '/pods', status: 403, times: 1 });
    const outcome = await reconcile(c.options);
    expect(outcome.result).toBe('success');
    expect(api.servedFaults).toEqual([`GET /api/v1/namespaces/${NS}/pods 403`]);
    expect(c.state.students.get(`${NS}/ann`)!.health).toBeUndefined();
    expect(await c.samples('studentReady')).toEqual({ 'reason=unknown,student=ann,week=01': 0 });
  });

  test('a pass that cannot read the cluster changes nothing and records the failure, keeping the last result', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const first = await reconcile(c.options);
    c.week(entry('ann') + entry('bo'));
    api.inject({ method: 'GET', path: '/deployments', status: 403, times: 1 });
    const before = api.writes({ includeEvents: true }).length;
    await expect(reconcile(c.options)).rejects.toThrow(/list Deployment: HTTP 403/);
    expect(api.writes({ includeEvents: true }).length).toBe(before);
    expect(c.state.reconcile).toMatchObject({
      result: 'failure',
      revision: first.revision,
      writes: 0,
      error: expect.stringMatching(/list Deployment: HTTP 403/),
      lastSuccessAt: c.state.reconcile.lastSuccessAt,
    });
    expect(c.state.students.size).toBe(1);
  });
});

describe('cancellation', () => {
  test("a pass leaves no listener on the caller's signal, so one signal can serve many passes", async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const signal = new AbortController().signal;
    await reconcile(c.options, signal);
    c.week(entry('ann') + entry('bo'));
    await reconcile(c.options, signal);
    expect(getEventListeners(signal, 'abort')).toEqual([]);
  });

  test('a pass cancelled before it starts reads and writes nothing', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const cancel = new AbortController();
    cancel.abort(new Error('classops is stopping'));
    await expect(reconcile(c.options, cancel.signal)).rejects.toThrow('classops is stopping');
    expect(api.requests).toEqual([]);
    expect(c.state.reconcile).toMatchObject({ result: 'failure', error: 'classops is stopping' });
  });

  test('a pass cancelled while it lists the cluster stops at once, without waiting for the retry', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const cancel = new AbortController();
    // The listing fails once and would be retried; the cancel (with no Error as reason) arrives meanwhile.
    api.inject({ method: 'GET', path: '/namespaces', status: 503, times: 1, onServed: () => cancel.abort('stop') });
    await expect(reconcile(c.options, cancel.signal)).rejects.toThrow('reconcile cancelled');
    expect(api.writes({ includeEvents: true })).toEqual([]);
  });

  test('a pass cancelled while it applies starts no further write, no event, and commits nothing', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const cancel = new AbortController();
    // The cancel arrives while ann's Deployment is being applied (that write is retried and lands).
    api.inject({
      method: 'PATCH',
      path: `${DEPLOYMENTS}/student-ann`,
      status: 503,
      times: 1,
      onServed: () => cancel.abort(new Error('lost the lease')),
    });
    await expect(reconcile(c.options, cancel.signal)).rejects.toThrow('lost the lease');
    await new Promise((r) => setTimeout(r, 100));
    const writes = api.writes({ includeEvents: true });
    expect(writes.slice(-2)).toEqual([
      `PATCH ${DEPLOYMENTS}/student-ann?fieldManager=classops&force=true`,
      `PATCH ${DEPLOYMENTS}/student-ann?fieldManager=classops&force=true`,
    ]);
    // Nothing of a later kind, and no event.
    expect(writes.some((w) => w.includes('/ingresses/') || w.includes('/events'))).toBe(false);
    expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')).toBeDefined();
    expect(c.state.reconcile).toMatchObject({ result: 'failure', error: 'lost the lease' });
    expect(c.state.lastGood).toBeUndefined();
  });

  test('a pass cancelled while it prunes deletes nothing more and gives no refusal event', async () => {
    const c = new InProcessCourse(api)
      .week(entry('ann') + entry('bo') + entry('cy'), 1)
      .week(entry('dee') + entry('eve') + entry('fay'), 2);
    await reconcile(c.options);
    const cancel = new AbortController();
    // cy leaves week 1 (allowed); all of week 2 leaves (refused by the guard).
    c.week(entry('ann') + entry('bo'), 1).week('  # gone\n', 2);
    api.inject({
      method: 'DELETE',
      path: '/ingresses/student-cy--latest',
      status: 503,
      times: 1,
      onServed: () => cancel.abort(new Error('stopping')),
    });
    const before = api.writes({ includeEvents: true }).length;
    await expect(reconcile(c.options, cancel.signal)).rejects.toThrow('stopping');
    await new Promise((r) => setTimeout(r, 100));
    const writes = api.writes({ includeEvents: true }).slice(before);
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((w) => w.startsWith('DELETE ') && w.includes('/ingresses/student-cy'))).toBe(true);
    expect(names('Deployment')).toEqual([
      'student-ann',
      'student-bo',
      'student-cy',
      'student-dee',
      'student-eve',
      'student-fay',
    ]);
  });

  test('without a cancel, the same pass prunes cy and refuses week 2 with an event', async () => {
    const c = new InProcessCourse(api)
      .week(entry('ann') + entry('bo') + entry('cy'), 1)
      .week(entry('dee') + entry('eve') + entry('fay'), 2);
    await reconcile(c.options);
    c.week(entry('ann') + entry('bo'), 1).week('  # gone\n', 2);
    const outcome = await reconcile(c.options, new AbortController().signal);
    expect(outcome.result).toBe('refused');
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo', 'student-dee', 'student-eve', 'student-fay']);
    expect(
      events()
        .filter((e) => e.type === 'Warning')
        .map((e) => e.on),
    ).toEqual(['Deployment/student-dee']);
  });
});
