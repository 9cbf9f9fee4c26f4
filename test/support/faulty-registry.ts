/**
 * A loopback HTTP server that misbehaves the ways registries do, one repository per
 * fault: never answering, 429 with Retry-After, 5xx, invalid JSON, an oversized
 * manifest, a redirect loop, a manifest refused after a token was granted, a body that
 * does not match its digest, a redirect to another host or within this one. The repository `good` serves a
 * valid image index. Others serve what real registries serve for the other verdicts:
 * single images (OCI and Docker) whose platform is in a config blob, Docker manifest
 * lists, missing tags and repositories as docker-registry and GHCR tell them apart.
 * With `tokenSeconds`, a repository named `token-*` gets that fault from the token
 * service (refused, rate-limited, broken, no token, no or zero expiry). It records every answer
 * it served, with the Authorization header it was sent, so tests can assert the fault
 * really happened (and see caching).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault =
  | 'hang'
  | 'rate-limit'
  | 'server-error'
  | 'invalid-json'
  | 'huge-manifest'
  | 'redirect-loop'
  | 'manifest-401'
  | 'manifest-403'
  | 'digest-mismatch'
  | 'redirect-away'
  | 'redirect-here'
  | 'good'
  // A single image whose config blob names the platform of the repository's second part
  // (`oci-image/linux-arm-v7/app`); the OCI one states its media type only in Content-Type.
  | 'oci-image'
  | 'docker-image'
  | 'config-gone'
  | 'config-garbage'
  | 'config-hang'
  // A config blob answered with 503; one of 2 MB (a long label), over the 1 MiB of other small bodies.
  | 'config-error'
  | 'config-large'
  | 'no-config'
  // Lists of manifests: a Docker list (amd64, arm/v7, an attestation), an OCI index for arm only,
  // a list sent as a single image's media type, and one whose media type is not stated anywhere.
  | 'docker-list'
  | 'arm-index'
  | 'empty-index'
  | 'attestations-index'
  | 'helm-chart'
  // Platforms an image's author wrote: 2 000 with a 1 000-character os, 40 odd ones and arm64; and null ones (a platform, a variant).
  | 'odd-platforms-index'
  | 'null-platform-index'
  | 'list-as-manifest'
  | 'untyped-list'
  // 404 on the manifest, told apart by its error code and the tags list.
  | 'tag-missing'
  | 'many-tags'
  | 'no-tags'
  | 'tags-broken'
  | 'name-unknown'
  | 'repo-missing'
  | 'tags-name-unknown'
  | 'tags-404-plain'
  | 'tag-missing-plain'
  | 'tags-null'
  // Retry-After as an HTTP date (past and an hour ahead), unreadable, absent, or with spaces after it; an answer that is no verdict.
  | 'rate-limit-past'
  | 'rate-limit-later'
  | 'rate-limit-bad'
  | 'rate-limit-none'
  | 'rate-limit-spaced'
  | 'teapot'
  | 'sha512-digest'
  // Transport: a redirect with no Location or to ftp:, a socket closed mid-answer, an index over 1 KiB without a length (as every
  // other answer here: chunked) and with its Content-Length, a body over 4 MiB sent without a length,
  // a body that stops halfway.
  | 'redirect-nowhere'
  | 'redirect-ftp'
  | 'hang-up'
  | 'padded'
  | 'sized'
  | 'huge-chunked'
  // The good index's headers and the first half of its body, then nothing more, or the socket closed.
  | 'body-stall'
  | 'body-cut'
  // Token service faults (with `tokenSeconds`); the last five are granted and then serve `good`.
  | 'token-401'
  | 'token-403'
  | 'token-429'
  | 'token-500'
  | 'token-not-json'
  | 'token-empty'
  | 'token-null'
  | 'token-access'
  | 'token-access-only'
  | 'token-forever'
  | 'token-zero'
  | 'token-text-expiry';

export interface Served {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly authorization: string | undefined;
}

export interface FaultyOptions {
  /** Even /v2/ never answers (a server that is up but dead). */
  readonly hangPing?: boolean;
  /** Token auth as GHCR does it: /v2/ challenges, /token grants anonymous tokens valid this many seconds. */
  readonly tokenSeconds?: number;
  /** Each answer waits this long, so concurrent requests overlap at the server. */
  readonly delayMs?: number;
  /** Where `redirect-away` sends manifest requests: another server's base URL. */
  readonly redirectTo?: string;
  /** The loopback address to listen on (127.0.0.2 is loopback too, and another host). */
  readonly address?: string;
  /** What `/v2/` answers instead of 200 (e.g. 401 with a Basic challenge, 500, 429). */
  readonly ping?: { readonly status: number; readonly headers?: Record<string, string> };
}

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const INDEX_TYPE = 'application/vnd.oci.image.index.v1+json';
/** A one-platform image index: enough for a `pullable` verdict without fetching a config blob. */
export const GOOD_INDEX = JSON.stringify({
  schemaVersion: 2,
  mediaType: INDEX_TYPE,
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256('not fetched'),
      size: 11,
      platform: { os: 'linux', architecture: 'amd64' },
    },
  ],
});
export const GOOD_DIGEST = sha256(GOOD_INDEX);

