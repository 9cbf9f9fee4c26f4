/** The webhook route under hostile senders: what it reads, how much at once, and for how long. */
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { webhookHandler } from '../../src/github/webhook.js';
import { silentLogger } from '../../src/observability/log.js';
import { Metrics } from '../../src/observability/metrics.js';
import { pingPayload, signature } from '../support/webhook-deliveries.js';

const SECRET = 'it-is-a-secret';
let server: ReturnType<express.Express['listen']>;
let port: number;
let metrics: Metrics;

beforeEach(async () => {
  metrics = new Metrics();
  const handler = await webhookHandler({
    secrets: [SECRET],
    branch: 'main',
    path: 'students',
    onPush: () => undefined,
    metrics,
    log: silentLogger,
    bodyTimeoutMs: 300,
  });
  const app = express();
  app.post('/webhooks/github', handler);
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends the headers (and `body`, if given) and leaves the request open: the answer comes before any body. */
function open(
  headers: Record<string, string>,
  body?: string,
  to = port,
): Promise<IncomingMessage & { text: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: to, path: '/webhooks/github', method: 'POST', headers }, (res) => {
      const text = (async () => {
        let all = '';
        try {
          for await (const chunk of res) all += String(chunk);
        } catch {
          // the server closed the connection: what came before is the answer
        }
        return all;
      })();
      resolve(Object.assign(res, { text }));
    });
    req.on('error', reject); // a request cut off before any answer
    if (body !== undefined) req.write(body);
    req.flushHeaders();
  });
}

const counted = async (result: string) =>
  (await metrics.webhookDeliveries.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

test('an unsigned delivery is refused before its body is read, however large it says it is', async () => {
  const res = await open({ 'content-type': 'application/json', 'content-length': String(3 * 1024 * 1024 - 1) });
  expect(res.statusCode).toBe(401);
  expect(await res.text).toBe('missing or wrong X-Hub-Signature-256\n');
});

test('a form-encoded delivery, the setting GitHub starts with, is refused with the fix, ping included', async () => {
  const body = `payload=${encodeURIComponent(pingPayload())}`;
  const res = await open(
    {
      'content-type': 'application/x-www-form-urlencoded',
      'x-github-event': 'ping',
      'x-hub-signature-256': signature(SECRET, body),
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  );
  expect(res.statusCode).toBe(415);
  expect(await res.text).toContain('set "Content type" to application/json');
});

test('at most 8 bodies are read at once; a body that does not arrive in time is dropped', async () => {
  const headers = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    'content-length': '1000000',
  };
  // Eight senders that never finish their bodies hold every slot.
  const stalled = Array.from({ length: 8 }, () => open(headers, '{'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const ninth = await open(headers, '{');
  expect(ninth.statusCode).toBe(503);
  expect(await ninth.text).toContain('too many deliveries at once');
  // Past the body timeout the stalled ones are cut off, and their slots are free again.
  await Promise.allSettled(stalled);
  await new Promise((resolve) => setTimeout(resolve, 600));
  expect(await counted('timeout')).toBe(8);
  const body = pingPayload();
  const ping = await open(
    {
      ...headers,
      'x-github-event': 'ping',
      'x-hub-signature-256': signature(SECRET, body),
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  );
  expect(ping.statusCode).toBe(200);
});

test('senders that trickle their bodies cannot keep GitHub out: a delivery takes the slot of the slowest', async () => {
  // The default body timeout (10 s): eight trickled bodies would hold every slot that long.
  const patient = await webhookHandler({
    secrets: [SECRET],
    branch: 'main',
    path: 'students',
    onPush: () => undefined,
    metrics,
    log: silentLogger,
  });
  const app = express();
  app.post('/webhooks/github', patient);
  const other = await new Promise<ReturnType<express.Express['listen']>>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const otherPort = (other.address() as AddressInfo).port;
  try {
    const forged = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
      'content-length': '1000000',
    };
    // Their connections are cut (the one pushed out, then the rest at the end): no answer is expected.
    for (let i = 0; i < 8; i++) open(forged, '{', otherPort).catch(() => undefined);
    // A delivery while they have been reading only a moment is refused: a flood cannot push out each other's reads.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await open(forged, '{', otherPort)).statusCode).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const body = pingPayload();
    const ping = await open(
      {
        ...forged,
        'x-github-event': 'ping',
        'x-hub-signature-256': signature(SECRET, body),
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
      otherPort,
    );
    expect(ping.statusCode).toBe(200);
    expect(await ping.text).toBe('pong\n');
    expect(await counted('slow')).toBe(1);
  } finally {
    other.closeAllConnections();
    await new Promise((resolve) => other.close(resolve));
  }
});
