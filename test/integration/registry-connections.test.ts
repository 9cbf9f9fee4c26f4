/**
 * What could serialize image checks or make each one pay extra round trips: checks of one
 * registry that start together share a single HTTPS attempt, each check asks for the
 * manifest once (no HEAD, after which undici drops the connection), and connections are
 * reused rather than opened per request. A small registry on 127.0.0.1 counts what it sees.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { ImageChecker } from '../../src/registry/checker.js';

const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [],
  }),
);

let server: Server;
let host: string;
const seen = { connections: 0, notHttp: 0, methods: new Map<string, number>() };

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.methods.set(req.method ?? '', (seen.methods.get(req.method ?? '') ?? 0) + 1);
    if (req.url === '/v2/') return res.end('{}');
    if (/^\/v2\/ann\/app\/manifests\/v\d+$/.test(req.url ?? ''))
      return res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    if (req.url === `/v2/ann/app/blobs/${configDigest}`) return res.end(config);
    res.writeHead(404).end();
  });
  server.on('connection', () => (seen.connections += 1));
  // A TLS ClientHello is not HTTP: that is an HTTPS attempt.
  server.on('clientError', (_error, socket) => {
    seen.notHttp += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('16 checks, 4 at a time: one HTTPS attempt, no HEAD, and no more connections than checks at once', async () => {
  const checker = new ImageChecker(
    loadConfig({ env: {}, overrides: { registry: { concurrencyPerRegistry: 4 } } }).registry,
  );
  const images = Array.from({ length: 16 }, (_, i) => `${host}/ann/app:v${i}`);
  const verdicts = await checker.checkAll(images);
  expect([...verdicts.values()].map((v) => v.kind)).toEqual(Array(16).fill('pullable'));
  expect(seen.notHttp).toBe(1);
  expect(seen.methods.get('HEAD')).toBeUndefined();
  expect(seen.methods.get('GET')).toBe(16 * 3); // /v2/, manifest, config blob
  expect(seen.connections).toBeLessThanOrEqual(1 + 4); // the HTTPS attempt, then at most 4 kept
});