export const MEDIA = {
  ociIndex: INDEX_TYPE,
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

const platformObject = (platform: string) => {
  const [os, architecture, variant] = platform.split('/');
  return { os, architecture, ...(variant === undefined ? {} : { variant }) };
};
/** A list of manifests (OCI index or Docker list) for these platforms; `unknown/unknown` is an attestation. */
export function manifestList(platforms: readonly string[], mediaType?: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    ...(mediaType === undefined ? {} : { mediaType }),
    manifests: platforms.map((platform) => ({
      mediaType: MEDIA.ociManifest,
      digest: sha256(`image for ${platform}`),
      size: 500,
      ...(platform === '' ? {} : { platform: platformObject(platform) }),
    })),
  });
}
/** The config blob of a single image built for `platform` (os/architecture[/variant]). */
export const configBlob = (platform: string) =>
  JSON.stringify({ ...platformObject(platform), rootfs: { type: 'layers', diff_ids: [] } });
/** A single image's manifest whose config blob is `config`. */
export function imageManifest(config: string, mediaType: string | undefined, configType: string): string {
  return JSON.stringify({
    schemaVersion: 2,
    ...(mediaType === undefined ? {} : { mediaType }),
    config: { mediaType: configType, digest: sha256(config), size: config.length },
    layers: [],
  });
}
export { sha256 };
/** An index of eight platforms, over the smallest manifest cap (1 KiB) that the config allows. */
export const PADDED_INDEX = manifestList(
  [
    'linux/amd64',
    'linux/arm64',
    'linux/arm/v7',
    'linux/arm/v6',
    'linux/386',
    'linux/ppc64le',
    'linux/s390x',
    'linux/riscv64',
  ],
  INDEX_TYPE,
);
/** What `docker-list` serves: two images, an attestation, an entry without a platform, an empty variant. */
export const DOCKER_LIST = manifestList(
  ['linux/amd64', 'linux/arm/v7', 'unknown/unknown', '', 'linux/ppc64le/'],
  MEDIA.dockerList,
);
/** Tags of `many-tags`: twelve, served out of order. */
export const MANY_TAGS = Array.from({ length: 12 }, (_, i) => `v${12 - i}`);

export class FaultyRegistry {
  readonly requests: string[] = [];
  readonly served: Served[] = [];
  /** The Accept header of each request, as `METHOD path: accept`. */
  readonly accepts: string[] = [];
  /** Tokens granted, in order. */
  readonly tokens: string[] = [];
  /** Connections that did not speak HTTP: each is an HTTPS attempt (a TLS ClientHello). */
  notHttp = 0;
  /** The most requests this server was answering at one moment. */
  maxInFlight = 0;
  private inFlight = 0;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;
  /** Whether /v2/ never answers: starts as `options.hangPing`, and a test may revive the server. */
  hangPing: boolean;
  /** How many of the next requests get their connection dropped, unanswered (a blip). */
  dropRequests = 0;

