/**
 * The security and caching promises of the image checks (README "Image checks"), each
 * against a loopback registry that records what it served, so a test fails when the
 * promise is broken and never passes because a fault was silently not served.
 */
import { loadConfig, type RegistryConfig } from '../../src/config.js';
import { ImageChecker } from '../../src/registry/checker.js';
import { FaultyRegistry, GOOD_DIGEST, faultyRegistries } from '../support/faulty-registry.js';
import { waitFor } from '../support/processes.js';

const registryConfig = (overrides: Record<string, unknown> = {}): RegistryConfig =>
  loadConfig({ env: {}, overrides: { registry: { timeout: '5s', ...overrides } } }).registry;

/** A fake clock: TTLs are checked by moving it, never by sleeping. */
function clock(start = 1_000_000) {
  const c = { now: start, advance: (ms: number) => (c.now += ms) };
  return c;
}

const { serve, stopAll } = faultyRegistries();
afterEach(stopAll);

describe('token auth: a manifest refused after a token was granted is private', () => {
  test.each([401, 403] as const)('HTTP %i on the manifest gives private, not a warning', async (status) => {
    const registry = await serve({ tokenSeconds: 300 });
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/manifest-${status}/app:v1`);
    expect(verdict).toEqual({ kind: 'private', detail: `the registry refused the anonymous pull (HTTP ${status})` });
    // The token was granted, and the manifest request carried it and was refused.
    expect(registry.tokens).toEqual(['token-1']);
    expect(registry.servedFor(`manifest-${status}`)).toEqual([
      { method: 'GET', path: '/v2/manifest-' + status + '/app/manifests/v1', status, authorization: 'Bearer token-1' },
    ]);
  });
});

describe('a manifest is accepted only when its body has the digest it claims', () => {
  test('a body that differs from Docker-Content-Digest is not accepted', async () => {
    const registry = await serve();
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/digest-mismatch/app:v1`);
    expect(verdict).toEqual({
      kind: 'unreachable',
      reason: 'the manifest the registry sent does not match its digest',
    });
    expect(registry.servedFor('digest-mismatch').map((s) => `${s.method} ${s.status}`)).toEqual(['GET 200']);
  });

  test('a body that differs from the digest the student pinned is not accepted', async () => {
    const registry = await serve();
    // `good` serves GOOD_INDEX with its true digest; the student asked for another one.
    const other = `sha256:${'ab'.repeat(32)}`;
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/good/app@${other}`);
    expect(verdict).toEqual({
      kind: 'unreachable',
      reason: 'the manifest the registry sent does not match its digest',
    });
    expect(registry.servedFor('good').map((s) => `${s.method} ${s.path} ${s.status}`)).toEqual([
      `GET /v2/good/app/manifests/${other} 200`,
    ]);
    // The same body under its own digest is pullable: the check above failed on the digest alone.
    expect(await new ImageChecker(registryConfig()).check(`${registry.host}/good/app@${GOOD_DIGEST}`)).toEqual({
      kind: 'pullable',
      digest: GOOD_DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
    });
  });
});

describe('credentials stay with the registry', () => {
  test.each([
    ['another loopback address (127.0.0.2)', '127.0.0.2'],
    ['another port', '127.0.0.1'],
  ])('after a redirect to %s, that host never sees the Authorization header', async (_, address) => {
    const elsewhere = await serve({ address });
    const registry = await serve({ tokenSeconds: 300, redirectTo: `http://${elsewhere.host}` });
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/redirect-away/app:v1`);
    expect(verdict).toMatchObject({ kind: 'pullable', digest: GOOD_DIGEST });
    // The registry got the token and redirected; the other host answered without ever seeing it.
    expect(registry.servedFor('redirect-away').map((s) => [s.status, s.authorization])).toEqual([
      [307, 'Bearer token-1'],
    ]);
    expect(elsewhere.servedFor('good').map((s) => `${s.method} ${s.status}`)).toEqual(['GET 200']);
    expect(elsewhere.served.map((s) => s.authorization)).toEqual([undefined]);
  });
});

describe('redirects', () => {
  test('a redirect within the registry keeps the token (it is the same host)', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/redirect-here/app:v1`);
    expect(verdict).toMatchObject({ kind: 'pullable', digest: GOOD_DIGEST });
    expect(registry.servedFor('good').map((s) => [s.method, s.status, s.authorization])).toEqual([
      ['GET', 200, 'Bearer token-1'],
    ]);
  });

  test('at most 3 redirects are followed: the fourth is refused', async () => {
    const registry = await serve();
    const verdict = await new ImageChecker(registryConfig()).check(`${registry.host}/redirect-loop/app:v1`);
    expect(verdict).toEqual({
      kind: 'unreachable',
      reason: `more than 3 redirects from ${registry.host}`,
    });
    // The first request and 3 redirects followed, all answered 302; nothing after.
    expect(registry.servedFor('redirect-loop').map((s) => `${s.method} ${s.status}`)).toEqual([
      'GET 302',
      'GET 302',
      'GET 302',
      'GET 302',
    ]);
  });
});

