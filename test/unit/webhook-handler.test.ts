/** The webhook route under hostile senders: what it reads, how much at once, and for how long. */
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { webhookHandler } from '../../src/github/webhook.js';
import { silentLogger } from '../../src/observability/log.js';
import { Metrics } from '../../src/observability/metrics.js';
import { waitFor } from '../support/processes.js';
import { pingPayload, signature } from '../support/webhook-deliveries.js';

const SECRET = 'it-is-a-secret';
type Server = ReturnType<express.Express['listen']>;
let server: Server;
let port: number;
let metrics: Metrics;

/** The route on a loopback port, with the body timeout given (the default's, 10 s, when none is). */
async function serve(bodyTimeoutMs?: number): Promise<{ server: Server; port: number }> {
  const handler = await webhookHandler({
    secrets: [SECRET],
    branch: 'main',
    path: 'students',
    onPush: () => undefined,
    metrics,
    log: silentLogger,
    ...(bodyTimeoutMs === undefined ? {} : { bodyTimeoutMs }),
  });
  const app = express();
  app.post('/webhooks/github', handler);
  const listening = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { server: listening, port: (listening.address() as AddressInfo).port };
}

async function stop(s: Server): Promise<void> {
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
}

beforeEach(async () => {
  metrics = new Metrics();
  ({ server, port } = await serve(300));
});
afterEach(() => stop(server));

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

const forged = {
  'content-type': 'application/json',
  'x-github-event': 'push',
  'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
  'content-length': '2000000',
};

/** A signed ping's body and headers. */
function signedPing(): { body: string; headers: Record<string, string> } {
  const body = pingPayload();
  const headers = {
    ...forged,
    'x-github-event': 'ping',
    'x-hub-signature-256': signature(SECRET, body),
    'content-length': String(Buffer.byteLength(body)),
  };
  return { body, headers };
}

/** A signed ping, as GitHub sends it: headers and body at once. */
function ping(to = port): Promise<IncomingMessage & { text: Promise<string> }> {
  const { body, headers } = signedPing();
  return open(headers, body, to);
}

/** A signed ping whose body leaves `delayMs` after its headers (a proxy that passes headers on first): its status, 0 if cut off. */
function delayedPing(to: number, delayMs: number): Promise<number> {
  const { body, headers } = signedPing();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: to, path: '/webhooks/github', method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.flushHeaders();
    setTimeout(() => req.end(body), delayMs);
  });
}

/** A forged body of 3 MB sent steadily to `to`: 512 KB at once, then 10 KB every 10 ms, until the server cuts it off. */
function streaming(to: number): void {
  const headers = { ...forged, 'content-length': String(3 * 1024 * 1024 - 1) };
  const req = request({ host: '127.0.0.1', port: to, path: '/webhooks/github', method: 'POST', headers });
  req.on('error', () => undefined);
  req.on('response', (res) => res.resume());
  req.write(Buffer.alloc(512 * 1024, 32));
  const timer = setInterval(() => (req.destroyed ? clearInterval(timer) : req.write(Buffer.alloc(10_000, 32))), 10);
  req.on('close', () => clearInterval(timer));
}

test('at most 8 bodies are read at once: with 8 coming steadily a ninth is refused; one that does not arrive in time is dropped', async () => {
  // A body timeout of 2 s: long enough for all eight to be under way, however loaded the machine.
  const { server: slow, port: slowPort } = await serve(2_000);
  try {
    for (let i = 0; i < 8; i++) streaming(slowPort);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ninth = await open(forged, '{', slowPort);
    expect(ninth.statusCode).toBe(503);
    expect(await ninth.text).toContain('too many deliveries at once');
    // Past the body timeout they are cut off, and their slots are free again.
    await waitFor(async () => (await counted('timeout')) === 8, 10_000, 'the eight to time out');
    expect((await ping(slowPort)).statusCode).toBe(200);
  } finally {
    await stop(slow);
  }
});

describe('senders that hold slots cannot keep GitHub out (the default 10 s body timeout)', () => {
  let patientPort: number;
  let patient: Server;
  beforeEach(async () => {
    ({ server: patient, port: patientPort } = await serve());
  });
  afterEach(() => stop(patient));

  test('eight trickled bodies: a delivery takes the slot of the slowest at once', async () => {
    // Their connections are cut (the one pushed out, then the rest at the end): no answer is expected.
    for (let i = 0; i < 8; i++) open(forged, '{', patientPort).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500)); // all eight under way, however loaded the machine
    const answer = await ping(patientPort);
    expect(answer.statusCode).toBe(200);
    expect(await answer.text).toBe('pong\n');
    expect(await counted('slow')).toBe(1);
  });

  test('a new forged request every 10 ms, each with its first byte: a delivery whose body follows its headers by 50 ms is read and answered', async () => {
    let flooding = true;
    void (async () => {
      while (flooding) {
        open(forged, '{', patientPort).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300)); // every slot taken
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await delayedPing(patientPort, 50));
    flooding = false;
    expect(statuses).toEqual(Array(5).fill(200));
  });

  test('a new forged request every 5 ms, headers only: every delivery meanwhile is read and answered', async () => {
    let flooding = true;
    void (async () => {
      while (flooding) {
        open(forged, undefined, patientPort).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      statuses.push((await ping(patientPort)).statusCode!);
    }
    flooding = false;
    expect(statuses).toEqual(Array(10).fill(200));
  });
});
