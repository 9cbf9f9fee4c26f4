/**
 * A loopback HTTP server that misbehaves the ways registries do, one repository per
 * fault: never answering, 429 with Retry-After, 5xx, invalid JSON, an oversized
 * manifest, a redirect loop. It counts requests so tests can see caching.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Fault = 'hang' | 'rate-limit' | 'server-error' | 'invalid-json' | 'huge-manifest' | 'redirect-loop';

export class FaultyRegistry {
  readonly requests: string[] = [];
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  port = 0;

  /** `hangPing`: even /v2/ never answers (a server that is up but dead). */
  constructor(private readonly options: { hangPing?: boolean } = {}) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push(`${req.method} ${path}`);
    if (path === '/v2/' && !this.options.hangPing) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const fault = (/^\/v2\/([^/]+)\//.exec(path)?.[1] ?? 'hang') as Fault;
    switch (fault) {
      case 'rate-limit':
        res
          .writeHead(429, { 'retry-after': '120', 'content-type': 'application/json' })
          .end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
        return;
      case 'server-error':
        res.writeHead(503).end('upstream connect error');
        return;
      case 'invalid-json':
        res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
          .end(req.method === 'HEAD' ? undefined : '{"schemaVersion": 2, "config": ');
        return;
      case 'huge-manifest': {
        const size = 5 * 1024 * 1024;
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(size),
        });
        if (req.method === 'HEAD') res.end();
        else res.end(Buffer.alloc(size, 0x20));
        return;
      }
      case 'redirect-loop':
        res.writeHead(302, { location: path }).end();
        return;
      default:
        this.hanging.add(res); // never answers
    }
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
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
