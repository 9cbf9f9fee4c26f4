/**
 * The loop around reconcile (README "The controller"), in this process against the fake
 * API server: one pass at a time, changes during a pass cause exactly one more, failures
 * and partial passes are retried, a resync runs on its own, and stop cancels the pass so
 * nothing more is written.
 */
import { Controller, type ControllerOptions } from '../../src/controller/controller.js';
import type { ReconcileOutcome } from '../../src/controller/reconciler.js';
import type { Snapshot } from '../../src/source/index.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { entry, InProcessCourse, NS } from '../support/in-process.js';
import { waitFor } from '../support/processes.js';

let api: FakeApiServer;
const controllers: Controller[] = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
  await api.stop();
});

const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The first `method path` answers 503, and `action` runs as it is served: something that happens mid-pass. */
const midPass = (method: string, path: string, action: () => void) =>
  api.inject({ method, path, status: 503, times: 1, onServed: action });

/** A controller for the course; what each pass ended with, and how many passes ran at once at most. */
function controllerFor(c: InProcessCourse, options: Partial<ControllerOptions> = {}) {
  const outcomes: Array<ReconcileOutcome | Error> = [];
  let started = 0;
  let overlap = 0;
  let watching = 0;
  const source = {
    description: c.source.description,
    watch: (onChange: () => void) => {
      const stop = c.source.watch(onChange);
      watching += 1;
      return () => {
        watching -= 1;
        stop();
      };
    },
    snapshot: (): Promise<Snapshot> => {
      started += 1;
      overlap = Math.max(overlap, started - outcomes.length);
      return c.source.snapshot();
    },
  };
  const controller = new Controller({
    ...c.options,
    source,
    resyncMs: 3_600_000,
    debounceMs: 0,
    retryBaseMs: 5,
    onOutcome: (o) => outcomes.push(o),
    ...options,
  });
  controllers.push(controller);
  return { controller, outcomes, overlap: () => overlap, watching: () => watching };
}
const results = (outcomes: Array<ReconcileOutcome | Error>) =>
  outcomes.map((o) => (o instanceof Error ? `error: ${o.message}` : o.result));

test('change signals faster than the debounce still lead to a pass: a burst waits one debounce, not for its end', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c, { debounceMs: 200 });
  controller.start();
  await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
  c.week(entry('ann') + entry('bo'));
  // A signal every 20 ms (a poll interval far below the debounce, or a busy watch), for as long as the test waits.
  const storm = setInterval(() => controller.trigger(), 20);
  try {
    await waitFor(async () => api.get('apps/v1', 'Deployment', NS, 'student-bo') !== undefined, 5_000, 'bo deployed');
  } finally {
    clearInterval(storm);
  }
});

test('start runs a pass at once and publishes its result; starting again does nothing', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c, { debounceMs: 60_000 });
  const before = Date.now() / 1000;
  controller.start();
  controller.start();
  await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
  await controller.idle();
  expect(results(outcomes)).toEqual(['success']);
  expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')).toBeDefined();
  expect(await c.samples('reconciles')).toEqual({ 'result=success': 1 });
  const duration = (await c.metrics.reconcileDuration.get()).values;
  expect(duration.find((v) => v.metricName === 'classops_reconcile_duration_seconds_count')!.value).toBe(1);
  expect(duration.find((v) => v.metricName === 'classops_reconcile_duration_seconds_sum')!.value).toBe(
    c.state.reconcile.durationSeconds,
  );
  const lastSuccess = (await c.metrics.lastSuccess.get()).values[0]!.value;
  expect(lastSuccess).toBeGreaterThanOrEqual(before);
  expect(lastSuccess).toBeLessThanOrEqual(Date.now() / 1000);

  controller.start();
  await sleep(100);
  expect(outcomes).toHaveLength(1);
});

test('changes during a pass cause exactly one more pass, never two at once', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes, overlap } = controllerFor(c);
  // While the first pass lists Deployments, three changes are announced.
  midPass('GET', '/apis/apps/v1/deployments', () => {
    controller.trigger();
    controller.trigger();
    controller.trigger(0);
  });
  controller.start();
  await waitFor(async () => outcomes.length >= 1, 5_000, 'the first pass');
  await controller.idle();
  await sleep(50);
  expect(results(outcomes)).toEqual(['success', 'success']);
  expect(overlap()).toBe(1);
  expect(outcomes[1]).toMatchObject({ writes: 0 });
});

