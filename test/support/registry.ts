/**
 * Debian's docker-registry (distribution 2.8) on 127.0.0.1, in the set-ups a course meets:
 * open, htpasswd (Basic auth: anonymous pulls refused) and token auth (as GHCR). Images
 * are pushed with skopeo into an open registry; other set-ups serve the same storage.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import type { OciLayout } from './oci-layout.js';
import { freePort, requireProgram, startProcess, stopProcess, waitFor } from './processes.js';
import { TOKEN_ISSUER, TOKEN_SERVICE, type TokenServer } from './token-server.js';
import { tempDir } from './temp.js';

/** A certificate and key for serving HTTPS, e.g. made by openssl in the test. */
export interface RegistryTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Resolves true once the server completes a TLS handshake trusting only its own certificate. */
function tlsReady(port: number, certFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(certFile) }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export type RegistryAuth = { kind: 'open' } | { kind: 'htpasswd' } | { kind: 'token'; tokenServer: TokenServer };

/** bcrypt of "classops-test": only ever a test credential. */
const HTPASSWD = 'student:$2b$12$uatNhslL3IdEDOQDO0XON.xTxp4gGfht2HrHfDhPfPeHvs8WRoPlm\n';

function authSection(auth: RegistryAuth, dir: string): string {
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, HTPASSWD);
    return `auth:\n  htpasswd:\n    realm: classops-test\n    path: ${file}\n`;
  }
  if (auth.kind === 'token') {
    return `auth:\n  token:\n    realm: ${auth.tokenServer.realm}\n    service: ${TOKEN_SERVICE}\n    issuer: ${TOKEN_ISSUER}\n    rootcertbundle: ${auth.tokenServer.certFile}\n`;
  }
  return '';
}

export class TestRegistry {
  private constructor(
    readonly host: string,
    readonly storage: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(
    auth: RegistryAuth = { kind: 'open' },
    storage = tempDir('classops-registry-data-'),
    tls?: RegistryTls,
  ): Promise<TestRegistry> {
    const binary = requireProgram('docker-registry', 'docker-registry');
    const dir = tempDir('classops-registry-');
    const port = await freePort();
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: classops-test-secret\n${tls ? `  tls:\n    certificate: ${tls.certFile}\n    key: ${tls.keyFile}\n` : ''}${authSection(auth, dir)}`,
    );
    const { child, output } = startProcess(binary, ['serve', config]);
    const host = `127.0.0.1:${port}`;
    await waitFor(
      async () => (tls ? tlsReady(port, tls.certFile) : (await fetch(`http://${host}/v2/`)).status > 0),
      15_000,
      `docker-registry (${auth.kind})`,
      output,
    );
    return new TestRegistry(host, storage, child, dir);
  }

  /** Pushes a layout's tag with skopeo (every platform of an index). */
  push(layout: OciLayout, tag: string, repository: string, remoteTag = tag): string {
    requireProgram('skopeo', 'skopeo');
    const target = `${this.host}/${repository}:${remoteTag}`;
    execFileSync(
      'skopeo',
      [
        '--insecure-policy',
        'copy',
        '--all',
        '--quiet',
        '--dest-tls-verify=false',
        `oci:${layout.dir}:${tag}`,
        `docker://${target}`,
      ],
      { stdio: 'pipe' },
    );
    return target;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
