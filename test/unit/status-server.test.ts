/**
 * The controller's one HTTP port (README "The controller"): /healthz, /readyz, /metrics and
 * /api/status as a probe, Prometheus or an instructor reads them, the webhook and gallery
 * routes only when given, and a busy port as an error at start. A real State filled by a
 * pass against the fake API server; the app on a loopback port of this process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { reconcile } from '../../src/controller/reconciler.js';
import { createApp, listen, type ServerOptions } from '../../src/controller/server.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { entry, InProcessCourse } from '../support/in-process.js';

let api: FakeApiServer;
let course: InProcessCourse;
const servers: Server[] = [];
beforeAll(async () => {
  api = await new FakeApiServer().start();
  course = new InProcessCourse(api).week(entry('ann') + entry('bo'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(async () => {
  await api.stop();
});

/** The app on a free loopback port; `get`/`post` return status, content type and body. */
async function serve(options: Partial<ServerOptions> = {}) {
  const app = createApp({ state: course.state, metrics: course.metrics, ready: () => true, ...options });
  const server = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string) => {
    const res = await fetch(base + path, { method });
    return { status: res.status, type: res.headers.get('content-type'), headers: res.headers, body: await res.text() };
  };
  return { get: (path: string) => call('GET', path), post: (path: string) => call('POST', path) };
}

test('/healthz answers ok as plain text, without naming the framework', async () => {
  const app = await serve({ ready: () => false });
  const health = await app.get('/healthz');
  expect(health).toMatchObject({ status: 200, body: 'ok\n' });
  expect(health.type).toMatch(/^text\/plain/);
  expect(health.headers.get('x-powered-by')).toBeNull();
});

test('/readyz is 503 with the reason until ready, then 200', async () => {
  let ready = false;
  const app = await serve({ ready: () => ready });
  const before = await app.get('/readyz');
  expect(before).toMatchObject({ status: 503, body: 'not ready: no reconcile has finished yet\n' });
  expect(before.type).toMatch(/^text\/plain/);
  ready = true;
  const after = await app.get('/readyz');
  expect(after).toMatchObject({ status: 200, body: 'ready\n' });
  expect(after.type).toMatch(/^text\/plain/);
});

test('/metrics and /api/status show what the last pass left: Prometheus text and State as JSON', async () => {
  await reconcile(course.options);
  const app = await serve();
  const metrics = await app.get('/metrics');
  expect(metrics.status).toBe(200);
  expect(metrics.type).toBe(course.metrics.registry.contentType);
  expect(metrics.body).toContain('classops_apply_operations_total{kind="Deployment",action="created"} 2');

  const status = await app.get('/api/status');
  expect(status.status).toBe(200);
  expect(status.type).toMatch(/^application\/json/);
  const json = JSON.parse(status.body) as {
    reconcile: { result: string };
    students: Array<{ githubUsername: string }>;
  };
  expect(json).toEqual(JSON.parse(JSON.stringify(course.state.toJSON())));
  expect(json.reconcile.result).toBe('success');
  expect(json.students.map((s) => s.githubUsername)).toEqual(['ann', 'bo']);
});

test('the webhook and the gallery are served only when given', async () => {
  const without = await serve();
  expect((await without.post('/webhooks/github')).status).toBe(404);
  expect((await without.get('/gallery')).status).toBe(404);

  const gallery = express.Router().get('/gallery', (_req, res) => {
    res.type('text/html').send('<h1>gallery</h1>');
  });
  const withBoth = await serve({
    webhook: (_req, res) => {
      res.status(202).send('queued');
    },
    gallery,
  });
  expect(await withBoth.post('/webhooks/github')).toMatchObject({ status: 202, body: 'queued' });
  expect(await withBoth.get('/gallery')).toMatchObject({ status: 200, body: '<h1>gallery</h1>' });
  expect((await withBoth.get('/webhooks/github')).status).toBe(404); // a push is a POST
});

test('a busy port is an error at start, not a server that never serves', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  servers.push(busy);
  const port = (busy.address() as AddressInfo).port;
  const app = createApp({ state: course.state, metrics: course.metrics, ready: () => true });
  await expect(listen(app, port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
});
