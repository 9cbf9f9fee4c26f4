/**
 * HTTPS first, also on loopback: a local registry that speaks HTTPS (Debian's
 * docker-registry with a certificate openssl makes here) is checked over HTTPS; plain
 * HTTP is tried only for loopback or `registry.plainHttp` hosts whose HTTPS attempt
 * finds no TLS, and never for any other host.
 */
import { rmSync } from 'node:fs';
import type { Agent } from 'undici';
import { classopsAsync as classops } from '../support/cli.js';
import { OciLayout, type Descriptor } from '../support/oci-layout.js';
import { selfSignedCertificate } from '../support/certificate.js';
import { TestRegistry } from '../support/registry.js';
import { checkThrough, loopbackForEveryName } from '../support/renamed-registry.js';

let dir: string;
let layout: OciLayout;
let plain: TestRegistry;
let secure: TestRegistry;
let certFile: string;
let v1: Descriptor;

beforeAll(async () => {
  let keyFile: string;
  ({ dir, certFile, keyFile } = selfSignedCertificate('classops-tls-', '/CN=127.0.0.1', [
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]));
  layout = new OciLayout();
  v1 = layout.image('linux/amd64');
  layout.tag('v1', v1);
  plain = await TestRegistry.start();
  plain.push(layout, 'v1', 'ann/app');
  secure = await TestRegistry.start({ kind: 'open' }, plain.storage, { certFile, keyFile });
});

afterAll(async () => {
  await Promise.all([plain?.stop(), secure?.stop()]);
  for (const path of [dir, layout?.dir, plain?.storage]) if (path) rmSync(path, { recursive: true, force: true });
});

describe('a registry on loopback that speaks HTTPS', () => {
  test('is checked over HTTPS when its certificate is trusted (NODE_EXTRA_CA_CERTS)', async () => {
    const run = await classops(['check-image', `${secure.host}/ann/app:v1`], {
      env: { NODE_EXTRA_CA_CERTS: certFile },
    });
    expect(run.stdout).toBe(
      `${secure.host}/ann/app:v1: pullable\n  digest:     ${v1.digest}\n  media type: application/vnd.oci.image.manifest.v1+json\n  platforms:  linux/amd64\n`,
    );
    expect(run.code).toBe(0);
  });

  test('with an untrusted certificate, says so: no fallback to plain HTTP and its "HTTP 400"', async () => {
    const run = await classops(['check-image', `${secure.host}/ann/app:v1`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${secure.host}/ann/app:v1: unreachable`);
    expect(run.stdout).toMatch(
      new RegExp(
        `TLS with ${secure.host} failed \\((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\\)`,
      ),
    );
    expect(run.stdout).not.toContain('HTTP 400');
  });

  test('a loopback registry that speaks only plain HTTP is still checked, after HTTPS finds no TLS', async () => {
    const run = await classops(['check-image', `${plain.host}/ann/app:v1`]);
    expect(run.stdout).toContain(`${plain.host}/ann/app:v1: pullable`);
    expect(run.code).toBe(0);
  });
});

describe('any other host never goes down to plain HTTP', () => {
  // A name that is not loopback, resolved to the plain registry by the connection's own lookup.
  const name = () => `registry.classops.test:${plain.host.split(':')[1]}`;
  let dispatcher: Agent;
  beforeAll(() => {
    dispatcher = loopbackForEveryName();
  });
  afterAll(() => dispatcher.close());
  const checkAs = (plainHttp: string[]) => checkThrough(dispatcher, `${name()}/ann/app:v1`, plainHttp);

  test('a plain-HTTP registry under another name is unreachable, not spoken to in clear', async () => {
    expect(await checkAs([])).toEqual({ kind: 'unreachable', reason: `${name()} does not speak HTTPS` });
  });

  test('unless registry.plainHttp lists it', async () => {
    expect(await checkAs([name()])).toMatchObject({ kind: 'pullable', digest: v1.digest });
  });
});
