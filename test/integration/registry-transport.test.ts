/**
 * What a check says when the connection to a registry goes wrong in ways the verdict tests
 * do not reach: a body that stops halfway, a reset in the TLS handshake, a resolver that
 * fails for now, and an HTTPS registry that redirects down to plain HTTP. Each server
 * here records what it was sent, so a fault that was not served fails the test.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { loadConfig } from '../../src/config.js';
import { TokenCache } from '../../src/registry/auth.js';
import { ImageChecker } from '../../src/registry/checker.js';
import { checkImageOnce } from '../../src/registry/client.js';
import { parseImageReference, type ImageReference } from '../../src/roster/image-reference.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { faultyRegistries } from '../support/faulty-registry.js';
import { checkThrough } from '../support/renamed-registry.js';

const { serve, stopLater, stopAll } = faultyRegistries();
afterEach(stopAll);

const check = (image: string, timeout = '5s') =>
  new ImageChecker(loadConfig({ env: {}, overrides: { registry: { timeout } } }).registry).check(image);

const reference = (image: string): ImageReference => {
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.reference;
};

async function listen<T extends TcpServer>(server: T): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stopLater({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('a manifest whose body stops halfway', () => {
  test('and then nothing comes: the time limit covers the body too', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/body-stall/app:v1`, '1s')).toEqual({
      kind: 'unreachable',
      reason: `${registry.host} did not answer in time`,
    });
    expect(registry.servedFor('body-stall').map((s) => `${s.method} ${s.status}`)).toEqual(['GET 200']);
  });

  test('and then the socket closes: closed the connection', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/body-cut/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `${registry.host} closed the connection`,
    });
    expect(registry.servedFor('body-cut').map((s) => `${s.method} ${s.status}`)).toEqual(['GET 200']);
  });
});

test('a server that resets the TLS handshake speaks TLS as far as anyone knows: plain HTTP is never tried', async () => {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.once('data', () => socket.resetAndDestroy());
  });
  const host = await listen(server);
  expect(await check(`${host}/ann/app:v1`)).toEqual({ kind: 'unreachable', reason: `${host} closed the connection` });
  expect(connections).toBe(1);
});

test('a resolver that fails for now (EAI_AGAIN): the name could not be resolved', async () => {
  const asked: string[] = [];
  const dispatcher = new Agent({
    connect: {
      lookup: (host: string, _options: unknown, callback: (error: Error) => void) => {
        asked.push(host);
        callback(Object.assign(new Error(`getaddrinfo EAI_AGAIN ${host}`), { code: 'EAI_AGAIN' }));
      },
    } as object,
  });
  stopLater({ stop: () => dispatcher.close() });
  expect(await checkThrough(dispatcher, 'registry.classops.test/ann/app:v1', [])).toEqual({
    kind: 'unreachable',
    reason: 'the name registry.classops.test could not be resolved',
  });
  expect(asked).toEqual(['registry.classops.test']);
});

test('an HTTPS registry that redirects to plain HTTP is refused, and never asked in plain HTTP', async () => {
  const { certFile, keyFile } = selfSignedCertificate('classops-transport-', '/CN=127.0.0.1', [
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  const paths: Array<string | undefined> = [];
  let notTls = 0;
  const server = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
    paths.push(req.url);
    res.writeHead(302, { location: `http://127.0.0.1:1${req.url ?? ''}` }).end();
  });
  server.on('tlsClientError', () => (notTls += 1));
  const host = await listen(server);
  // A client that trusts this certificate, as one would trust a registry's real one.
  const dispatcher = new Agent({ connect: { ca: readFileSync(certFile) } });
  stopLater({ stop: () => dispatcher.close() });
  const outcome = await checkImageOnce(reference(`${host}/ann/app:v1`), {
    requiredPlatform: 'linux/amd64',
    maxManifestBytes: 1 << 20,
    plainHttp: [],
    bases: new Map(),
    http: { timeoutMs: 5_000, dispatcher },
    tokens: new TokenCache(),
    blobStores: new Map(),
    now: () => performance.now(),
  });
  expect(outcome).toEqual({
    // The registry answered: a refused redirect is no sign that it is down.
    verdict: { kind: 'unreachable', reason: `refused a redirect from https://${host} to http://127.0.0.1:1` },
    unanswered: false,
  });
  expect(paths).toEqual(['/v2/']);
  expect(notTls).toBe(0);
});
