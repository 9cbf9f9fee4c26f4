/**
 * Git's smart HTTP protocol served by the real `git http-backend` (CGI) behind a loopback
 * server that demands a token the way GitHub does (Basic, user x-access-token).
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';

export class GitHttpServer {
  private server: Server | undefined;
  port = 0;
  readonly seenAuthorization: Array<string | undefined> = [];

  /** Serves the repository at `repoDir` as /<name>.git; requests without the token get 401. */
  constructor(
    private readonly repoDir: string,
    private readonly token: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/${this.repoDir.split('/').pop()}/.git`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const auth = req.headers.authorization;
      this.seenAuthorization.push(auth);
      if (auth !== `Basic ${Buffer.from(`x-access-token:${this.token}`).toString('base64')}`) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="classops-test"' }).end('authentication required');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const cgi = spawn('git', ['http-backend'], {
        env: {
          ...process.env,
          GIT_PROJECT_ROOT: dirname(this.repoDir),
          GIT_HTTP_EXPORT_ALL: '1',
          PATH_INFO: url.pathname,
          QUERY_STRING: url.search.slice(1),
          REQUEST_METHOD: req.method ?? 'GET',
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          REMOTE_USER: 'x-access-token',
        },
      });
      req.pipe(cgi.stdin);
      let head = Buffer.alloc(0);
      let headersDone = false;
      cgi.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        headersDone = true;
        const lines = head.subarray(0, end).toString().split('\r\n');
        let status = 200;
        for (const line of lines) {
          const [name, ...rest] = line.split(':');
          const value = rest.join(':').trim();
          if (name!.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
          else res.setHeader(name!, value);
        }
        res.writeHead(status);
        res.write(head.subarray(end + 4));
      });
      cgi.stdout.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
