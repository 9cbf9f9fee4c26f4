/**
 * Every verdict of an image check, and the words a student reads for it, against
 * loopback registries in this process (README "Image checks"): the media types and
 * platforms a real registry serves, missing tags and repositories, the auth challenges
 * and token service answers, Retry-After, and the transport faults. Each test also
 * asserts what the registry saw, so a fault that was silently not served fails it.
 */
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Agent } from 'undici';
import { loadConfig, type RegistryConfig } from '../../src/config.js';
import { imagesToCheck, withImageVerdicts } from '../../src/pipeline/image-findings.js';
import { ImageChecker, type CheckerOptions } from '../../src/registry/checker.js';
import { describeVerdict, isStudentFault, isTransient } from '../../src/registry/verdict.js';
import { selfSignedCertificate } from '../support/certificate.js';
import {
  configBlob,
  DOCKER_LIST,
  FaultyRegistry,
  GOOD_DIGEST,
  GOOD_INDEX,
  imageManifest,
  manifestList,
  MANY_TAGS,
  MEDIA,
  PADDED_INDEX,
  sha256,
  faultyRegistries,
} from '../support/faulty-registry.js';
import { waitFor } from '../support/processes.js';
import { checkThrough, loopbackForEveryName } from '../support/renamed-registry.js';
import { defaultPolicy, rosterText } from '../support/rosters.js';
import { validateRoster } from '../../src/roster/validate.js';

const registryConfig = (overrides: Record<string, unknown> = {}): RegistryConfig =>
  loadConfig({ env: {}, overrides: { registry: { timeout: '5s', ...overrides } } }).registry;

const { serve, stopLater, stopAll } = faultyRegistries();
afterEach(stopAll);

const check = (image: string, config: Record<string, unknown> = {}, hooks: CheckerOptions = {}) =>
  new ImageChecker(registryConfig(config), hooks).check(image);
/** What the registry served, one line per answer: method, path and status. */
const seen = (registry: FaultyRegistry) => registry.served.map((s) => `${s.method} ${s.path} ${s.status}`);

/** A fake clock: token lifetimes are checked by moving it, never by sleeping. */
function clock(start = 1_000_000) {
  const c = { now: start, advance: (ms: number) => (c.now += ms) };
  return c;
}

