/**
 * A token service that behaves like GHCR's for anonymous pulls: public repositories get
 * a signed pull token, private ones get 401. Tokens are real JWTs (RS256, x5c header)
 * that the real registry verifies against the certificate it is configured with.
 */
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

export const TOKEN_SERVICE = 'classops-test-registry';
export const TOKEN_ISSUER = 'classops-test-issuer';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
import { selfSignedCertificate } from './certificate.js';

export class TokenServer {
  readonly certFile: string;
  readonly requests: string[] = [];
  private readonly keyPem: string;
  private readonly certDer: string;
  private server: Server | undefined;
  port = 0;

  constructor(readonly privateRepositories: ReadonlySet<string>) {
    const { certFile, keyFile } = selfSignedCertificate('classops-token-', '/CN=classops-test-token', [], 'rsa');
    this.certFile = certFile;
    this.keyPem = readFileSync(keyFile, 'utf8');
    this.certDer = new X509Certificate(readFileSync(this.certFile)).raw.toString('base64');
  }

  get realm(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  private token(repository: string, actions: string[]): string {
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [this.certDer] };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: '',
      aud: TOKEN_SERVICE,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access: [{ type: 'repository', name: repository, actions }],
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), createPrivateKey(this.keyPem)))}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.requests.push(url.search);
      const scope = url.searchParams.get('scope') ?? '';
      const [, repository = ''] = /^repository:([^:]+):/.exec(scope) ?? [];
      res.setHeader('content-type', 'application/json');
      if (url.pathname !== '/token' || url.searchParams.get('service') !== TOKEN_SERVICE) {
        res.writeHead(400).end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'bad request' }] }));
      } else if (this.privateRepositories.has(repository)) {
        res
          .writeHead(401)
          .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      } else {
        res.writeHead(200).end(
          JSON.stringify({
            token: this.token(repository, ['pull']),
            expires_in: 300,
            issued_at: new Date().toISOString(),
          }),
        );
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
