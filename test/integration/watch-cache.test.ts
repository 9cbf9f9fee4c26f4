/**
 * The watch's copy of the managed objects (an informer): a pass reads it instead of
 * listing every kind, yet what someone changes or deletes behind the controller's back is
 * still healed, and a copy that lags behind the cluster never leads to a prune.
 */
import type { ManagedObjectWatcher } from '../../src/cluster/watch.js';
import { reconcile, type ReconcilerOptions } from '../../src/controller/reconciler.js';
import { State } from '../../src/controller/state.js';
import { studentKey } from '../../src/pipeline/desired.js';
import { LABEL } from '../../src/render/names.js';
import { FakeApiServer, rolledOut } from '../support/fake-apiserver.js';
import { entry, InProcessCourse, NS } from '../support/in-process.js';
import { waitFor } from '../support/processes.js';

const LOGINS = ['ann', 'bo', 'cy', 'di', 'ed'];

let api: FakeApiServer;
let watcher: ManagedObjectWatcher;
let course: InProcessCourse;
let options: ReconcilerOptions;

/** Requests that list a managed kind, for the plan or for health (not watches, not Pods): what the copy saves. */
const listings = () =>
  api.requests.filter(
    (r) => r.startsWith('GET ') && r.includes('labelSelector') && !/watch=/.test(r) && !/\/pods\?/.test(r),
  );
const writeRoster = (logins: string[]) => course.week(logins.map((l) => entry(l)).join(''));
const cachedObject = (kind: string, name: string) =>
  watcher.cached()?.find((o) => o.kind === kind && o.metadata.namespace === NS && o.metadata.name === name);
type Spec = { template: { spec: { containers: Array<{ image: string }> } } };
const imageOf = (o: object | undefined) => (o as { spec?: Spec } | undefined)?.spec?.template.spec.containers[0]?.image;

beforeEach(async () => {
  api = await new FakeApiServer().start();
  course = new InProcessCourse(api);
  writeRoster(LOGINS);
  watcher = course.target.watch(() => undefined);
  options = course.options;
  expect((await reconcile(options)).plan.create.length).toBeGreaterThan(0);
  watcher.start();
  const objects = api.writes().length;
  await waitFor(async () => watcher.cached()?.length === objects, 10_000, 'the watch to list every kind');
});
afterEach(async () => {
  watcher.stop();
  await api.stop();
});

describe("a pass from the watch's copy", () => {
  test('writes nothing and lists no managed kind when nothing changed', async () => {
    const listed = listings().length;
    const writes = api.writes().length;
    const outcome = await reconcile(options);
    expect(outcome.plan.unchanged.length).toBe(writes);
    expect(api.writes().length).toBe(writes);
    expect(listings().length).toBe(listed);
  });

  test("reads each student's health from it: a Deployment that became ready is Ready, with no listing", async () => {
    api.put(rolledOut(api.get('apps/v1', 'Deployment', NS, 'student-ann')!));
    const ready = (o: object | undefined) => (o as { status?: { readyReplicas?: number } })?.status?.readyReplicas;
    await waitFor(async () => ready(cachedObject('Deployment', 'student-ann')) === 1, 10_000, 'the status');
    const listed = listings().length;
    await reconcile(options);
    expect(listings().length).toBe(listed);
    expect(options.state.students.get(studentKey(NS, 'ann'))?.health).toEqual({ phase: 'Ready', reason: undefined });
    expect(options.state.students.get(studentKey(NS, 'bo'))?.health?.phase).toBe('Pending');
  });

  test('heals an object someone changed behind its back', async () => {
    const live = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    const spec = live['spec'] as Spec;
    api.put({
      ...live,
      spec: { ...spec, template: { ...spec.template, spec: { containers: [{ name: 'app', image: 'evil/miner' }] } } },
    });
    await waitFor(async () => imageOf(cachedObject('Deployment', 'student-bo')) === 'evil/miner', 10_000, 'the edit');
    const listed = listings().length;
    const outcome = await reconcile(options);
    expect(listings().length).toBeGreaterThan(listed); // the write is decided on a fresh listing
    expect(outcome.plan.update.map((o) => o.metadata.name)).toEqual(['student-bo']);
    expect(imageOf(api.get('apps/v1', 'Deployment', NS, 'student-bo'))).toBe('ghcr.io/bo/app:v1');
  });

  test('re-creates an object someone deleted behind its back', async () => {
    api.remove('v1', 'Service', NS, 'student-cy');
    await waitFor(async () => cachedObject('Service', 'student-cy') === undefined, 10_000, 'the deletion');
    const listed = listings().length;
    const outcome = await reconcile(options);
    expect(listings().length).toBeGreaterThan(listed);
    expect(outcome.plan.create.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/student-cy']);
    expect(api.get('v1', 'Service', NS, 'student-cy')).toBeDefined();
  });

  test('never prunes from a copy that lags: an object no longer ours stays', async () => {
    // Someone takes ed's Service over; a watch filtered on our label is not told (the copy is now stale)…
    api.put({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: NS, name: 'student-ed', labels: { [LABEL.managedBy]: 'helm' } },
    });
    // …and ed leaves the roster: from the copy alone, the Service would be pruned with ed's other objects.
    writeRoster(LOGINS.filter((l) => l !== 'ed'));
    expect(cachedObject('Service', 'student-ed')?.metadata.labels?.[LABEL.managedBy]).toBe('classops');
    const listed = listings().length;
    const outcome = await reconcile(options);
    expect(listings().length).toBeGreaterThan(listed);
    expect(outcome.plan.prune.map((r) => `${r.kind}/${r.name}`)).not.toContain('Service/student-ed');
    expect(outcome.plan.prune.map((r) => `${r.kind}/${r.name}`)).toContain('Deployment/student-ed');
    expect(api.get('v1', 'Service', NS, 'student-ed')?.metadata.labels?.[LABEL.managedBy]).toBe('helm');
    expect(api.get('apps/v1', 'Deployment', NS, 'student-ed')).toBeUndefined();
  });

  test('decides a refusal on a fresh listing too', async () => {
    writeRoster([]);
    const listed = listings().length;
    const outcome = await reconcile(options);
    expect(outcome.result).toBe('refused');
    expect(outcome.plan.prune).toEqual([]);
    expect(listings().length).toBeGreaterThan(listed);
  });

  test('is not used by a restarted controller: its first pass lists the cluster, whose objects last-known-good comes from', async () => {
    course.state = new State();
    const listed = listings().length;
    const outcome = await reconcile(course.options);
    expect(outcome.writes).toBe(0);
    expect(listings().length).toBeGreaterThan(listed);
    expect([...course.state.lastGood!.keys()].sort()).toEqual(LOGINS.map((l) => `${NS}/${l}`));
  });

  test('is not used while a watch is down: the pass lists again', async () => {
    api.dropWatches();
    await waitFor(async () => watcher.cached() === undefined, 10_000, 'the dropped watch to be noticed');
    const listed = listings().length;
    await reconcile(options);
    expect(listings().length).toBeGreaterThan(listed);
  });
});