describe('single images: the platform is read from the config blob', () => {
  test('an OCI image manifest whose media type is only in Content-Type (with parameters)', async () => {
    const registry = await serve();
    const config = configBlob('linux/amd64');
    const manifest = imageManifest(config, undefined, MEDIA.ociConfig);
    const verdict = await check(`${registry.host}/oci-image/linux-amd64/app:v1`);
    expect(verdict).toEqual({
      kind: 'pullable',
      digest: sha256(manifest),
      mediaType: MEDIA.ociManifest,
      platforms: ['linux/amd64'],
    });
    expect(describeVerdict(verdict, 'img')).toEqual({
      message: `img can be pulled anonymously (${sha256(manifest)}; linux/amd64).`,
      hint: 'Nothing to fix.',
    });
    // The ping, the manifest asked for with every media type classops reads, then the config blob.
    expect(seen(registry)).toEqual([
      'GET /v2/ 200',
      'GET /v2/oci-image/linux-amd64/app/manifests/v1 200',
      `GET /v2/oci-image/linux-amd64/app/blobs/${sha256(config)} 200`,
    ]);
  });

  test('the manifest request accepts OCI index, OCI manifest, Docker list and Docker manifest', async () => {
    const accepts: Array<string | undefined> = [];
    const registry = await serve();
    const { createServer } = await import('node:http');
    // A registry in front that records the Accept header, then answers with the good index.
    const front = createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      accepts.push(req.headers.accept);
      res.writeHead(200, { 'content-type': MEDIA.ociIndex }).end(GOOD_INDEX);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    stopLater({ stop: () => new Promise<void>((resolve) => front.close(() => resolve())) });
    const port = (front.address() as { port: number }).port;
    expect(await check(`127.0.0.1:${port}/ann/app:v1`)).toMatchObject({ kind: 'pullable', digest: GOOD_DIGEST });
    expect(accepts).toEqual([
      'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, ' +
        'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
    ]);
    expect(registry.served).toEqual([]);
  });

  test('a Docker v2 image: the media type in the body wins over a useless Content-Type', async () => {
    const registry = await serve();
    const config = configBlob('linux/arm64/v8');
    const verdict = await check(`${registry.host}/docker-image/linux-arm64-v8/app:v1`, {
      requiredPlatform: 'linux/arm64',
    });
    expect(verdict).toEqual({
      kind: 'pullable',
      digest: sha256(imageManifest(config, MEDIA.dockerManifest, MEDIA.dockerConfig)),
      mediaType: MEDIA.dockerManifest,
      platforms: ['linux/arm64/v8'],
    });
    expect(seen(registry)).toContain(`GET /v2/docker-image/linux-arm64-v8/app/blobs/${sha256(config)} 200`);
  });

  test('a single arm64 image is platform-missing on an amd64 cluster, with the buildx fix', async () => {
    const registry = await serve();
    const image = `${registry.host}/oci-image/linux-arm64/app:v1`;
    const verdict = await check(image);
    expect(verdict).toEqual({ kind: 'platform-missing', required: 'linux/amd64', platforms: ['linux/arm64'] });
    expect(describeVerdict(verdict, image)).toEqual({
      message: `${image} is built for linux/arm64, but the cluster runs linux/amd64.`,
      hint: `Build for the cluster too: docker buildx build --platform linux/amd64 -t ${image} --push . (Apple Silicon Macs build linux/arm64 by default).`,
    });
    expect(isStudentFault(verdict)).toBe(true);
    expect(isTransient(verdict)).toBe(false);
  });

  test('a config blob that is gone or not JSON leaves the platform unknown: still pullable', async () => {
    const registry = await serve();
    for (const fault of ['config-gone', 'config-garbage']) {
      const verdict = await check(`${registry.host}/${fault}/linux-arm64/app:v1`);
      expect(verdict).toMatchObject({ kind: 'pullable', mediaType: MEDIA.ociManifest, platforms: [] });
      expect(describeVerdict(verdict, 'img').message).toContain('; platform not stated).');
    }
    expect(registry.served.filter((s) => s.path.includes('/blobs/')).map((s) => s.status)).toEqual([404, 200]);
  });

  test('a config blob that does not come in time leaves the platform unknown too', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/config-hang/linux-arm64/app:v1`, { timeout: '1s' });
    expect(verdict).toMatchObject({ kind: 'pullable', platforms: [] });
    expect(registry.requests.filter((r) => r.includes('/blobs/')).length).toBe(1);
  });

  test.each(['short', 'long', 'prefixed'])(
    'a manifest whose config digest is not a sha256 digest (%s) is unreachable, and no blob is asked for',
    async (form) => {
      const registry = await serve();
      const verdict = await check(`${registry.host}/no-config/${form}/app:v1`);
      expect(verdict).toEqual({
        kind: 'unreachable',
        reason: 'the registry answered with a manifest that has no valid config',
      });
      expect(seen(registry)).toEqual(['GET /v2/ 200', `GET /v2/no-config/${form}/app/manifests/v1 200`]);
    },
  );
});

describe('lists of manifests', () => {
  test('a Docker manifest list: attestations and entries without a platform are left out', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/docker-list/app:v1`);
    expect(verdict).toEqual({
      kind: 'pullable',
      digest: sha256(DOCKER_LIST),
      mediaType: MEDIA.dockerList,
      platforms: ['linux/amd64', 'linux/arm/v7', 'linux/ppc64le'],
    });
    expect(describeVerdict(verdict, 'img').message).toContain('; linux/amd64, linux/arm/v7, linux/ppc64le).');
    // The platforms come from the list itself: no manifest or blob of the images is fetched.
    expect(seen(registry)).toEqual(['GET /v2/ 200', 'GET /v2/docker-list/app/manifests/v1 200']);
  });

  test.each([
    ['linux/amd64', 'platform-missing'],
    ['linux/arm64', 'pullable'], // linux/arm64/v8 is an arm64 image
    ['linux/arm/v6', 'pullable'],
    ['linux/arm/v7', 'platform-missing'], // arm/v6 does not run where v7 is required
    ['linux/arm', 'pullable'],
  ])('an index for linux/arm64/v8 and linux/arm/v6, on a %s cluster: %s', async (required, kind) => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/arm-index/app:v1`, { requiredPlatform: required });
    expect(verdict).toMatchObject({ kind, platforms: ['linux/arm64/v8', 'linux/arm/v6'] });
  });

  test("an index's platforms are the image author's words: only well-formed ones are shown, at most 16", async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/odd-platforms-index/app:v1`);
    expect(verdict).toEqual({
      kind: 'platform-missing',
      required: 'linux/amd64',
      platforms: Array.from({ length: 16 }, (_, i) => `linux/mips${i}`),
    });
    expect(describeVerdict(verdict, 'img').message.length).toBeLessThan(400);
    // All of them count for the match: the 42nd is the cluster's.
    const arm = await check(`${registry.host}/odd-platforms-index/app:v1`, { requiredPlatform: 'linux/arm64' });
    expect(arm).toMatchObject({ kind: 'pullable', platforms: Array.from({ length: 16 }, (_, i) => `linux/mips${i}`) });
  });

  test('a null platform names none (it may run anywhere), a null variant is no variant: as containerd reads them', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/null-platform-index/app:v1`)).toMatchObject({
      kind: 'pullable',
      platforms: ['linux/amd64'],
    });
  });

  test('what no runtime can run is not pullable: an empty index, attestations only, a Helm chart', async () => {
    const registry = await serve();
    for (const fault of ['empty-index', 'attestations-index']) {
      const verdict = await check(`${registry.host}/${fault}/app:v1`);
      expect(verdict).toEqual({ kind: 'platform-missing', required: 'linux/amd64', platforms: [] });
      expect(describeVerdict(verdict, 'img').message).toBe(
        'img holds no image for any platform (nothing, or only build attestations), and the cluster runs linux/amd64.',
      );
    }
    const chart = await check(`${registry.host}/helm-chart/app:v1`);
    expect(chart).toMatchObject({ kind: 'platform-missing', artifact: 'application/vnd.cncf.helm.config.v1+json' });
    expect(describeVerdict(chart, 'img').message).toContain(
      'img is not a container image: its config is application/vnd.cncf.helm.config.v1+json',
    );
    expect(registry.requests.filter((r) => r.includes('/blobs/'))).toEqual([]);
  });

  test('a list sent under a single image media type is not trusted', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/list-as-manifest/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `the registry sent a list of manifests as ${MEDIA.dockerManifest}`,
    });
  });

  test('a list whose media type is stated nowhere is read as a list', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/untyped-list/app:v1`)).toEqual({
      kind: 'pullable',
      digest: sha256(manifestList(['linux/amd64'])),
      mediaType: '',
      platforms: ['linux/amd64'],
    });
  });
});

