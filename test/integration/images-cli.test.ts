import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { classopsAsync as classops } from '../support/cli.js';
import { OciLayout, type Descriptor } from '../support/oci-layout.js';
import { freePort } from '../support/processes.js';
import { TestRegistry } from '../support/registry.js';
import { rosterText } from '../support/rosters.js';
import { TokenServer } from '../support/token-server.js';
import { tempDir } from '../support/temp.js';

let open: TestRegistry;
let ghcrLike: TestRegistry;
let tokens: TokenServer;
let v1: Descriptor;
let deadHost: string;

beforeAll(async () => {
  const layout = new OciLayout();
  v1 = layout.image('linux/amd64');
  layout.tag('v1', v1).tag('armonly', layout.index(['linux/arm64']));
  open = await TestRegistry.start();
  open.push(layout, 'v1', 'ann/app');
  open.push(layout, 'armonly', 'bo/app');
  open.push(layout, 'v1', 'cy/app', 'v2');
  open.push(layout, 'v1', 'di/app');
  tokens = await new TokenServer(new Set(['di/app'])).start();
  ghcrLike = await TestRegistry.start({ kind: 'token', tokenServer: tokens }, open.storage);
  deadHost = `127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await Promise.all([open?.stop(), ghcrLike?.stop(), tokens?.stop()]);
});

const entry = (login: string, image: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n`;

function roster(): string {
  const dir = tempDir('classops-images-');
  writeFileSync(
    join(dir, 'week-01.yaml'),
    rosterText(
      entry('ann', `${open.host}/ann/app:v1`) +
        entry('bo', `${open.host}/bo/app:armonly`) +
        entry('cy', `${open.host}/cy/app:v1`) +
        entry('di', `${ghcrLike.host}/di/app:v1`),
    ),
  );
  return dir;
}
const env = () => ({ CLASSOPS_POLICY_ALLOWED_REGISTRIES: `${open.host},${ghcrLike.host},${deadHost}` });

describe('classops validate --check-images', () => {
  test("each verdict lands on the container_image line of its entry, in a student's words", async () => {
    const run = await classops(['validate', '--check-images', '--format', 'json', roster()], { env: env() });
    expect(run.code).toBe(1);
    const findings = JSON.parse(run.stdout).files[0].findings as Array<{
      code: string;
      line: number;
      column: number;
      message: string;
      hint: string;
    }>;
    expect(findings.map((f) => [f.line, f.code])).toEqual([
      [11, 'image-platform-missing'],
      [14, 'image-tag-not-found'],
      [17, 'image-private'],
    ]);
    expect(findings[0]).toMatchObject({
      column: 22,
      message: expect.stringContaining('is built for linux/arm64, but the cluster runs linux/amd64'),
    });
    expect(findings[1]!.message).toContain('Tags that exist: v2.');
    // Fixes show the student's own reference, ready to run.
    expect(findings[0]!.hint).toContain(
      `docker buildx build --platform linux/amd64 -t ${open.host}/bo/app:armonly --push .`,
    );
    expect(findings[1]!.hint).toBe(`Push that tag (docker push ${open.host}/cy/app:v1), or write a tag that exists.`);
    expect(findings.map((f) => f.hint).join(' ')).not.toContain('…');
    expect(findings[2]!.hint).toContain('Package settings → Change visibility → Public');
  });

  test("a registry that is down is a warning, never the student's error", async () => {
    const dir = tempDir('classops-images-down-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('ann', `${deadHost}/ann/app:v1`)));
    const run = await classops(['validate', '--check-images', dir], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('warning image-unreachable');
    expect(run.stdout).toContain(`${deadHost} refused the connection`);
  });
});

describe('classops check-image', () => {
  test('prints the verdict, digest and platforms; exit 0 when pullable', async () => {
    const run = await classops(['check-image', `${open.host}/ann/app:v1`]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `${open.host}/ann/app:v1: pullable\n  digest:     ${v1.digest}\n  media type: application/vnd.oci.image.manifest.v1+json\n  platforms:  linux/amd64\n`,
    );
  });

  test('--format json for tools; exit 1 for a private image', async () => {
    const run = await classops(['check-image', '--format', 'json', `${ghcrLike.host}/di/app:v1`]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({
      verdict: { kind: 'private' },
      studentFault: true,
      transient: false,
      reference: `${ghcrLike.host}/di/app:v1`,
    });
  });

  test("a repository that does not exist: the fix names the student's own reference", async () => {
    const run = await classops(['check-image', `${open.host}/nobody/app:v1`]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `${open.host}/nobody/app:v1: repository-not-found\n  The registry has no repository for ${open.host}/nobody/app:v1.\n  fix: Check the spelling of the owner and image name, and that you pushed the image (docker push ${open.host}/nobody/app:v1).\n`,
    );
  });

  // Bounded only by the test's time limit (8 s, eight times registry.timeout): undici's own connect limit is 10 s.
  test('a registry that takes connections and never speaks is given up on at registry.timeout, not at undici’s connect limit', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const dir = tempDir('classops-silent-');
      writeFileSync(join(dir, 'classops.yaml'), 'registry:\n  timeout: 1s\n');
      const port = (silent.address() as AddressInfo).port;
      const run = await classops(['check-image', `127.0.0.1:${port}/s1/app:v1`], { cwd: dir });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(`127.0.0.1:${port} did not answer in time`);
    } finally {
      silent.close();
    }
  }, 8_000);

  test('an invalid reference is a usage error', async () => {
    const run = await classops(['check-image', 'ghcr.io/Bad/Name']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('repository names must be lowercase');
  });
});

describe('classops render --check-images', () => {
  test("pullable images are pinned by digest; the student's faults are left out", async () => {
    const run = await classops(['render', '--check-images', '--out', '-', roster()], { env: env() });
    expect(run.code).toBe(1);
    const docs = parseAllDocuments(run.stdout);
    const deployments = (Array.isArray(docs) ? docs : []).map((d) => d.toJS()).filter((o) => o.kind === 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual(['student-ann']);
    expect(deployments[0].spec.template.spec.containers[0].image).toBe(`${open.host}/ann/app@${v1.digest}`);
    expect(deployments[0].metadata.annotations['classops.dev/image']).toBe(`${open.host}/ann/app:v1`);
    expect(run.stderr).toContain('error image-private');
  });

  test('a registry outage keeps the student, unpinned, with a warning', async () => {
    const dir = tempDir('classops-images-out-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('ann', `${deadHost}/ann/app:v1`)));
    const run = await classops(['render', '--check-images', '--out', '-', dir], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('warning image-unreachable');
    expect(run.stdout).toContain(`image: ${JSON.stringify(`${deadHost}/ann/app:v1`)}`);
  });
});