test('a trigger with nothing running waits the debounce, then runs one pass', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c, { debounceMs: 20 });
  controller.start();
  await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
  await controller.idle();
  controller.trigger();
  controller.trigger();
  await waitFor(async () => outcomes.length === 2, 5_000, 'the triggered pass');
  await sleep(50);
  expect(outcomes).toHaveLength(2);
});

test('a change in the roster folder starts a pass; after stop it does not', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes, watching } = controllerFor(c, { debounceMs: 10 });
  controller.start();
  controller.start();
  expect(watching()).toBe(1);
  await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
  c.week(entry('ann') + entry('bo'));
  await waitFor(async () => api.get('apps/v1', 'Deployment', NS, 'student-bo') !== undefined, 5_000, 'bo');
  await controller.idle();
  expect(await controller.stop()).toBe(true);
  expect(watching()).toBe(0); // the source's watch is released
  const passes = outcomes.length;
  c.week(entry('ann'));
  await sleep(200);
  expect(outcomes).toHaveLength(passes);
  expect(api.get('apps/v1', 'Deployment', NS, 'student-bo')).toBeDefined();
});

test('a failed pass is retried with backoff until it succeeds; each failure is logged and counted', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  api.inject({ method: 'GET', path: '/api/v1/namespaces', status: 403, times: 2 });
  const { controller, outcomes } = controllerFor(c);
  controller.start();
  await waitFor(async () => outcomes.length === 3, 5_000, 'two failures and a success');
  expect(results(outcomes)).toEqual([
    expect.stringMatching(/^error: list Namespace: HTTP 403/),
    expect.stringMatching(/^error: list Namespace: HTTP 403/),
    'success',
  ]);
  expect(await c.samples('reconciles')).toEqual({ 'result=failure': 2, 'result=success': 1 });
  const failures = c.logs.filter((l) => l.msg === 'reconcile failed; nothing was changed');
  expect(failures.map((l) => [l.level, l['retry'], l['error']])).toEqual([
    ['error', 1, expect.stringMatching(/list Namespace: HTTP 403/)],
    ['error', 2, expect.stringMatching(/list Namespace: HTTP 403/)],
  ]);

  // A success resets the count: the next failure is the first again.
  await controller.idle();
  api.inject({ method: 'GET', path: '/api/v1/namespaces', status: 403, times: 1 });
  controller.trigger(0);
  await waitFor(async () => outcomes.length === 5, 5_000, 'a failure and its retry');
  expect(c.logs.filter((l) => l.msg === 'reconcile failed; nothing was changed').map((l) => l['retry'])).toEqual([
    1, 2, 1,
  ]);
});

test('a partial pass is retried on its own, and is not a success until then', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  api.inject({ method: 'PATCH', path: `${DEPLOYMENTS}/student-ann`, status: 422, times: 1 });
  const slow = controllerFor(c, { retryBaseMs: 3_600_000 });
  slow.controller.start();
  await waitFor(async () => slow.outcomes.length === 1, 5_000, 'the partial pass');
  await slow.controller.idle();
  expect(results(slow.outcomes)).toEqual(['partial']);
  expect(await c.samples('reconciles')).toEqual({ 'result=partial': 1 });
  expect((await c.metrics.lastSuccess.get()).values[0]!.value).toBe(0);
  await slow.controller.stop();

  api.inject({ method: 'PATCH', path: `${DEPLOYMENTS}/student-ann`, status: 422, times: 1 });
  c.week(entry('ann', 'ghcr.io/ann/app:v2'));
  const quick = controllerFor(c);
  quick.controller.start();
  await waitFor(async () => quick.outcomes.length === 2, 5_000, 'the partial pass and its retry');
  expect(results(quick.outcomes)).toEqual(['partial', 'success']);
  expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')!.spec.template.spec.containers[0].image).toBe(
    'ghcr.io/ann/app:v2',
  );
});

test('a refused pass counts as refused, and as the last success', async () => {
  const c = new InProcessCourse(api).week(entry('ann') + entry('bo') + entry('cy'));
  const { controller, outcomes } = controllerFor(c, { retryBaseMs: 3_600_000 });
  controller.start();
  await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
  await controller.idle();
  c.metrics.lastSuccess.set(0);
  c.week('  # gone\n');
  controller.trigger(0);
  await waitFor(async () => outcomes.length === 2, 5_000, 'the refused pass');
  expect(results(outcomes)).toEqual(['success', 'refused']);
  expect(await c.samples('reconciles')).toEqual({ 'result=success': 1, 'result=refused': 1 });
  expect((await c.metrics.lastSuccess.get()).values[0]!.value).toBeGreaterThan(0);
});