describe('a manifest that is not there: a missing tag or a missing repository', () => {
  test('tag-not-found lists the tags that exist, sorted, only those OCI allows (no control codes, no 200-character tag)', async () => {
    const registry = await serve();
    const image = `${registry.host}/tag-missing/app:v9`;
    const verdict = await check(image);
    expect(verdict).toEqual({ kind: 'tag-not-found', tag: 'v9', existingTags: ['a1', 'latest', 'v2'] });
    expect(describeVerdict(verdict, image)).toEqual({
      message: `The tag "v9" of ${image} does not exist. Tags that exist: a1, latest, v2.`,
      hint: `Push that tag (docker push ${image}), or write a tag that exists.`,
    });
    expect(seen(registry)).toEqual([
      'GET /v2/ 200',
      'GET /v2/tag-missing/app/manifests/v9 404',
      'GET /v2/tag-missing/app/tags/list 200',
    ]);
  });

  test('a digest that is not there is named as the missing reference', async () => {
    const registry = await serve();
    const digest = `sha256:${'0'.repeat(64)}`;
    expect(await check(`${registry.host}/tag-missing/app@${digest}`)).toMatchObject({
      kind: 'tag-not-found',
      tag: digest,
    });
    expect(seen(registry)).toContain(`GET /v2/tag-missing/app/manifests/${digest} 404`);
  });

  test('no tag written means latest', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/tag-missing/app`)).toMatchObject({ kind: 'tag-not-found', tag: 'latest' });
  });

  test('many tags: the first ten, and how many more', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/many-tags/app:v13`);
    const sorted = [...MANY_TAGS].sort();
    expect(verdict).toEqual({ kind: 'tag-not-found', tag: 'v13', existingTags: sorted });
    expect(describeVerdict(verdict, 'img').message).toBe(
      `The tag "v13" of img does not exist. Tags that exist: ${sorted.slice(0, 10).join(', ')}, and 2 more.`,
    );
  });

  test('a repository without tags says so', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/no-tags/app:v1`);
    expect(verdict).toEqual({ kind: 'tag-not-found', tag: 'v1', existingTags: [] });
    expect(describeVerdict(verdict, 'img').message).toBe(
      'The tag "v1" of img does not exist. The repository has no tags yet.',
    );
  });

  test.each(['tags-broken', 'tags-404-plain'])('%s: tags that cannot be listed are not made up', async (fault) => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/${fault}/app:v1`);
    expect(verdict).toEqual({ kind: 'tag-not-found', tag: 'v1', existingTags: undefined });
    expect(describeVerdict(verdict, 'img').message).toBe('The tag "v1" of img does not exist.');
    expect(registry.served.map((s) => s.status)).toEqual([200, 404, fault === 'tags-broken' ? 500 : 404]);
  });

  test('a registry without error codes: the tags list tells a missing tag from a missing repository', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/tag-missing-plain/app:v2`)).toEqual({
      kind: 'tag-not-found',
      tag: 'v2',
      existingTags: ['v1'],
    });
  });

  test('a tags list that is JSON null lists nothing', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/tags-null/app:v1`)).toEqual({
      kind: 'tag-not-found',
      tag: 'v1',
      existingTags: undefined,
    });
  });

  test('NAME_UNKNOWN on the manifest: repository-not-found, without asking for tags', async () => {
    const registry = await serve();
    const image = `${registry.host}/name-unknown/app:v1`;
    const verdict = await check(image);
    expect(verdict).toEqual({ kind: 'repository-not-found' });
    expect(describeVerdict(verdict, image)).toEqual({
      message: `The registry has no repository for ${image}.`,
      hint: `Check the spelling of the owner and image name, and that you pushed the image (docker push ${image}).`,
    });
    expect(seen(registry)).toEqual(['GET /v2/ 200', 'GET /v2/name-unknown/app/manifests/v1 404']);
  });

  test.each(['repo-missing', 'tags-name-unknown'])(
    '%s: a tags list that is not there either means no repository',
    async (fault) => {
      const registry = await serve();
      expect(await check(`${registry.host}/${fault}/app:v1`)).toEqual({ kind: 'repository-not-found' });
      expect(seen(registry)).toEqual([
        'GET /v2/ 200',
        `GET /v2/${fault}/app/manifests/v1 404`,
        `GET /v2/${fault}/app/tags/list 404`,
      ]);
    },
  );

  test('behind token auth, the tags list is asked for with the token', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    expect(await check(`${registry.host}/tag-missing/app:v9`)).toMatchObject({ kind: 'tag-not-found' });
    expect(registry.servedFor('tag-missing').map((s) => [s.path, s.authorization])).toEqual([
      ['/v2/tag-missing/app/manifests/v9', 'Bearer token-1'],
      ['/v2/tag-missing/app/tags/list', 'Bearer token-1'],
    ]);
  });

  test('behind token auth, the config blob is asked for with the token', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    expect(await check(`${registry.host}/oci-image/linux-amd64/app:v1`)).toMatchObject({
      kind: 'pullable',
      platforms: ['linux/amd64'],
    });
    expect(registry.servedFor('oci-image').map((s) => [s.path.split('/')[5], s.authorization])).toEqual([
      ['manifests', 'Bearer token-1'],
      ['blobs', 'Bearer token-1'],
    ]);
  });
});

