import { loadConfig, type RegistryConfig } from '../../src/config.js';
import { ImageChecker } from '../../src/registry/checker.js';
import { describeVerdict, type Verdict } from '../../src/registry/verdict.js';
import { FaultyRegistry } from '../support/faulty-registry.js';
import { OciLayout, type Descriptor } from '../support/oci-layout.js';
import { TestRegistry } from '../support/registry.js';
import { TokenServer } from '../support/token-server.js';

const registryConfig = (overrides: Record<string, unknown> = {}): RegistryConfig =>
  loadConfig({ env: {}, overrides: { registry: overrides } }).registry;

let open: TestRegistry;
let token: TestRegistry;
let basic: TestRegistry;
let tokens: TokenServer;
const pushed: Record<string, Descriptor> = {};

beforeAll(async () => {
  const layout = new OciLayout();
  pushed['v1'] = layout.image('linux/amd64');
  pushed['multi'] = layout.index(['linux/amd64', 'linux/arm64'], true);
  pushed['armonly'] = layout.index(['linux/arm64', 'linux/arm/v7']);
  pushed['arm-single'] = layout.image('linux/arm64');
  for (const [tag, descriptor] of Object.entries(pushed)) layout.tag(tag, descriptor);
  open = await TestRegistry.start({ kind: 'open' });
  for (const tag of Object.keys(pushed)) open.push(layout, tag, 'jlgore/app');
  open.push(layout, 'v1', 'jlgore/app', 'v2');
  open.push(layout, 'v1', 'secret/app');
  tokens = await new TokenServer(new Set(['secret/app'])).start();
  token = await TestRegistry.start({ kind: 'token', tokenServer: tokens }, open.storage);
  basic = await TestRegistry.start({ kind: 'htpasswd' }, open.storage);
});

afterAll(async () => {
  await Promise.all([open?.stop(), token?.stop(), basic?.stop(), tokens?.stop()]);
});

const check = (image: string, config: Partial<RegistryConfig> = {}) =>
  new ImageChecker(registryConfig(config)).check(image);
const text = (verdict: Verdict, image: string) => describeVerdict(verdict, image);

describe('verdicts from a real registry (docker-registry 2.8)', () => {
  test('pullable: digest, media type and platform of a single image', async () => {
    const verdict = await check(`${open.host}/jlgore/app:v1`);
    expect(verdict).toEqual({
      kind: 'pullable',
      digest: pushed['v1']!.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      platforms: ['linux/amd64'],
    });
  });

  test('pullable: a multi-platform index, attestations left out of the platforms', async () => {
    const verdict = await check(`${open.host}/jlgore/app:multi`);
    expect(verdict).toEqual({
      kind: 'pullable',
      digest: pushed['multi']!.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64', 'linux/arm64'],
    });
  });

  test('pullable by digest', async () => {
    expect(await check(`${open.host}/jlgore/app@${pushed['v1']!.digest}`)).toMatchObject({
      kind: 'pullable',
      digest: pushed['v1']!.digest,
    });
  });

  test('platform-missing: an index without linux/amd64, and a single arm64 image', async () => {
    const index = await check(`${open.host}/jlgore/app:armonly`);
    expect(index).toEqual({
      kind: 'platform-missing',
      required: 'linux/amd64',
      platforms: ['linux/arm64', 'linux/arm/v7'],
    });
    expect(text(index, 'img').hint).toContain('docker buildx build --platform linux/amd64');
    expect(await check(`${open.host}/jlgore/app:arm-single`)).toMatchObject({
      kind: 'platform-missing',
      platforms: ['linux/arm64'],
    });
    expect(await check(`${open.host}/jlgore/app:arm-single`, { requiredPlatform: 'linux/arm64' })).toMatchObject({
      kind: 'pullable',
    });
  });

  test('tag-not-found lists the tags that exist', async () => {
    const verdict = await check(`${open.host}/jlgore/app:v3`);
    expect(verdict).toEqual({
      kind: 'tag-not-found',
      tag: 'v3',
      existingTags: ['arm-single', 'armonly', 'multi', 'v1', 'v2'],
    });
    expect(text(verdict, `${open.host}/jlgore/app:v3`).message).toBe(
      `The tag "v3" of ${open.host}/jlgore/app:v3 does not exist. Tags that exist: arm-single, armonly, multi, v1, v2.`,
    );
  });

  test('repository-not-found', async () => {
    const verdict = await check(`${open.host}/jlgore/nope:v1`);
    expect(verdict).toEqual({ kind: 'repository-not-found' });
    expect(text(verdict, 'x').hint).toContain('Check the spelling');
  });
});