test('a resync runs passes with nothing announced; stop ends them', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c, { resyncMs: 20 });
  controller.start();
  await waitFor(async () => outcomes.length >= 3, 5_000, 'resync passes');
  expect(await controller.stop()).toBe(true);
  const passes = outcomes.length;
  await sleep(150);
  expect(outcomes).toHaveLength(passes);
  expect(results(outcomes).every((r) => r === 'success')).toBe(true);
});

test('stop during a pass cancels it: nothing more is written, it is no failure, and no retry or resync follows', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  let stopping: Promise<boolean> | undefined;
  const { controller, outcomes } = controllerFor(c, { resyncMs: 10 });
  midPass('PATCH', `${DEPLOYMENTS}/student-ann`, () => {
    stopping = controller.stop();
  });
  controller.start();
  await waitFor(async () => stopping !== undefined, 5_000, 'the stop');
  expect(await stopping).toBe(true);
  const writes = api.writes({ includeEvents: true });
  await sleep(150);
  expect(api.writes({ includeEvents: true })).toEqual(writes);
  expect(writes.some((w) => w.includes('/ingresses/') || w.includes('/events'))).toBe(false);
  expect(outcomes).toEqual([]);
  expect(await c.samples('reconciles')).toEqual({});
  expect(c.logs.some((l) => l.level === 'error')).toBe(false);
  expect(c.state.reconcile).toMatchObject({ result: 'failure', error: 'classops is stopping' });
  controller.trigger(0);
  await sleep(50);
  expect(outcomes).toEqual([]);
});

test('stop gives up waiting after its grace time when the pass is still writing', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  let stopping: Promise<boolean> | undefined;
  const { controller } = controllerFor(c);
  // The cancel arrives while ann's Deployment is being applied; its retry waits 100 ms or more.
  midPass('PATCH', `${DEPLOYMENTS}/student-ann`, () => {
    stopping = controller.stop(1);
  });
  controller.start();
  await waitFor(async () => stopping !== undefined, 5_000, 'the stop');
  expect(await stopping).toBe(false);
  await controller.idle();
});

test('stop with no pass running resolves at once', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c, { debounceMs: 60_000 });
  expect(await controller.stop()).toBe(true);
  controller.trigger(0);
  await sleep(50);
  expect(outcomes).toEqual([]);
  expect(api.requests).toEqual([]);
});

test('a controller nobody listens to (no onOutcome) runs and counts its pass like any other', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller } = controllerFor(c, { onOutcome: undefined });
  controller.start();
  await waitFor(async () => (await c.samples('reconciles'))['result=success'] === 1, 5_000, 'the first pass');
  await controller.idle();
  expect(await c.samples('reconciles')).toEqual({ 'result=success': 1 });
  expect(c.logs.some((l) => l.level === 'error')).toBe(false);
  expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')).toBeDefined();
});

test('idle waits for the pass under way and the one more it was asked for', async () => {
  const c = new InProcessCourse(api).week(entry('ann'));
  const { controller, outcomes } = controllerFor(c);
  let idle: Promise<void> | undefined;
  // While the first pass lists Deployments, a change arrives and someone waits for the controller to settle.
  midPass('GET', '/apis/apps/v1/deployments', () => {
    controller.trigger(0);
    idle = controller.idle();
  });
  controller.start();
  await waitFor(async () => idle !== undefined, 5_000, 'the first pass to list');
  await idle;
  expect(results(outcomes)).toEqual(['success', 'success']);
});

describe('the defaults `classops run` uses (no debounce or retry base given)', () => {
  test('triggers 50 ms apart gather into one pass (a 200 ms debounce)', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    const { controller, outcomes } = controllerFor(c, { debounceMs: undefined });
    controller.start();
    await waitFor(async () => outcomes.length === 1, 5_000, 'the first pass');
    await controller.idle();
    controller.trigger();
    await sleep(50);
    controller.trigger();
    await waitFor(async () => outcomes.length === 2, 5_000, 'the triggered pass');
    await controller.idle();
    await sleep(300);
    expect(outcomes).toHaveLength(2);
  });

  test('a failed pass is retried no sooner than after one second', async () => {
    const c = new InProcessCourse(api).week(entry('ann'));
    api.inject({ method: 'GET', path: '/api/v1/namespaces', status: 403, times: 5 });
    const { controller, outcomes } = controllerFor(c, { retryBaseMs: undefined });
    controller.start();
    await waitFor(async () => outcomes.length === 1, 5_000, 'the failed pass');
    await sleep(500);
    expect(results(outcomes)).toEqual([expect.stringMatching(/^error: list Namespace: HTTP 403/)]);
  });
});