describe('what /v2/ asks for', () => {
  test('a Basic challenge: no anonymous pulls, private, nothing more asked', async () => {
    const registry = await serve({ ping: { status: 401, headers: { 'www-authenticate': 'Basic realm="Registry"' } } });
    const image = `${registry.host}/good/app:v1`;
    const verdict = await check(image);
    expect(verdict).toEqual({ kind: 'private', detail: 'the registry requires a login for every pull' });
    expect(describeVerdict(verdict, image)).toEqual({
      message: `${image} cannot be pulled without logging in: the package is private (the registry requires a login for every pull).`,
      hint: 'Make the package public: on GitHub open the package, then Package settings → Change visibility → Public.',
    });
    expect(seen(registry)).toEqual(['GET /v2/ 401']);
  });

  test.each([
    ['no challenge at all', {}],
    ['a scheme classops does not know', { 'www-authenticate': 'Negotiate' }],
    ['a challenge that is not one', { 'www-authenticate': '"Bearer"' }],
  ])('%s: unreachable, never the student', async (_, headers) => {
    const registry = await serve({ ping: { status: 401, headers } });
    const verdict = await check(`${registry.host}/good/app:v1`);
    expect(verdict).toEqual({
      kind: 'unreachable',
      reason: 'the registry asked for an authentication scheme classops does not know',
    });
    expect(isTransient(verdict)).toBe(true);
    expect(seen(registry)).toEqual(['GET /v2/ 401']);
  });

  test.each([
    ['without a realm', 'Bearer service="faulty"'],
    ['with a realm that is not HTTP', 'Bearer realm="ftp://127.0.0.1/token",service="faulty"'],
    ['with a realm that only mentions HTTP', 'Bearer realm="token?from=http://x",service="faulty"'],
  ])('a Bearer challenge %s is unreachable', async (_, challenge) => {
    const registry = await serve({ ping: { status: 401, headers: { 'www-authenticate': challenge } } });
    expect(await check(`${registry.host}/good/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: 'the registry sent a Bearer challenge without a usable realm',
    });
    expect(seen(registry)).toEqual(['GET /v2/ 401']);
  });

  test.each([
    [500, {}, { kind: 'unreachable', reason: 'the registry answered HTTP 500' }],
    [404, {}, { kind: 'unreachable', reason: 'the registry answered HTTP 404' }],
    [429, { 'retry-after': '7' }, { kind: 'rate-limited', retryAfterSeconds: 7 }],
    // The verdict is cached that long: a registry cannot have an image never checked again.
    [429, { 'retry-after': '99999999999999999999' }, { kind: 'rate-limited', retryAfterSeconds: 3600 }],
  ])('a ping answered %i', async (status, headers, expected) => {
    const registry = await serve({ ping: { status, headers } });
    expect(await check(`${registry.host}/good/app:v1`)).toEqual(expected);
    expect(seen(registry)).toEqual([`GET /v2/ ${status}`]);
  });
});

describe('the token service', () => {
  test('the token is asked for the repository, with the service of the challenge', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    expect(await check(`${registry.host}/good/team/app:v1`)).toMatchObject({ kind: 'pullable' });
    expect(registry.requests.filter((r) => r.startsWith('GET /token'))).toEqual([
      'GET /token?service=faulty&scope=repository%3Agood%2Fteam%2Fapp%3Apull',
    ]);
  });

  test('the token service is asked for JSON', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    await check(`${registry.host}/good/app:v1`);
    expect(registry.accepts.filter((a) => a.startsWith('GET /token'))).toEqual([
      'GET /token?service=faulty&scope=repository%3Agood%2Fapp%3Apull: application/json',
    ]);
  });

  test('a challenge without a service: the token is asked for the scope alone', async () => {
    const tokens = await serve({ tokenSeconds: 300 });
    const realm = `Bearer realm="http://${tokens.host}/token"`;
    const registry = await serve({ ping: { status: 401, headers: { 'www-authenticate': realm } } });
    expect(await check(`${registry.host}/good/app:v1`)).toMatchObject({ kind: 'pullable' });
    expect(tokens.requests).toEqual(['GET /token?scope=repository%3Agood%2Fapp%3Apull']);
    expect(registry.servedFor('good').map((s) => s.authorization)).toEqual(['Bearer token-1']);
  });

  test.each([401, 403])('a token refused with HTTP %i: private', async (status) => {
    const registry = await serve({ tokenSeconds: 300 });
    const image = `${registry.host}/token-${status}/app:v1`;
    const verdict = await check(image);
    expect(verdict).toEqual({
      kind: 'private',
      detail: `the registry refused an anonymous pull token (HTTP ${status})`,
    });
    expect(describeVerdict(verdict, image).message).toBe(
      `${image} cannot be pulled without logging in: the package is private (the registry refused an anonymous pull token (HTTP ${status})).`,
    );
    // No manifest was asked for without a token.
    expect(registry.servedFor(`token-${status}` as 'token-401')).toEqual([]);
  });

  test('a rate-limited token service: rate-limited until its Retry-After', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    const verdict = await check(`${registry.host}/token-429/app:v1`);
    expect(verdict).toEqual({ kind: 'rate-limited', retryAfterSeconds: 30 });
    expect(describeVerdict(verdict, 'img')).toEqual({
      message: 'The registry is rate-limiting requests (retry after 30 s); the image could not be checked.',
      hint: 'Nothing for you to fix: classops checks again later and keeps what is running.',
    });
  });

  test.each([
    ['token-500', 'the token service answered HTTP 500'],
    ['token-not-json', 'the token service answered with something that is not JSON'],
    ['token-empty', 'the token service answered without a token'],
    ['token-null', 'the token service answered without a token'],
  ])('%s: unreachable, and the manifest is never asked for', async (fault, reason) => {
    const registry = await serve({ tokenSeconds: 300 });
    const image = `${registry.host}/${fault}/app:v1`;
    const verdict = await check(image);
    expect(verdict).toEqual({ kind: 'unreachable', reason });
    expect(describeVerdict(verdict, image)).toEqual({
      message: `The registry could not be reached to check ${image}: ${reason}.`,
      hint: 'Nothing for you to fix if the registry is up: classops checks again later and keeps what is running.',
    });
    expect(registry.servedFor(fault as 'token-500')).toEqual([]);
    expect(registry.tokens).toEqual([]);
  });

  test.each(['token-access', 'token-access-only'] as const)(
    '%s: a token in access_token (OAuth2 style) is used',
    async (fault) => {
      const registry = await serve({ tokenSeconds: 300 });
      expect(await check(`${registry.host}/${fault}/app:v1`)).toMatchObject({ kind: 'pullable' });
      expect(registry.servedFor(fault).map((s) => s.authorization)).toEqual(['Bearer token-1']);
    },
  );

  test.each(['token-forever', 'token-zero', 'token-text-expiry'])(
    '%s: a token without a usable expires_in lives the default 60 s (renewed at 50 s)',
    async (fault) => {
      const registry = await serve({ tokenSeconds: 300 });
      const time = clock();
      const checker = new ImageChecker(registryConfig(), { now: () => time.now });
      await checker.check(`${registry.host}/${fault}/app:v1`);
      time.advance(49_999);
      await checker.check(`${registry.host}/${fault}/app:v2`);
      expect(registry.tokens).toEqual(['token-1']);
      time.advance(1);
      await checker.check(`${registry.host}/${fault}/app:v3`);
      expect(registry.tokens).toEqual(['token-1', 'token-2']);
      expect(registry.servedFor(fault as 'token-zero').map((s) => s.authorization)).toEqual([
        'Bearer token-1',
        'Bearer token-1',
        'Bearer token-2',
      ]);
    },
  );

  test('tokens are kept per repository', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/good/a:v1`);
    await checker.check(`${registry.host}/good/b:v1`);
    await checker.check(`${registry.host}/good/a:v2`);
    expect(registry.servedFor('good').map((s) => s.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-2',
      'Bearer token-1',
    ]);
  });
});

describe('rate limits and other answers that are no verdict', () => {
  test('Retry-After in seconds', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/rate-limit/app:v1`)).toEqual({ kind: 'rate-limited', retryAfterSeconds: 120 });
  });

  test('Retry-After in seconds with spaces after them', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/rate-limit-spaced/app:v1`)).toEqual({
      kind: 'rate-limited',
      retryAfterSeconds: 120,
    });
    expect(registry.servedFor('rate-limit-spaced').map((s) => s.status)).toEqual([429]);
  });

  test('Retry-After as a date that has passed: retry now', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/rate-limit-past/app:v1`)).toEqual({
      kind: 'rate-limited',
      retryAfterSeconds: 0,
    });
  });

  test('Retry-After as a date an hour ahead: about an hour', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/rate-limit-later/app:v1`);
    expect(verdict.kind).toBe('rate-limited');
    const seconds = verdict.kind === 'rate-limited' ? verdict.retryAfterSeconds : undefined;
    // The header has whole seconds, and it was written just before it was read.
    expect(seconds).toBeGreaterThanOrEqual(3590);
    expect(seconds).toBeLessThanOrEqual(3600);
  });

  test.each(['rate-limit-bad', 'rate-limit-none'])('%s: rate-limited, retry time unknown', async (fault) => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/${fault}/app:v1`);
    expect(verdict).toEqual({ kind: 'rate-limited', retryAfterSeconds: undefined });
    expect(describeVerdict(verdict, 'img').message).toBe(
      'The registry is rate-limiting requests; the image could not be checked.',
    );
    expect(isTransient(verdict)).toBe(true);
    expect(isStudentFault(verdict)).toBe(false);
  });

  test('a rate limit without Retry-After is not cached', async () => {
    const registry = await serve();
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/rate-limit-none/app:v1`);
    await checker.check(`${registry.host}/rate-limit-none/app:v1`);
    expect(registry.servedFor('rate-limit-none').length).toBe(2);
  });

  test('a digest in another algorithm than sha256 is not compared', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/sha512-digest/app:v1`)).toMatchObject({
      kind: 'pullable',
      digest: GOOD_DIGEST,
    });
  });

  test('an answer that means nothing (418) is unreachable', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/teapot/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: 'the registry answered HTTP 418',
    });
  });
});

describe('transport faults', () => {
  test('a registry that is not running refused the connection', async () => {
    const registry = await serve();
    const host = registry.host;
    await registry.stop();
    expect(await check(`${host}/good/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `${host} refused the connection`,
    });
  });

  test('a registry that hangs up mid-request closed the connection', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/hang-up/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `${registry.host} closed the connection`,
    });
    expect(registry.servedFor('hang-up').length).toBe(1);
  });

  test('a request that gets no answer within registry.timeout did not answer in time', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/hang/app:v1`, { timeout: '1s' })).toEqual({
      kind: 'unreachable',
      reason: `${registry.host} did not answer in time`,
    });
    expect(registry.requests).toEqual(['GET /v2/', 'GET /v2/hang/app/manifests/v1']);
  });

  test('close() ends the checks under way at once, as unreachable', async () => {
    const registry = await serve();
    const checker = new ImageChecker(registryConfig({ timeout: '60s' }));
    const pending = checker.check(`${registry.host}/hang/app:v1`);
    await waitFor(async () => registry.requests.includes('GET /v2/hang/app/manifests/v1'), 10_000, 'the request');
    checker.close();
    expect(await pending).toEqual({ kind: 'unreachable', reason: `${registry.host} did not answer in time` });
  });

  test('a name that does not resolve', async () => {
    expect(await check('nosuch.invalid/ann/app:v1', { timeout: '3s' })).toEqual({
      kind: 'unreachable',
      reason: 'the name nosuch.invalid could not be resolved',
    });
  });

  test('an HTTPS registry with a certificate nobody trusts: says so, and never tries plain HTTP', async () => {
    const { certFile, keyFile } = selfSignedCertificate('classops-verdicts-', '/CN=127.0.0.1');
    const paths: Array<string | undefined> = [];
    const server: HttpsServer = createHttpsServer(
      { cert: readFileSync(certFile), key: readFileSync(keyFile) },
      (req, res) => {
        paths.push(req.url);
        res.writeHead(200).end('{}');
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stopLater({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const verdict = await check(`${host}/ann/app:v1`);
    expect(verdict).toEqual({ kind: 'unreachable', reason: `TLS with ${host} failed (DEPTH_ZERO_SELF_SIGNED_CERT)` });
    expect(paths).toEqual([]);
  });

  test('a server that answers with something that is not HTTP', async () => {
    const server: TcpServer = createTcpServer((socket) => {
      socket.on('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stopLater({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const verdict = await check(`${host}/ann/app:v1`);
    expect(verdict.kind).toBe('unreachable');
    // Neither a time-out nor a refusal: the parser's own words, after the host.
    expect(verdict.kind === 'unreachable' && verdict.reason).toMatch(new RegExp(`^${host}: \\S`));
    // The words alone, not the name of the error that carried them.
    expect(verdict.kind === 'unreachable' && verdict.reason).not.toMatch(/Error/);
  });

  test('a redirect to another scheme is refused', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/redirect-ftp/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: `refused a redirect from http://${registry.host} to ftp://${registry.host}`,
    });
    expect(registry.servedFor('redirect-ftp').map((s) => s.status)).toEqual([302]);
  });

  test('a redirect without a Location is an answer, not a redirect', async () => {
    const registry = await serve();
    expect(await check(`${registry.host}/redirect-nowhere/app:v1`)).toEqual({
      kind: 'unreachable',
      reason: 'the registry answered HTTP 302',
    });
  });

  test('a manifest over the cap sent without a length is cut off while reading', async () => {
    const registry = await serve();
    const verdict = await check(`${registry.host}/huge-chunked/app:v1`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // nothing left behind throws after the verdict
    expect(verdict).toEqual({
      kind: 'unreachable',
      reason: 'the response is over the limit of 4194304 bytes',
    });
  });

  test.each([
    ['padded', 'without a length'],
    ['sized', 'with its Content-Length'],
  ])(
    'registry.maxManifestBytes: a manifest (%s, %s) of exactly the cap is read, one byte more is not',
    async (fault) => {
      const registry = await serve();
      const size = Buffer.byteLength(PADDED_INDEX);
      expect(await check(`${registry.host}/${fault}/app:v1`, { maxManifestBytes: size })).toMatchObject({
        kind: 'pullable',
        digest: sha256(PADDED_INDEX),
      });
      const over = await check(`${registry.host}/${fault}/app:v1`, { maxManifestBytes: size - 1 });
      // Whatever the body left behind (an error event on a discarded stream) happens before the test ends.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(over).toEqual({
        kind: 'unreachable',
        reason:
          fault === 'sized'
            ? `the response is ${size} bytes, over the limit of ${size - 1}`
            : `the response is over the limit of ${size - 1} bytes`,
      });
    },
  );
});