  constructor(private readonly options: FaultyOptions = {}) {
    this.hangPing = options.hangPing ?? false;
  }

  get host(): string {
    return `${this.options.address ?? '127.0.0.1'}:${this.port}`;
  }

  /** The answers served for one repository (its fault), e.g. servedFor('manifest-401'). */
  servedFor(fault: Fault): Served[] {
    return this.served.filter((s) => s.path.startsWith(`/v2/${fault}/`));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${path}`);
    if (this.dropRequests > 0) {
      this.dropRequests -= 1;
      req.socket.destroy();
      return;
    }
    this.accepts.push(`${method} ${path}: ${req.headers.accept ?? '(none)'}`);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const reply = (status: number, headers: Record<string, string>, body?: string | Buffer): void => {
      this.inFlight -= 1;
      this.served.push({ method, path, status, authorization: req.headers.authorization });
      res.writeHead(status, headers).end(method === 'HEAD' ? undefined : body);
    };
    if (this.options.delayMs !== undefined) await new Promise((r) => setTimeout(r, this.options.delayMs));
    const json = { 'content-type': 'application/json' };

    if (this.hangPing && path === '/v2/') {
      this.inFlight -= 1;
      this.hanging.add(res);
      return;
    }
    if (this.options.tokenSeconds !== undefined) {
      if (path.startsWith('/token?')) {
        this.token(path, reply);
        return;
      }
      const sent = req.headers.authorization;
      if (sent === undefined || !this.tokens.includes(sent.replace(/^Bearer /, ''))) {
        const challenge = `Bearer realm="http://${this.host}/token",service="faulty"`;
        reply(401, { ...json, 'www-authenticate': challenge }, '{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
    }
    if (path === '/v2/') {
      if (this.options.ping !== undefined) reply(this.options.ping.status, this.options.ping.headers ?? {}, '{}');
      else reply(200, json, '{}');
      return;
    }
    const [, fault = 'hang', second = '', what = '', reference = ''] =
      (/^\/v2\/([^/]+)\/(?:([^/]+)\/)?.*?(manifests|blobs|tags)\/([^/]+)$/.exec(path) ?? []) as Array<
        string | undefined
      >;
    if (this.more(fault as Fault, second, what, reference, path, req, res, reply)) return;
    const index = { 'content-type': INDEX_TYPE };
    switch (fault as Fault) {
      case 'rate-limit':
        reply(429, { ...json, 'retry-after': '120' }, '{"errors":[{"code":"TOOMANYREQUESTS"}]}');
        return;
      case 'server-error':
        reply(503, {}, 'upstream connect error');
        return;
      case 'invalid-json':
        reply(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, '{"schemaVersion": 2, "config": ');
        return;
      case 'huge-manifest': {
        const size = 5 * 1024 * 1024;
        const headers = {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(size),
        };
        reply(200, headers, Buffer.alloc(size, 0x20));
        return;
      }
      case 'redirect-loop':
        reply(302, { location: path }, '');
        return;
      case 'manifest-401':
        reply(401, json, '{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      case 'manifest-403':
        reply(403, json, '{"errors":[{"code":"DENIED"}]}');
        return;
      case 'digest-mismatch':
        // The body is a valid index, but not the one the digest names.
        reply(200, { ...index, 'docker-content-digest': sha256(`${GOOD_INDEX} `) }, GOOD_INDEX);
        return;
      case 'redirect-away':
        reply(307, { location: `${this.options.redirectTo}${path.replace('/redirect-away/', '/good/')}` }, '');
        return;
      case 'redirect-here':
        reply(307, { location: path.replace('/redirect-here/', '/good/') }, '');
        return;
      case 'good':
        reply(200, { ...index, 'docker-content-digest': GOOD_DIGEST }, GOOD_INDEX);
        return;
      default:
        this.inFlight -= 1;
        this.hanging.add(res); // never answers
    }
  }

  /** The token service: grants `token-N`, unless the repository in the scope names a token fault. */
  private token(path: string, reply: (status: number, headers: Record<string, string>, body?: string) => void): void {
    const json = { 'content-type': 'application/json' };
    const scope = new URL(path, 'http://x').searchParams.get('scope') ?? '';
    const fault = /^repository:([^/:]+)/.exec(scope)?.[1] ?? '';
    const grant = (fields: Record<string, unknown>) => {
      const token = `token-${this.tokens.length + 1}`;
      this.tokens.push(token);
      return { token, body: JSON.stringify(fields).replace('"TOKEN"', JSON.stringify(token)) };
    };
    switch (fault) {
      case 'token-401':
      case 'token-403':
      case 'token-500':
        reply(Number(fault.slice(6)), json, '{"errors":[{"code":"DENIED"}]}');
        return;
      case 'token-429':
        reply(429, { ...json, 'retry-after': '30' }, '{"errors":[{"code":"TOOMANYREQUESTS"}]}');
        return;
      case 'token-not-json':
        reply(200, json, '<html>sign in</html>');
        return;
      case 'token-empty':
        reply(200, json, JSON.stringify({ token: '', access_token: '', expires_in: 300 }));
        return;
      case 'token-null':
        reply(200, json, 'null');
        return;
      case 'token-access':
        // An empty `token` and the real one in `access_token`, as OAuth2 token services answer.
        reply(200, json, grant({ token: '', access_token: 'TOKEN', expires_in: this.options.tokenSeconds }).body);
        return;
      case 'token-access-only':
        reply(200, json, grant({ access_token: 'TOKEN', expires_in: this.options.tokenSeconds }).body);
        return;
      case 'token-forever':
        reply(200, json, grant({ token: 'TOKEN' }).body);
        return;
      case 'token-text-expiry':
        reply(200, json, grant({ token: 'TOKEN', expires_in: String(this.options.tokenSeconds) }).body);
        return;
      case 'token-zero':
        reply(200, json, grant({ token: 'TOKEN', expires_in: 0 }).body);
        return;
      default:
        reply(200, json, grant({ token: 'TOKEN', expires_in: this.options.tokenSeconds }).body);
    }
  }

  /** The faults added after the first ones; true when it answered. */
  private more(
    fault: Fault,
    second: string,
    what: string,
    reference: string,
    path: string,
    req: IncomingMessage,
    res: ServerResponse,
    reply: (status: number, headers: Record<string, string>, body?: string | Buffer) => void,
  ): boolean {
    const json = { 'content-type': 'application/json' };
    const notFound = (code: string) => JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] });
    const tagsAnswer = (status: number, body: string) => {
      if (what === 'tags') reply(status, json, body);
      else reply(404, json, notFound('MANIFEST_UNKNOWN'));
    };
    const platform = second.replaceAll('-', '/');
    switch (fault) {
      case 'oci-image':
      case 'docker-image':
      case 'config-gone':
      case 'config-garbage':
      case 'config-hang':
      case 'config-error':
      case 'config-large': {
        const docker = fault === 'docker-image';
        const config =
          fault === 'config-large'
            ? JSON.stringify({
                ...JSON.parse(configBlob(platform)),
                config: { Labels: { notes: 'x'.repeat(2_000_000) } },
              })
            : configBlob(platform);
        const manifest = imageManifest(
          config,
          docker ? MEDIA.dockerManifest : undefined,
          docker ? MEDIA.dockerConfig : MEDIA.ociConfig,
        );
        if (what === 'blobs' && fault === 'config-hang') {
          this.inFlight -= 1;
          this.hanging.add(res);
        } else if (what === 'blobs' && fault === 'config-gone') reply(404, json, notFound('BLOB_UNKNOWN'));
        else if (what === 'blobs' && fault === 'config-garbage') reply(200, {}, 'not a config');
        else if (what === 'blobs' && fault === 'config-error') reply(503, {}, 'upstream connect error');
        else if (what === 'blobs') reply(reference === sha256(config) ? 200 : 404, json, config);
        // Docker's own type is in the body; the header says nothing useful.
        else if (docker) reply(200, { 'content-type': 'application/octet-stream' }, manifest);
        else reply(200, { 'content-type': `${MEDIA.ociManifest} ; charset=utf-8` }, manifest);
        return true;
      }
      case 'no-config': {
        // The config digest of `no-config/short`, `no-config/long` or `no-config/prefixed`: none is a sha256 digest.
        const hex = 'ab'.repeat(32);
        const digest = { short: 'sha256:abc', long: `sha256:${hex}0`, prefixed: `xsha256:${hex}` }[second];
        reply(200, { 'content-type': MEDIA.ociManifest }, JSON.stringify({ schemaVersion: 2, config: { digest } }));
        return true;
      }
      case 'docker-list':
        reply(200, { 'content-type': MEDIA.dockerList }, DOCKER_LIST);
        return true;
      case 'empty-index':
        reply(200, { 'content-type': INDEX_TYPE }, manifestList([], INDEX_TYPE));
        return true;
      case 'attestations-index':
        reply(200, { 'content-type': INDEX_TYPE }, manifestList(['unknown/unknown'], INDEX_TYPE));
        return true;
      case 'helm-chart':
        reply(
          200,
          { 'content-type': MEDIA.ociManifest },
          imageManifest('{}', undefined, 'application/vnd.cncf.helm.config.v1+json'),
        );
        return true;
      case 'odd-platforms-index': {
        const entry = (platform: unknown) => ({
          mediaType: MEDIA.ociManifest,
          digest: sha256('x'),
          size: 500,
          platform,
        });
        const manifests = [
          ...Array.from({ length: 2000 }, () => entry({ os: 'x'.repeat(1000), architecture: 'amd64' })),
          ...Array.from({ length: 40 }, (_, i) => entry({ os: 'linux', architecture: `mips${i}` })),
          entry({ os: 'linux', architecture: 'arm64', variant: '\u001b[2J' }),
          entry({ os: 'linux', architecture: 'arm64' }),
        ];
        reply(
          200,
          { 'content-type': INDEX_TYPE },
          JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests }),
        );
        return true;
      }
      case 'null-platform-index': {
        const variantNull = { os: 'linux', architecture: 'amd64', variant: null };
        const manifests = [
          { mediaType: MEDIA.ociManifest, digest: sha256('x'), size: 500, platform: null },
          { mediaType: MEDIA.ociManifest, digest: sha256('y'), size: 500, platform: variantNull },
        ];
        reply(
          200,
          { 'content-type': INDEX_TYPE },
          JSON.stringify({ schemaVersion: 2, mediaType: INDEX_TYPE, manifests }),
        );
        return true;
      }
      case 'arm-index':
        reply(200, { 'content-type': INDEX_TYPE }, manifestList(['linux/arm64/v8', 'linux/arm/v6'], INDEX_TYPE));
        return true;
      case 'list-as-manifest':
        reply(200, { 'content-type': MEDIA.dockerManifest }, manifestList(['linux/amd64'], MEDIA.dockerManifest));
        return true;
      case 'untyped-list':
        reply(200, {}, manifestList(['linux/amd64']));
        return true;
      case 'tag-missing':
        tagsAnswer(
          200,
          JSON.stringify({
            name: 'tag-missing/app',
            tags: ['v2', 'latest', 7, 'a1', '\u001b]0;pwned\u0007', 'x'.repeat(200), '-dash'],
          }),
        );
        return true;
      case 'many-tags':
        tagsAnswer(200, JSON.stringify({ name: 'many-tags/app', tags: MANY_TAGS }));
        return true;
      case 'no-tags':
        tagsAnswer(200, JSON.stringify({ name: 'no-tags/app', tags: null }));
        return true;
      case 'tags-broken':
        // A proxy's 500 that passes an upstream error code on: not an answer about the repository.
        tagsAnswer(500, notFound('NAME_UNKNOWN'));
        return true;
      case 'tags-name-unknown':
        tagsAnswer(404, notFound('NAME_UNKNOWN'));
        return true;
      case 'tags-404-plain':
        tagsAnswer(404, '404 page not found');
        return true;
      case 'tag-missing-plain':
        // A registry that names no error codes, with tags.
        if (what === 'tags') reply(200, json, JSON.stringify({ name: 'tag-missing-plain/app', tags: ['v1'] }));
        else reply(404, {}, '404 page not found');
        return true;
      case 'tags-null':
        tagsAnswer(200, 'null');
        return true;
      case 'name-unknown':
        reply(404, json, notFound('NAME_UNKNOWN'));
        return true;
      case 'repo-missing':
        // No error code on either answer, as plain file servers and some mirrors answer.
        reply(404, {}, '404 page not found');
        return true;
      case 'rate-limit-past':
        reply(429, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }, '');
        return true;
      case 'rate-limit-later':
        reply(429, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() }, '');
        return true;
      case 'rate-limit-bad':
        reply(429, { 'retry-after': 'soon' }, '');
        return true;
      case 'rate-limit-none':
        reply(429, {}, '');
        return true;
      case 'rate-limit-spaced':
        reply(429, { 'retry-after': '120  ' }, '');
        return true;
      case 'sha512-digest':
        // A digest in an algorithm classops does not compute: not checked, not a mismatch.
        reply(200, { 'content-type': INDEX_TYPE, 'docker-content-digest': `sha512:${'0'.repeat(128)}` }, GOOD_INDEX);
        return true;
      case 'teapot':
        reply(418, {}, "I'm a teapot");
        return true;
      case 'redirect-nowhere':
        reply(302, {}, '');
        return true;
      case 'redirect-ftp':
        reply(302, { location: `ftp://${req.headers.host ?? ''}${path}` }, '');
        return true;
      case 'hang-up':
        this.inFlight -= 1;
        this.served.push({ method: req.method ?? 'GET', path, status: 0, authorization: req.headers.authorization });
        req.socket.destroy();
        return true;
      case 'padded':
        reply(200, { 'content-type': INDEX_TYPE }, PADDED_INDEX);
        return true;
      case 'sized':
        reply(
          200,
          { 'content-type': INDEX_TYPE, 'content-length': String(Buffer.byteLength(PADDED_INDEX)) },
          PADDED_INDEX,
        );
        return true;
      case 'huge-chunked': {
        this.inFlight -= 1;
        this.served.push({ method: req.method ?? 'GET', path, status: 200, authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': INDEX_TYPE });
        const piece = Buffer.alloc(1024 * 1024, 0x20);
        for (let i = 0; i < 5; i++) res.write(piece);
        res.end();
        return true;
      }
      case 'body-stall':
      case 'body-cut': {
        this.inFlight -= 1;
        this.served.push({ method: req.method ?? 'GET', path, status: 200, authorization: req.headers.authorization });
        const body = Buffer.from(GOOD_INDEX);
        res.writeHead(200, { 'content-type': INDEX_TYPE, 'content-length': String(body.length) });
        res.write(body.subarray(0, body.length / 2), () => {
          if (fault === 'body-cut') req.socket.destroy();
        });
        if (fault === 'body-stall') this.hanging.add(res);
        return true;
      }
      case 'token-access':
      case 'token-access-only':
      case 'token-forever':
      case 'token-zero':
      case 'token-text-expiry':
        reply(200, { 'content-type': INDEX_TYPE, 'docker-content-digest': GOOD_DIGEST }, GOOD_INDEX);
        return true;
      default:
        return false;
    }
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('clientError', (_error, socket) => {
      this.notHttp += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, this.options.address ?? '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * For a test file: `serve` starts a faulty registry; `stopAll` (its afterEach) stops
 * everything it started or was handed to `stopLater`.
 */
export function faultyRegistries() {
  const running: Array<{ stop(): Promise<void> }> = [];
  return {
    serve: async (options: FaultyOptions = {}): Promise<FaultyRegistry> => {
      const server = await new FaultyRegistry(options).start();
      running.push(server);
      return server;
    },
    stopLater: (server: { stop(): Promise<void> }) => running.push(server),
    stopAll: async () => {
      await Promise.all(running.splice(0).map((s) => s.stop()));
    },
  };
}