describe('token auth, as GHCR does it', () => {
  test('a public repository gets an anonymous token and is pullable', async () => {
    // The registry itself refuses a pull without a token: the set-up is really token auth.
    expect((await fetch(`http://${token.host}/v2/jlgore/app/manifests/v1`)).status).toBe(401);
    expect(await check(`${token.host}/jlgore/app:multi`)).toMatchObject({
      kind: 'pullable',
      digest: pushed['multi']!.digest,
    });
  });

  test('a private repository: the token is refused, and the student is told how to make it public', async () => {
    const verdict = await check(`${token.host}/secret/app:v1`);
    expect(verdict).toEqual({ kind: 'private', detail: 'the registry refused an anonymous pull token (HTTP 401)' });
    expect(text(verdict, 'ghcr.io/secret/app:v1').hint).toBe(
      'Make the package public: on GitHub open the package, then Package settings → Change visibility → Public.',
    );
  });

  test('missing tags and repositories are told apart behind token auth too', async () => {
    expect(await check(`${token.host}/jlgore/app:v9`)).toMatchObject({
      kind: 'tag-not-found',
      existingTags: expect.arrayContaining(['v1']),
    });
    expect(await check(`${token.host}/jlgore/nope:v1`)).toEqual({ kind: 'repository-not-found' });
  });

  test('tokens are reused until they expire; concurrent checks of one reference share one request', async () => {
    const checker = new ImageChecker(registryConfig());
    const before = tokens.requests.length;
    const results = await Promise.all(Array.from({ length: 5 }, () => checker.check(`${token.host}/jlgore/app:v1`)));
    expect(new Set(results).size).toBe(1);
    await checker.check(`${token.host}/jlgore/app:v2`);
    expect(tokens.requests.length - before).toBe(1);
  });
});

describe('htpasswd (Basic auth)', () => {
  test('anonymous pulls are refused: private', async () => {
    const verdict = await check(`${basic.host}/jlgore/app:v1`);
    expect(verdict).toEqual({ kind: 'private', detail: 'the registry requires a login for every pull' });
  });
});

describe("faults are transient, never the student's", () => {
  let faulty: FaultyRegistry;
  let dead: FaultyRegistry;
  beforeAll(async () => {
    faulty = await new FaultyRegistry().start();
    dead = await new FaultyRegistry({ hangPing: true }).start();
  });
  afterAll(async () => {
    await faulty.stop();
    await dead.stop();
  });

  test.each([
    [
      'a server that never answers',
      () => `${dead.host}/a/b:v1`,
      { kind: 'unreachable', reason: expect.stringContaining('did not answer in time') },
    ],
    [
      'a manifest request that never answers',
      () => `${faulty.host}/hang/app:v1`,
      { kind: 'unreachable', reason: expect.stringContaining('did not answer in time') },
    ],
    [
      '429 with Retry-After',
      () => `${faulty.host}/rate-limit/app:v1`,
      { kind: 'rate-limited', retryAfterSeconds: 120 },
    ],
    [
      'a 5xx',
      () => `${faulty.host}/server-error/app:v1`,
      { kind: 'unreachable', reason: 'the registry answered HTTP 503' },
    ],
    [
      'invalid JSON',
      () => `${faulty.host}/invalid-json/app:v1`,
      { kind: 'unreachable', reason: 'the registry answered with a manifest that is not JSON' },
    ],
    [
      'a manifest over 4 MiB',
      () => `${faulty.host}/huge-manifest/app:v1`,
      { kind: 'unreachable', reason: 'the response is 5242880 bytes, over the limit of 4194304' },
    ],
    [
      'a redirect loop',
      () => `${faulty.host}/redirect-loop/app:v1`,
      { kind: 'unreachable', reason: expect.stringContaining('more than 3 redirects') },
    ],
  ])('%s', async (_, image, expected) => {
    const verdict = await check(image(), { timeout: '1s' });
    expect(verdict).toEqual(expected);
    expect(text(verdict, image()).hint).toContain('Nothing for you to fix');
  });

  test('a registry stopped mid-run: cached verdicts hold until their TTL, then unreachable', async () => {
    const own = await TestRegistry.start({ kind: 'open' }, open.storage);
    let now = 1_000_000;
    const checker = new ImageChecker(registryConfig({ timeout: '2s' }), { now: () => now });
    expect(await checker.check(`${own.host}/jlgore/app:v1`)).toMatchObject({ kind: 'pullable' });
    await own.stop();
    expect(await checker.check(`${own.host}/jlgore/app:v1`)).toMatchObject({ kind: 'pullable' });
    now += 10 * 60 * 1000 + 1;
    expect(await checker.check(`${own.host}/jlgore/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `${own.host} refused the connection`,
    });
  });

  test('rate limits are cached until Retry-After; unreachable is never cached', async () => {
    let now = 5_000_000;
    const checker = new ImageChecker(registryConfig({ timeout: '1s' }), { now: () => now });
    const count = () => faulty.requests.filter((r) => r.includes('rate-limit')).length;
    await checker.check(`${faulty.host}/rate-limit/app:v1`);
    const first = count();
    await checker.check(`${faulty.host}/rate-limit/app:v1`);
    expect(count()).toBe(first);
    now += 121_000;
    await checker.check(`${faulty.host}/rate-limit/app:v1`);
    expect(count()).toBeGreaterThan(first);
    const errors = () => faulty.requests.filter((r) => r.includes('server-error')).length;
    await checker.check(`${faulty.host}/server-error/app:v1`);
    const after = errors();
    await checker.check(`${faulty.host}/server-error/app:v1`);
    expect(errors()).toBeGreaterThan(after);
  });
});