describe('at most concurrencyPerRegistry checks at once per registry', () => {
  test.each([1, 2])('limit %i holds at the server', async (limit) => {
    const registry = await serve({ delayMs: 100 });
    const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: limit }));
    const images = Array.from({ length: 6 }, (_, i) => `${registry.host}/good/app:v${i}`);
    const verdicts = await checker.checkAll(images);
    expect([...verdicts.values()].every((v) => v.kind === 'pullable')).toBe(true);
    expect(registry.served.length).toBe(6 * 2); // ping and GET of the manifest for each
    expect(registry.maxInFlight).toBe(limit);
  });

  test('with a limit of 1, each check ends before the next one starts', async () => {
    const registry = await serve();
    const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 1 }));
    const images = Array.from({ length: 4 }, (_, i) => `${registry.host}/good/app:v${i}`);
    await checker.checkAll(images);
    // A limit on requests alone (the connection pool has one too) would let the pings of all four go first.
    expect(registry.requests).toEqual([0, 1, 2, 3].flatMap((i) => ['GET /v2/', `GET /v2/good/app/manifests/v${i}`]));
  });

  test('the limit is per registry: a registry that hangs does not hold back another', async () => {
    const stuck = await serve();
    const other = await serve();
    const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 1, timeout: '20s' }));
    const pending = checker.check(`${stuck.host}/hang/app:v1`);
    await waitFor(async () => stuck.requests.includes('GET /v2/hang/app/manifests/v1'), 10_000, 'the hanging request');
    // With one limit for all registries, the other check would wait for the hanging one to time out.
    const first = await Promise.race([
      pending.then(() => 'the hanging registry'),
      checker.check(`${other.host}/good/app:v1`).then((v) => `the other registry: ${v.kind}`),
    ]);
    expect(first).toBe('the other registry: pullable');
    await stuck.stop(); // drops the hanging answer
    expect(await pending).toMatchObject({ kind: 'unreachable' });
  });
});

describe('anonymous tokens are reused until they expire, then fetched again', () => {
  test('a token of 60 s is reused for 50 s (renewed 10 s early) and fetched again after', async () => {
    const registry = await serve({ tokenSeconds: 60 });
    const time = clock();
    const checker = new ImageChecker(registryConfig(), { now: () => time.now });
    expect(await checker.check(`${registry.host}/good/app:v1`)).toMatchObject({ kind: 'pullable' });
    time.advance(49_000);
    expect(await checker.check(`${registry.host}/good/app:v2`)).toMatchObject({ kind: 'pullable' });
    expect(registry.tokens).toEqual(['token-1']);
    time.advance(2_000);
    expect(await checker.check(`${registry.host}/good/app:v3`)).toMatchObject({ kind: 'pullable' });
    expect(registry.tokens).toEqual(['token-1', 'token-2']);
    // The manifest requests carried the token that was valid at the time.
    expect(
      registry
        .servedFor('good')
        .filter((s) => s.method === 'GET')
        .map((s) => s.authorization),
    ).toEqual(['Bearer token-1', 'Bearer token-1', 'Bearer token-2']);
  });
});

describe('verdict caching', () => {
  const manifestRequests = (registry: FaultyRegistry) => registry.servedFor('manifest-401').length;

  test('student-fault verdicts are cached for the negative TTL, then checked again', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    const time = clock();
    const checker = new ImageChecker(registryConfig({ cacheTtl: { negative: '5s' } }), { now: () => time.now });
    const image = `${registry.host}/manifest-401/app:v1`;
    expect(await checker.check(image)).toMatchObject({ kind: 'private' });
    expect(manifestRequests(registry)).toBe(1);
    time.advance(4_999);
    expect(await checker.check(image)).toMatchObject({ kind: 'private' });
    expect(manifestRequests(registry)).toBe(1);
    time.advance(1); // exactly the TTL: expired
    expect(await checker.check(image)).toMatchObject({ kind: 'private' });
    expect(manifestRequests(registry)).toBe(2);
  });

  test('the default negative TTL is one minute, shorter than the positive one', async () => {
    const registry = await serve({ tokenSeconds: 3600 });
    const time = clock();
    const checker = new ImageChecker(registryConfig(), { now: () => time.now });
    const bad = `${registry.host}/manifest-401/app:v1`;
    const good = `${registry.host}/good/app:v1`;
    await checker.check(bad);
    await checker.check(good);
    time.advance(59_000);
    await checker.check(bad);
    await checker.check(good);
    expect(manifestRequests(registry)).toBe(1);
    time.advance(2_000);
    await checker.check(bad);
    await checker.check(good);
    expect(manifestRequests(registry)).toBe(2);
    expect(registry.servedFor('good').length).toBe(1); // one GET: still cached
  });

  test('a rate limit is cached until Retry-After, and not a moment longer', async () => {
    const registry = await serve();
    const time = clock();
    const checker = new ImageChecker(registryConfig(), { now: () => time.now });
    const image = `${registry.host}/rate-limit/app:v1`;
    expect(await checker.check(image)).toEqual({ kind: 'rate-limited', retryAfterSeconds: 120 });
    expect(registry.servedFor('rate-limit').map((s) => s.status)).toEqual([429]);
    time.advance(119_999);
    await checker.check(image);
    expect(registry.servedFor('rate-limit').length).toBe(1);
    time.advance(2);
    await checker.check(image);
    expect(registry.servedFor('rate-limit').length).toBe(2);
  });
});
