import { join } from 'node:path';
import { classopsAsync } from '../support/cli.js';
import { course as makeCourse, entry, NS, runOnce } from '../support/course.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { OciLayout, type Descriptor } from '../support/oci-layout.js';
import { TestRegistry } from '../support/registry.js';
import { rosterText } from '../support/rosters.js';

const course = (students: string, extraConfig = '') => makeCourse(api, students, extraConfig);
const once = runOnce;

let api: FakeApiServer;
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await api.stop();
});

const deployments = () =>
  api
    .list('Deployment')
    .map((d) => d.metadata.name)
    .sort();
const imageOf = (name: string) =>
  api.get('apps/v1', 'Deployment', NS, name)?.spec.template.spec.containers[0].image as string;

describe('classops run keeps the cluster equal to the roster', () => {
  test('adds students; a second pass writes nothing', async () => {
    const c = course(entry('ann') + entry('bo') + entry('cy'));
    const first = await once(c, '--no-image-checks');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^success at revision [0-9a-f]{40}: 18 created, 0 updated, 0 pruned, 0 unchanged\n$/);
    expect(deployments()).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(api.list('Ingress').length).toBe(6); // each student's week path and plain path
    const writes = api.writes().length;
    const second = await once(c, '--no-image-checks');
    expect(second.stdout).toContain('0 created, 0 updated, 0 pruned, 18 unchanged');
    expect(api.writes().length).toBe(writes);
  });

  test("changing one image writes only that student's Deployment", async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    const before = api.writes().length;
    c.commit(entry('ann', 'ghcr.io/ann/app:v2') + entry('bo'));
    const run = await once(c, '--no-image-checks');
    expect(run.stdout).toContain('0 created, 1 updated, 0 pruned');
    expect(api.writes().slice(before)).toEqual([
      expect.stringMatching(/^PATCH \/apis\/apps\/v1\/namespaces\/container-course-week01\/deployments\/student-ann\?/),
    ]);
    expect(imageOf('student-ann')).toBe('ghcr.io/ann/app:v2');
  });

  test('--dry-run shows what would change and writes nothing', async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    c.commit(entry('ann', 'ghcr.io/ann/app:v2') + entry('cy') + entry('dee', 'ghcr.io/someone/app:v1'));
    const before = api.writes().length;
    const run = await classopsAsync(['run', '--dry-run', '--no-image-checks', '--config', c.config], {
      cwd: join(c.config, '..'),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  + create Deployment container-course-week01/student-cy');
    expect(run.stdout).toContain('  ~ update Deployment container-course-week01/student-ann');
    expect(run.stdout).toContain('  - prune  Deployment container-course-week01/student-bo');
    expect(run.stdout).toMatch(/\n {2}! \S*week-01\.yaml:\d+:\d+: dee: the entry has errors, so it is not deployed \(/);
    expect(run.stdout).toContain('4 to create, 1 to update, 4 to prune, 9 unchanged');
    expect(api.writes().length).toBe(before);
  });

  test('a week over its quota still deploys everyone, and the pass and --dry-run tell the instructor', async () => {
    const c = course(entry('ann') + entry('bo'), 'render:\n  quota:\n    pods: "2"\n');
    const warning =
      'container-course-week01: its 2 students need pods 3 (a pod per student, one more for a rollout), but render.quota.pods is 2:';
    const dry = await classopsAsync(['run', '--dry-run', '--no-image-checks', '--config', c.config], {
      cwd: join(c.config, '..'),
    });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`\n  ! ${warning} the API server refuses what goes past it`);
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(deployments()).toEqual(['student-ann', 'student-bo']);
    expect(run.stderr).toContain(warning);
  });

  test('--dry-run names a roster file the pass would hold back, and exits 1 as the pass would', async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    c.commitText(rosterText(entry('ann') + entry('bo')) + '  - name: [\n');
    const before = api.writes().length;
    const run = await classopsAsync(['run', '--dry-run', '--no-image-checks', '--config', c.config], {
      cwd: join(c.config, '..'),
    });
    expect(run.stdout).toMatch(
      /\n {2}! held back: students\/week-01\.yaml:\d+:\d+: .+ Nothing in this week was changed; the last-known-good stays deployed\.\n/,
    );
    expect(run.stdout).toContain(', 1 file(s) held back');
    expect(run.code).toBe(1);
    expect(api.writes().length).toBe(before);
  });

  test('removing a student prunes their objects, and only theirs', async () => {
    const c = course(entry('ann') + entry('bo') + entry('cy'));
    await once(c, '--no-image-checks');
    c.commit(entry('ann') + entry('cy'));
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('4 pruned');
    expect(deployments()).toEqual(['student-ann', 'student-cy']);
    expect(
      api
        .list('Service')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(['student-ann', 'student-cy']);
  });

  test('broken YAML changes nothing and says why', async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    const before = api.writes().length;
    c.commitText(rosterText(entry('ann') + '    - name: "Bo"\n      github_username: "bo"\n'));
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(1); // something is held back: the operator must know
    expect(run.stdout).toMatch(/^held back at revision [0-9a-f]{40}: 0 created, 0 updated, 0 pruned, \d+ unchanged\n$/);
    expect(run.stderr).toContain(
      'students/week-01.yaml:9:5: This entry is indented 4 spaces; the entries above (line 6) use 2. Nothing in this week was changed; the last-known-good stays deployed.',
    );
    expect(api.writes().length).toBe(before);
    expect(deployments()).toEqual(['student-ann', 'student-bo']);
  });

  test('a roster emptied to comments is refused by the guard; --allow-mass-prune goes ahead but keeps the namespace', async () => {
    const c = course(entry('ann') + entry('bo') + entry('cy'));
    await once(c, '--no-image-checks');
    c.commitText(rosterText('  # everyone left?\n'));
    const refused = await once(c, '--no-image-checks');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('refused at revision');
    expect(refused.stdout).toContain(
      'Pruning would remove 3 of 3 students in container-course-week01, more than the guard allows (1, cluster.maxPruneFraction 0.5). Nothing was deleted',
    );
    expect(deployments()).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(api.list('Event', NS).some((e) => e.reason === 'PruneRefused' && e.type === 'Warning')).toBe(true);
    const allowed = await once(c, '--no-image-checks', '--allow-mass-prune');
    expect(allowed.code).toBe(0);
    expect(deployments()).toEqual([]);
    expect(api.get('v1', 'Namespace', undefined, NS)).toBeDefined();
  });

  test('one invalid entry never blocks the others; a running student with a broken entry keeps the last-known-good', async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    c.commit(
      entry('ann', 'ghcr.io/ann/app:v2', '    port: 99999\n') +
        entry('bo') +
        entry('cy') +
        entry('dee', 'ghcr.io/someone/app:v1'),
    );
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(deployments()).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(imageOf('student-ann')).toBe('ghcr.io/ann/app:v1');
    // The run says who is not running what the roster says, where, and why.
    const told = run.stderr.split('\n').filter((l) => !l.startsWith('{'));
    expect(told).toEqual([
      expect.stringMatching(
        /week-01\.yaml:\d+:\d+: ann: the entry has errors; keeping the last-known-good version \(Port 99999 is outside 1-65535\.\)$/,
      ),
      expect.stringMatching(
        /week-01\.yaml:\d+:\d+: dee: the entry has errors, so it is not deployed \(The image belongs to "someone"/,
      ),
      '',
    ]);
  });

  test('someone edits a managed Deployment: the next pass puts it back, writing only that object', async () => {
    const c = course(entry('ann') + entry('bo'));
    await once(c, '--no-image-checks');
    const live = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    api.put({
      ...live,
      spec: {
        ...live.spec,
        replicas: 5,
        template: { ...live.spec.template, spec: { ...live.spec.template.spec, automountServiceAccountToken: true } },
      },
    });
    const before = api.writes().length;
    const run = await once(c, '--no-image-checks');
    expect(run.stdout).toContain('1 updated');
    const healed = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    expect(healed.spec.replicas).toBe(1);
    expect(healed.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(api.writes().length - before).toBe(1);
  });

  test('API errors 409, 429 and 500 are retried', async () => {
    const c = course(entry('ann'));
    api.inject({ method: 'GET', path: '/deployments', status: 500, times: 1 });
    api.inject({ method: 'PATCH', path: '/deployments/', status: 409, times: 1 });
    api.inject({ method: 'PATCH', path: '/services/', status: 429, times: 2, retryAfter: 1 });
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('success');
    expect(deployments()).toEqual(['student-ann']);
    expect(api.list('Service').length).toBe(1);
    // Every injected fault was really served, so the retries above were exercised (kinds go out in parallel).
    expect([...api.servedFaults].sort()).toEqual([
      'GET /apis/apps/v1/deployments 500',
      `PATCH /api/v1/namespaces/${NS}/services/student-ann 429`,
      `PATCH /api/v1/namespaces/${NS}/services/student-ann 429`,
      `PATCH /apis/apps/v1/namespaces/${NS}/deployments/student-ann 409`,
    ]);
  });

  test('an API server that keeps failing: exit 1, a clear error, and nothing half-done', async () => {
    const c = course(entry('ann'));
    api.inject({ method: 'GET', path: '/namespaces', status: 503, times: 100 });
    const run = await once(c, '--no-image-checks');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('reconcile failed, nothing was changed: list Namespace: HTTP 503: injected fault 503');
    expect(api.writes()).toEqual([]);
    expect(api.servedFaults.length).toBeGreaterThan(1); // served, and retried
    expect(new Set(api.servedFaults)).toEqual(new Set(['GET /api/v1/namespaces 503']));
  }, 60_000);
});

