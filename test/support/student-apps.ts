/**
 * Students' apps as real HTTP servers on 127.0.0.1, each on its own port as each pod is
 * its own Service: well-behaved ones and every way a student's app goes wrong.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type Behaviour =
  | 'healthy'
  | 'slow'
  | 'hang'
  | 'status-500'
  | 'half-json'
  | 'huge'
  | 'xss-script'
  | 'xss-attribute'
  | 'redirect'
  | 'impostor'
  | 'html'
  | 'unsafe-text'
  | 'zalgo'
  | 'not-http'
  | 'short-body'
  | 'not-modified'
  | 'switch-protocols'
  | 'continue-only'
  | 'status-below-100'
  | 'status-299'
  | 'keep-alive-long';

export const HOSTILE = {
  scriptName: '<script>document.title="pwned";alert(1)</script>',
  scriptTag: '</dd><script>alert(2)</script>',
  attributeName: '"><img src=x onerror="document.title=\'pwned\';alert(3)">',
  attributeTag: "' onmouseover='alert(4)' x='",
  /** Zero-width and direction marks, a lone surrogate (as JSON escapes, which JSON.parse accepts). */
  unsafeJson: (login: string) =>
    `{"name":"A\\u200bB\\u061cC\\u2066D","github_username":"${login}\\u200b","container_tag":"\\ud800v1\\udfff"}`,
  /** A tower of 199 combining marks on one letter: unbreakable, and drawn far outside its box. */
  zalgoTag: 'H' + '\u0489'.repeat(199),
} as const;

const HUGE_BYTES = 10 * 1024 * 1024;

export class StudentApp {
  /** Requests received, and requests still open (a hanging app never answers). */
  requests = 0;
  open = 0;
  /** For the huge body: bytes the socket accepted, and whether all 10 MiB went out. */
  bytesSent = 0;
  finished = false;
  /** Connections closed, by either side. */
  closedConnections = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly login: string,
    readonly behaviour: Behaviour,
    private readonly server: Server,
    readonly redirectTo: string,
  ) {}

  static async start(login: string, behaviour: Behaviour, redirectTo = 'http://127.0.0.1:9/'): Promise<StudentApp> {
    const server = createServer();
    const app = new StudentApp(login, behaviour, server, redirectTo);
    server.on('request', (req, res) => app.answer(req, res));
    server.on('connection', (socket) => socket.on('close', () => (app.closedConnections += 1)));
    // The app's own word on idle connections, and no server-side limit to end them first.
    if (behaviour === 'keep-alive-long') server.keepAliveTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return app;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/student`;
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests += 1;
    this.open += 1;
    res.on('close', () => (this.open -= 1));
    const self = { name: `Student ${this.login}`, github_username: this.login, container_tag: 'v1' };
    switch (this.behaviour) {
      case 'healthy':
        return this.json(res, self);
      case 'slow': {
        const timer = setTimeout(() => this.json(res, self), 10_000);
        this.timers.add(timer);
        return;
      }
      case 'hang':
        return; // never answers
      case 'status-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
        return;
      case 'half-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"name": "Half", "github_username": "');
        return;
      case 'huge':
        return this.huge(res);
      case 'xss-script':
        return this.json(res, { ...self, name: HOSTILE.scriptName, container_tag: HOSTILE.scriptTag });
      case 'xss-attribute':
        return this.json(res, { ...self, name: HOSTILE.attributeName, container_tag: HOSTILE.attributeTag });
      case 'redirect':
        res.writeHead(302, { location: this.redirectTo }).end();
        return;
      case 'impostor':
        return this.json(res, { ...self, name: 'Not Me', github_username: 'someone-else' });
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><h1>Hello from Flask</h1>');
        return;
      case 'unsafe-text':
        res.writeHead(200, { 'content-type': 'application/json' }).end(HOSTILE.unsafeJson(this.login));
        return;
      case 'zalgo':
        return this.json(res, { ...self, container_tag: HOSTILE.zalgoTag });
      case 'short-body':
        // Promises 1000 bytes, sends a few, and closes: an app that died mid-answer.
        res.socket?.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":');
        return;
      case 'not-modified':
        res.writeHead(304, { location: 'javascript:alert(1)' }).end();
        return;
      case 'switch-protocols':
        res.socket?.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        return;
      case 'continue-only':
        res.socket?.write('HTTP/1.1 100 Continue\r\n\r\n'.repeat(20));
        return;
      case 'status-below-100':
        res.socket?.end('HTTP/1.1 099 Odd\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
        return;
      case 'status-299':
        res.writeHead(299, { 'content-type': 'application/json' }).end(JSON.stringify(self));
        return;
      case 'keep-alive-long':
        res.writeHead(200, {
          'content-type': 'application/json',
          connection: 'keep-alive',
          'keep-alive': 'timeout=600',
        });
        res.end(JSON.stringify(self));
        return;
      case 'not-http':
        // The JSON alone, with no status line or headers (HTTP/0.9): written on the socket itself.
        res.socket?.end(JSON.stringify(self));
        return;
    }
  }

  /** 10 MiB of JSON-looking bytes, written only as fast as the reader takes them. */
  private huge(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const pump = () => {
      while (this.bytesSent < HUGE_BYTES) {
        this.bytesSent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      this.finished = true;
      res.end();
    };
    res.socket?.on('close', () => res.removeAllListeners('drain'));
    pump();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port where nothing listens: a closed server's port (refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}
