/**
 * A registry that stops answering (README "Image checks"): without a breaker every check
 * of a pass waits registry.timeout, so 1 000 students behind a dead host took 10 minutes.
 * After a few attempts in a row get no answer, the rest are told at once; one check asks
 * again after the pause. Time is a fake clock; the registry's request log shows who asked.
 */
import { loadConfig, type RegistryConfig } from '../../src/config.js';
import { ImageChecker } from '../../src/registry/checker.js';
import { describeVerdict, type Verdict } from '../../src/registry/verdict.js';
import { faultyRegistries, GOOD_DIGEST, MEDIA } from '../support/faulty-registry.js';

const registryConfig = (overrides: Record<string, unknown> = {}): RegistryConfig =>
  loadConfig({ env: {}, overrides: { registry: { timeout: '1s', concurrencyPerRegistry: 2, ...overrides } } }).registry;

const { serve, stopAll } = faultyRegistries();
afterEach(stopAll);

const images = (host: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${host}/good/app:v${from + i}`);
const pings = (requests: readonly string[]) => requests.filter((r) => r === 'GET /v2/').length;
/** The verdicts the open breaker gave without asking. */
const refused = (verdicts: Iterable<Verdict>) =>
  [...verdicts].filter((v) => v.kind === 'unreachable' && v.reason.includes('classops does not ask it again')).length;

test('a registry that stops answering: three checks wait out the timeout, the rest are told at once and say why', async () => {
  const registry = await serve({ hangPing: true });
  const time = { now: 1_000_000 };
  const checker = new ImageChecker(registryConfig(), { now: () => time.now });

  const verdicts = await checker.checkAll(images(registry.host, 40));
  // Three rounds of checks opened the breaker (checks running at once share one ping).
  expect(pings(registry.requests)).toBeLessThanOrEqual(6);
  const reasons = new Set([...verdicts.values()].map((v) => (v.kind === 'unreachable' ? v.reason : v.kind)));
  expect(reasons).toEqual(
    new Set([
      `${registry.host} did not answer in time`,
      `${registry.host} did not answer in time, 3 times in a row; classops does not ask it again for 30 s`,
    ]),
  );
  const told = [...verdicts.values()].find((v) => v.kind === 'unreachable' && v.reason.includes('in a row'))!;
  expect(describeVerdict(told, `${registry.host}/good/app:v9`).hint).toContain('Nothing for you to fix');

  // Within the pause nothing is asked; after it, one check probes while the others are told at once.
  const asked = registry.requests.length;
  await checker.checkAll(images(registry.host, 5, 100));
  expect(registry.requests.length).toBe(asked);
  time.now += 30_001;
  await checker.checkAll(images(registry.host, 5, 200));
  expect(pings(registry.requests)).toBe(pings(registry.requests.slice(0, asked)) + 1);
});

test('once the registry answers again, the probe closes the breaker and every check goes through', async () => {
  const registry = await serve({ hangPing: true });
  const time = { now: 1_000_000 };
  const checker = new ImageChecker(registryConfig(), { now: () => time.now });
  await checker.checkAll(images(registry.host, 6));

  registry.hangPing = false;
  time.now += 30_001;
  const probe = await checker.check(`${registry.host}/good/app:v50`);
  expect(probe).toMatchObject({ kind: 'pullable', digest: GOOD_DIGEST });
  const after = await checker.checkAll(images(registry.host, 10, 60));
  expect([...after.values()].map((v) => v.kind)).toEqual(Array(10).fill('pullable'));
});

test('one dropped connection is one failure, however many checks shared it: the breaker stays closed', async () => {
  const registry = await serve();
  registry.dropRequests = 1;
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 8 }));
  const verdicts = [...(await checker.checkAll(images(registry.host, 40))).values()];
  // The checks that shared the dropped ping fail with it; every later one is asked and answered.
  expect(verdicts.filter((v) => v.kind === 'pullable').length).toBeGreaterThanOrEqual(32);
  expect(verdicts.filter((v) => v.kind === 'unreachable' && v.reason.includes('in a row'))).toEqual([]);
});

test('a half-dead registry (every other request hangs) opens the breaker though no three fail in a row', async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 1 }));
  const mixed = Array.from({ length: 60 }, (_, i) => `${registry.host}/${i % 2 === 0 ? 'hang' : 'good'}/app:v${i}`);
  const verdicts = await checker.checkAll(mixed);

  // One at a time: hang, good, hang, good ... the fifth hang of nine checks opens it.
  expect(registry.requests.filter((r) => r.startsWith('GET /v2/hang/'))).toHaveLength(5);
  expect(mixed.slice(0, 9).map((image) => verdicts.get(image)!.kind)).toEqual([
    ...Array<string[]>(4).fill(['unreachable', 'pullable']).flat(),
    'unreachable',
  ]);
  const rest = new Set(mixed.slice(9).map((image) => JSON.stringify(verdicts.get(image))));
  expect([...rest].map((v) => JSON.parse(v) as unknown)).toEqual([
    {
      kind: 'unreachable',
      reason: `${registry.host} did not answer in time (5 of its last 9 checks got no answer); classops does not ask it again for 30 s`,
    },
  ]);
});

test('a half-dead registry with checks running at once: the pass is not held by every hang', async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 8 }));
  // 50 manifests never come; 8 at a time, each would wait out the timeout.
  const mixed = Array.from({ length: 100 }, (_, i) => `${registry.host}/${i % 2 === 0 ? 'hang' : 'good'}/app:v${i}`);
  const verdicts = await checker.checkAll(mixed);

  expect(registry.requests.filter((r) => r.startsWith('GET /v2/hang/')).length).toBeLessThanOrEqual(16);
  expect(refused(verdicts.values())).toBeGreaterThan(50);
  const answered = mixed.filter((image) => verdicts.get(image)!.kind === 'pullable');
  expect(answered.every((image) => image.includes('/good/'))).toBe(true);
  expect(answered.length).toBeGreaterThanOrEqual(4);
});

test('a registry that leaves one request in three unanswered, 8 checks at once, opens the breaker within a few waves', async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 8 }));
  // 200 of 600 manifests never come: every check waiting them out would take 25 timeouts.
  const mixed = Array.from({ length: 600 }, (_, i) => `${registry.host}/${i % 3 === 0 ? 'hang' : 'good'}/app:v${i}`);
  const verdicts = [...(await checker.checkAll(mixed)).values()];
  expect(registry.requests.filter((r) => r.startsWith('GET /v2/hang/')).length).toBeLessThanOrEqual(40);
  expect(refused(verdicts)).toBeGreaterThan(300);
}, 30_000);

test('a check as a whole takes at most three times registry.timeout: no request starts without a whole one left', async () => {
  // Each answer takes 1.6 s, under the 2 s limit of a request (a margin for a loaded machine); a single image needs
  // four (ping, token, manifest, config), and after 4.8 s there is not a whole timeout left of the check's 6 s.
  const registry = await serve({ delayMs: 1_600, tokenSeconds: 300 });
  const checker = new ImageChecker(registryConfig({ timeout: '2s' }));
  const verdict = await checker.check(`${registry.host}/oci-image/linux-amd64/app:v1`);
  expect(verdict).toEqual({
    kind: 'unreachable',
    reason: `${registry.host} answered too slowly: the check would take longer than 3 times registry.timeout`,
  });
  expect(registry.requests).toHaveLength(3);
}, 20_000);

test('one blip that drops several connections at once is one failure: the breaker stays closed', async () => {
  const registry = await serve({ delayMs: 50 });
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 8 }));
  expect(await checker.check(`${registry.host}/good/app:warm`)).toMatchObject({ kind: 'pullable' });
  // A load balancer resets three pooled connections: three checks running at once fail together.
  registry.dropRequests = 3;
  const verdicts = [...(await checker.checkAll(images(registry.host, 40))).values()];
  expect(verdicts.filter((v) => v.kind === 'unreachable')).toHaveLength(3);
  expect(verdicts.filter((v) => v.kind === 'pullable')).toHaveLength(37);
});

test('a slow registry that answers every request is not taken for a dead one: the breaker stays closed', async () => {
  // Each answer takes 1.6 s of the 2 s a request may take; four (a token of 5 s is fetched anew each time) do not fit
  // the 6 s a check may take, so the fourth is never sent: no request went unanswered.
  const registry = await serve({ delayMs: 1_600, tokenSeconds: 5 });
  const checker = new ImageChecker(registryConfig({ concurrencyPerRegistry: 1, timeout: '2s' }));
  const slow = Array.from({ length: 4 }, (_, i) => `${registry.host}/oci-image/linux-amd64/app:v${i}`);
  const verdicts = [...(await checker.checkAll(slow)).values()];
  expect(verdicts).toEqual(
    Array(4).fill({
      kind: 'unreachable',
      reason: `${registry.host} answered too slowly: the check would take longer than 3 times registry.timeout`,
    }),
  );
  // Every check asked the registry: none was refused by the breaker.
  expect(registry.requests.filter((r) => r.includes('/manifests/'))).toHaveLength(4);
}, 60_000);

test('a slow registry whose manifests never come opens the breaker: each manifest request has its whole timeout', async () => {
  // Ping and token take 0.6 s each; the manifest, sent with more than a second of the check left, never comes.
  const registry = await serve({ delayMs: 600, tokenSeconds: 5 });
  const checker = new ImageChecker(registryConfig());
  const hanging = Array.from({ length: 16 }, (_, i) => `${registry.host}/hang/app:v${i}`);
  const verdicts = [...(await checker.checkAll(hanging)).values()];
  expect(registry.requests.filter((r) => r.includes('/manifests/')).length).toBeLessThanOrEqual(8);
  expect(refused(verdicts)).toBeGreaterThanOrEqual(8);
}, 30_000);

test('a config-blob store that stops answering is not asked again for 30 s: single images are judged without it', async () => {
  const registry = await serve();
  const time = { now: 1_000_000 };
  const checker = new ImageChecker(registryConfig(), { now: () => time.now });
  const singles = Array.from({ length: 20 }, (_, i) => `${registry.host}/config-hang/linux-amd64/app:v${i}`);
  const verdicts = [...(await checker.checkAll(singles)).values()];
  // Each pullable, its platform not read, as when one config blob does not come in time.
  expect(new Set(verdicts.map((v) => JSON.stringify({ ...v, digest: undefined })))).toEqual(
    new Set([JSON.stringify({ kind: 'pullable', mediaType: MEDIA.ociManifest, platforms: [], platformUnread: true })]),
  );
  // Two checks at a time: after the second pair's blobs (four in a row) got no answer, none was asked for.
  const blobs = () => registry.requests.filter((r) => r.includes('/blobs/')).length;
  expect(blobs()).toBeLessThanOrEqual(4);
  // After the pause the store is asked again.
  const asked = blobs();
  time.now += 30_001;
  await checker.check(`${registry.host}/config-hang/linux-amd64/app:later`);
  expect(blobs()).toBe(asked + 1);
});

test("one config blob that hangs pauses nothing: the next image's platform is read, and a verdict without one is not kept", async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig());
  expect(await checker.check(`${registry.host}/config-hang/linux-amd64/app:v1`)).toMatchObject({
    kind: 'pullable',
    platformUnread: true,
  });
  expect(
    describeVerdict(await checker.check(`${registry.host}/config-hang/linux-amd64/app:v1`), 'app').message,
  ).toContain('platform not read: the registry did not send its config; asked again on the next check');
  // An arm64-only image right after: still judged by its platform.
  expect(await checker.check(`${registry.host}/oci-image/linux-arm64/app:v1`)).toMatchObject({
    kind: 'platform-missing',
    platforms: ['linux/arm64'],
  });
  // The first verdict was not kept: asked again, its blob is asked for again.
  await checker.check(`${registry.host}/config-hang/linux-amd64/app:v1`);
  expect(registry.requests.filter((r) => r.startsWith('GET /v2/config-hang/') && r.includes('/blobs/'))).toHaveLength(
    3,
  );
});

test('a config blob answered with an error is not read, and asked for again; a large one is read', async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig());
  const failing = `${registry.host}/config-error/linux-arm64/app:v1`;
  for (let i = 0; i < 2; i++)
    expect(await checker.check(failing)).toMatchObject({ kind: 'pullable', platforms: [], platformUnread: true });
  expect(registry.requests.filter((r) => r.startsWith('GET /v2/config-error/') && r.includes('/blobs/'))).toHaveLength(
    2,
  );
  // A 2 MB config (a long label) is still read: its arm64 platform is not hidden by its size.
  expect(await checker.check(`${registry.host}/config-large/linux-arm64/app:v1`)).toMatchObject({
    kind: 'platform-missing',
    platforms: ['linux/arm64'],
  });
});

test('answers that are errors keep the breaker closed: a registry failing with HTTP 500 or an oversized manifest is still asked', async () => {
  const registry = await serve();
  const checker = new ImageChecker(registryConfig());
  const failing = [
    ...Array.from({ length: 5 }, (_, i) => `${registry.host}/server-error/app:v${i}`),
    ...Array.from({ length: 5 }, (_, i) => `${registry.host}/huge-manifest/app:v${i}`),
  ];
  for (const image of failing) expect(await checker.check(image)).toMatchObject({ kind: 'unreachable' });
  expect(await checker.check(`${registry.host}/good/app:v1`)).toMatchObject({ kind: 'pullable' });
});

test('one dead registry does not stop the checks of another', async () => {
  const dead = await serve({ hangPing: true });
  const alive = await serve();
  const checker = new ImageChecker(registryConfig());
  const verdicts = await checker.checkAll([...images(dead.host, 10), ...images(alive.host, 10)]);
  expect(images(alive.host, 10).map((i) => verdicts.get(i)!.kind)).toEqual(Array(10).fill('pullable'));
});