describe('image checks in the loop (real registry)', () => {
  let registry: TestRegistry;
  let v1: Descriptor;
  let v2: Descriptor;
  beforeAll(async () => {
    const layout = new OciLayout();
    v1 = layout.image('linux/amd64', 'one');
    v2 = layout.image('linux/amd64', 'two');
    layout.tag('v1', v1).tag('v2', v2);
    registry = await TestRegistry.start();
    for (const who of ['ann', 'bo', 'cy']) {
      registry.push(layout, 'v1', `${who}/app`);
      registry.push(layout, 'v2', `${who}/app`);
    }
  });
  afterAll(async () => {
    await registry?.stop();
  });

  test('images are pinned by digest; during a registry outage nothing is removed and changes keep the last-known-good', async () => {
    const host = registry.host;
    const c = course(
      entry('ann', `${host}/ann/app:v1`) + entry('bo', `${host}/bo/app:v1`),
      `policy:\n  allowedRegistries: [${host}]\nregistry:\n  timeout: 2s\n`,
    );
    expect((await once(c)).code).toBe(0);
    expect(imageOf('student-ann')).toBe(`${host}/ann/app@${v1.digest}`);

    await registry.stop();
    c.commit(entry('ann', `${host}/ann/app:v2`) + entry('bo', `${host}/bo/app:v1`) + entry('cy', `${host}/cy/app:v1`));
    const outage = await once(c);
    expect(outage.code).toBe(0);
    expect(outage.stderr).toMatch(
      /week-01\.yaml:\d+:\d+: ann: the registry could not confirm the new image \(unreachable\); keeping the last-known-good version\n/,
    );
    expect(outage.stderr).not.toMatch(/: (bo|cy): /);
    expect(deployments()).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(imageOf('student-ann')).toBe(`${host}/ann/app@${v1.digest}`); // kept: the new tag could not be checked
    expect(imageOf('student-bo')).toBe(`${host}/bo/app@${v1.digest}`);
    expect(imageOf('student-cy')).toBe(`${host}/cy/app:v1`); // new, never blocked: deployed as written
  }, 60_000);
});