describe('the checker', () => {
  test('an invalid reference is a programming error, not a verdict', async () => {
    const thrown = await check('Not A Reference').catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(/^checkImage needs a valid reference: \S/);
  });

  test('onChecked is told each verdict that reached the registry, not cache hits', async () => {
    const registry = await serve();
    const told: Array<[string, number]> = [];
    const checker = new ImageChecker(registryConfig(), { onChecked: (v, s) => told.push([v.kind, s]) });
    await checker.check(`${registry.host}/good/app:v1`);
    await checker.check(`${registry.host}/good/app:v1`);
    await checker.check(`${registry.host}/tag-missing/app:v1`);
    expect(told.map(([kind]) => kind)).toEqual(['pullable', 'tag-not-found']);
    expect(told.every(([, seconds]) => seconds >= 0 && seconds < 60)).toBe(true);
  });

  test('concurrent checks of one reference share one request; checkAll checks each image once', async () => {
    const registry = await serve({ delayMs: 50 });
    const checker = new ImageChecker(registryConfig());
    const images = [`${registry.host}/good/app:v1`, `${registry.host}/teapot/app:v1`];
    const [one, two, all] = await Promise.all([
      checker.check(images[0]!),
      checker.check(`${registry.host}/good/app:v1`),
      checker.checkAll([...images, ...images]),
    ]);
    expect(one).toBe(two);
    expect([...all.keys()]).toEqual(images);
    expect(all.get(images[0]!)).toBe(one);
    expect(all.get(images[1]!)).toEqual({ kind: 'unreachable', reason: 'the registry answered HTTP 418' });
    expect(registry.servedFor('good').length).toBe(1);
    expect(registry.servedFor('teapot').length).toBe(1);
  });

  test('the same image written two ways is one check', async () => {
    const registry = await serve();
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/good/app:latest`);
    await checker.check(`${registry.host}/good/app`);
    expect(registry.servedFor('good').length).toBe(1);
  });
});

describe('verdicts as roster findings, on the line of each container_image', () => {
  const entry = (login: string, image: string | undefined) =>
    `  - name: "${login}"\n    github_username: "${login}"\n` +
    (image === undefined ? '    port: 5000\n' : `    container_image: "${image}"\n`);

  test('only valid images without an image error are checked, each once; the student reads what to fix', async () => {
    const registry = await serve();
    const host = registry.host;
    const text = rosterText(
      entry('good', `${host}/good/app:v1`) + // 0: pullable, no finding
        entry('tag-missing', `${host}/tag-missing/app:v9`) + // 1
        entry('arm-index', `${host}/arm-index/app:v1`) + // 2
        entry('rate-limit', `${host}/rate-limit/app:v1`) + // 3
        entry('teapot', `${host}/teapot/app:v1`) + // 4
        entry('name-unknown', `${host}/other/app:v1`) + // 5: not the student's own: not checked
        entry('no-tags', `${host}/no-tags/app:latest`) + // 6: a warning about :latest, still checked
        entry('tag-missing', `${host}/tag-missing/app:v9`) + // 7: a duplicate login, the same image
        entry('bad', 'Not An Image') + // 8: invalid, not checked
        entry('none', undefined), // 9: no image
    );
    const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy({ allowedRegistries: [host] }));
    const imageErrors = report.findings.filter((f) => f.code.startsWith('image-')).map((f) => [f.entryIndex, f.code]);
    expect(imageErrors).toEqual([
      [5, 'image-owner-mismatch'],
      [6, 'image-tag-latest'],
      [8, 'image-invalid'],
    ]);
    expect(report.findings.some((f) => f.entryIndex === 7 && f.code === 'username-duplicate')).toBe(true);

    const images = imagesToCheck(report);
    expect(images).toEqual(
      [
        `${host}/good/app:v1`,
        `${host}/tag-missing/app:v9`,
        `${host}/arm-index/app:v1`,
        `${host}/rate-limit/app:v1`,
        `${host}/teapot/app:v1`,
        `${host}/no-tags/app:latest`,
      ].sort(),
    );
    const verdicts = await new ImageChecker(registryConfig()).checkAll(images);
    expect(registry.requests.filter((r) => r.includes('/manifests/')).length).toBe(6);
    expect(registry.requests.some((r) => r.includes('/other/'))).toBe(false);

    const withVerdicts = withImageVerdicts(report, verdicts);
    const added = withVerdicts.findings.filter((f) => !report.findings.includes(f));
    const line = (index: number) => 8 + 3 * index; // the header takes 5 lines, each entry 3
    expect(added).toEqual([
      {
        code: 'image-tag-not-found',
        severity: 'error',
        ...describeVerdict(verdicts.get(`${host}/tag-missing/app:v9`)!, `${host}/tag-missing/app:v9`),
        file: 'week-01.yaml',
        line: line(1),
        column: 22,
        entryIndex: 1,
      },
      {
        code: 'image-platform-missing',
        severity: 'error',
        message: `${host}/arm-index/app:v1 is built for linux/arm64/v8, linux/arm/v6, but the cluster runs linux/amd64.`,
        hint: `Build for the cluster too: docker buildx build --platform linux/amd64 -t ${host}/arm-index/app:v1 --push . (Apple Silicon Macs build linux/arm64 by default).`,
        file: 'week-01.yaml',
        line: line(2),
        column: 22,
        entryIndex: 2,
      },
      {
        code: 'image-rate-limited',
        severity: 'warning',
        message: 'The registry is rate-limiting requests (retry after 120 s); the image could not be checked.',
        hint: 'Nothing for you to fix: classops checks again later and keeps what is running.',
        file: 'week-01.yaml',
        line: line(3),
        column: 22,
        entryIndex: 3,
      },
      {
        code: 'image-unreachable',
        severity: 'warning',
        message: `The registry could not be reached to check ${host}/teapot/app:v1: the registry answered HTTP 418.`,
        hint: 'Nothing for you to fix if the registry is up: classops checks again later and keeps what is running.',
        file: 'week-01.yaml',
        line: line(4),
        column: 22,
        entryIndex: 4,
      },
      {
        code: 'image-tag-not-found',
        severity: 'error',
        message: `The tag "latest" of ${host}/no-tags/app:latest does not exist. The repository has no tags yet.`,
        hint: `Push that tag (docker push ${host}/no-tags/app:latest), or write a tag that exists.`,
        file: 'week-01.yaml',
        line: line(6),
        column: 22,
        entryIndex: 6,
      },
      expect.objectContaining({ code: 'image-tag-not-found', severity: 'error', line: line(7), entryIndex: 7 }),
    ]);
    expect(added[0]!.message).toBe(
      `The tag "v9" of ${host}/tag-missing/app:v9 does not exist. Tags that exist: a1, latest, v2.`,
    );
    // A student fault makes the entry invalid (it is not deployed); a warning does not.
    expect(withVerdicts.entries.map((e) => e.entry !== undefined)).toEqual([
      true,
      false,
      false,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  test('no verdicts, or only pullable ones: the report is unchanged', async () => {
    const registry = await serve();
    const report = validateRoster(
      'week-01.yaml',
      Buffer.from(rosterText(entry('good', `${registry.host}/good/app:v1`))),
      defaultPolicy({ allowedRegistries: [registry.host] }),
    );
    const verdicts = await new ImageChecker(registryConfig()).checkAll(imagesToCheck(report));
    expect(verdicts.get(`${registry.host}/good/app:v1`)).toMatchObject({ kind: 'pullable' });
    expect(withImageVerdicts(report, verdicts)).toBe(report);
    expect(withImageVerdicts(report, new Map())).toBe(report);
  });
});

describe('the words for verdicts no registry here sends', () => {
  test('ten tags are listed whole; eleven name the one more', () => {
    const tags = Array.from({ length: 11 }, (_, i) => `t${i + 10}`);
    const message = (existingTags: string[]) =>
      describeVerdict({ kind: 'tag-not-found', tag: 'v1', existingTags }, 'img').message;
    expect(message(tags.slice(0, 10))).toBe(
      `The tag "v1" of img does not exist. Tags that exist: ${tags.slice(0, 10).join(', ')}.`,
    );
    expect(message(tags)).toBe(
      `The tag "v1" of img does not exist. Tags that exist: ${tags.slice(0, 10).join(', ')}, and 1 more.`,
    );
  });

  test('whose fault each verdict is', () => {
    const verdicts = [
      { kind: 'pullable', digest: GOOD_DIGEST, mediaType: MEDIA.ociIndex, platforms: [] },
      { kind: 'private', detail: 'x' },
      { kind: 'repository-not-found' },
      { kind: 'tag-not-found', tag: 'v1', existingTags: undefined },
      { kind: 'platform-missing', required: 'linux/amd64', platforms: ['linux/arm64'] },
      { kind: 'rate-limited', retryAfterSeconds: 1 },
      { kind: 'unreachable', reason: 'x' },
    ] as const;
    expect(verdicts.map((v) => [v.kind, isStudentFault(v), isTransient(v)])).toEqual([
      ['pullable', false, false],
      ['private', true, false],
      ['repository-not-found', true, false],
      ['tag-not-found', true, false],
      ['platform-missing', true, false],
      ['rate-limited', false, true],
      ['unreachable', false, true],
    ]);
  });
});

describe('HTTPS first; plain HTTP only for loopback and registry.plainHttp', () => {
  test('a loopback registry in plain HTTP: one HTTPS attempt, then its plain base is remembered', async () => {
    const registry = await serve();
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/good/app:v1`);
    await checker.check(`${registry.host}/good/app:v2`);
    expect(registry.notHttp).toBe(1);
    expect(registry.requests.filter((r) => r === 'GET /v2/').length).toBe(2);
  });

  test('a ping that is not a registry answer forgets the base: the next check tries HTTPS again', async () => {
    const registry = await serve({ ping: { status: 404 } });
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/good/app:v1`);
    await checker.check(`${registry.host}/good/app:v2`);
    expect(registry.notHttp).toBe(2);
  });

  test('a ping asking for auth is a registry answer: the base is kept', async () => {
    const registry = await serve({ tokenSeconds: 300 });
    const checker = new ImageChecker(registryConfig());
    await checker.check(`${registry.host}/good/app:v1`);
    await checker.check(`${registry.host}/good/app:v2`);
    expect(registry.notHttp).toBe(1);
  });

  test('a ping that fails forgets the base, also for the checks that waited on it', async () => {
    const registry = await serve({ hangPing: true });
    const checker = new ImageChecker(registryConfig({ timeout: '1s' }));
    const first = await Promise.all([
      checker.check(`${registry.host}/good/app:v1`),
      checker.check(`${registry.host}/good/app:v2`),
    ]);
    expect(first).toEqual([
      { kind: 'unreachable', reason: `${registry.host} did not answer in time` },
      { kind: 'unreachable', reason: `${registry.host} did not answer in time` },
    ]);
    expect(registry.notHttp).toBe(1); // the two checks shared one attempt
    await checker.check(`${registry.host}/good/app:v3`);
    expect(registry.notHttp).toBe(2);
  });

  describe('a registry under a name that is not loopback', () => {
    let dispatcher: Agent;
    beforeAll(() => {
      dispatcher = loopbackForEveryName();
    });
    afterAll(() => dispatcher.close());
    const checkAs = (host: string, plainHttp: string[]) => checkThrough(dispatcher, `${host}/good/app:v1`, plainHttp);

    test('in plain HTTP, it is never spoken to in clear', async () => {
      const registry = await serve();
      const host = `registry.classops.test:${registry.port}`;
      expect(await checkAs(host, [])).toEqual({ kind: 'unreachable', reason: `${host} does not speak HTTPS` });
      expect(registry.notHttp).toBe(1);
      expect(registry.requests).toEqual([]);
    });

    test('unless registry.plainHttp lists it', async () => {
      const registry = await serve();
      const host = `registry.classops.test:${registry.port}`;
      expect(await checkAs(host, ['other.test:1', host])).toMatchObject({ kind: 'pullable', digest: GOOD_DIGEST });
      expect(registry.requests).toEqual(['GET /v2/', 'GET /v2/good/app/manifests/v1']);
    });
  });

  test('a server that drops every connection before TLS: HTTPS found none, plain HTTP is tried', async () => {
    let connections = 0;
    const server: TcpServer = createTcpServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stopLater({ stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    expect(await check(`${host}/ann/app:v1`)).toEqual({ kind: 'unreachable', reason: `${host} closed the connection` });
    expect(connections).toBe(2);
  });
});
