/**
 * A loopback HTTP server that misbehaves the ways registries do, one repository per
 * fault: never answering, 429 with Retry-After, 5xx, invalid JSON, an oversized
 * manifest, a redirect loop, a manifest refused after a token was granted, a body that
 * does not match its digest, a redirect to another host or within this one. The repository `good` serves a
 * valid image index. It records every answer it served, with the Authorization header it
 * was sent, so tests can assert the fault really happened (and see caching).
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
  | 'good';

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

export class FaultyRegistry {
  readonly requests: string[] = [];
  readonly served: Served[] = [];
  /** Tokens granted, in order. */
  readonly tokens: string[] = [];
  /** The most requests this server was answering at one moment. */
  maxInFlight = 0;
  private inFlight = 0;
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;

  constructor(private readonly options: FaultyOptions = {}) {}

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
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const reply = (status: number, headers: Record<string, string>, body?: string | Buffer): void => {
      this.inFlight -= 1;
      this.served.push({ method, path, status, authorization: req.headers.authorization });
      res.writeHead(status, headers).end(method === 'HEAD' ? undefined : body);
    };
    if (this.options.delayMs !== undefined) await new Promise((r) => setTimeout(r, this.options.delayMs));
    const json = { 'content-type': 'application/json' };

    if (this.options.hangPing && path === '/v2/') {
      this.inFlight -= 1;
      this.hanging.add(res);
      return;
    }
    if (this.options.tokenSeconds !== undefined) {
      if (path.startsWith('/token?')) {
        const token = `token-${this.tokens.length + 1}`;
        this.tokens.push(token);
        reply(200, json, JSON.stringify({ token, expires_in: this.options.tokenSeconds }));
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
      reply(200, json, '{}');
      return;
    }
    const fault = (/^\/v2\/([^/]+)\//.exec(path)?.[1] ?? 'hang') as Fault;
    const index = { 'content-type': INDEX_TYPE };
    switch (fault) {
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

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
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
