/**
 * The controller's promises (README "The controller"), through public behaviour only:
 * real git, the fake API server, `classops run --once` and a running `classops run`.
 * Each test fails when its promise is broken, and each promise is tested on its own
 * (keeping a broken file's students and protecting its objects hide each other otherwise).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { course, entry, NS, runOnce } from '../support/course.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { GitRepo } from '../support/git.js';
import { waitFor } from '../support/processes.js';
import { rosterText } from '../support/rosters.js';
import { RunningClassops } from '../support/running.js';
import { tempDir } from '../support/temp.js';

let api: FakeApiServer;
const running: RunningClassops[] = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  await api.stop();
});

const names = (kind: string) =>
  api
    .list(kind)
    .map((o) => o.metadata.name as string)
    .sort();
const BROKEN = rosterText(entry('ann') + entry('bo')) + '  - name: broken\n    github_username "x"\n';
/** Sets the `classops.dev/entry` annotation of a live Deployment, as a hand edit would. */
function editRecord(namespace: string, name: string, entryText: string): void {
  const live = api.get('apps/v1', 'Deployment', namespace, name)!;
  api.put({
    ...live,
    metadata: { ...live.metadata, annotations: { ...live.metadata.annotations, 'classops.dev/entry': entryText } },
  });
}

describe('the prune guard', () => {
  test.each([
    ['the default maxPruneFraction (0.5)', ''],
    ['a maxPruneFraction that allows less than one student (0.3 of 2)', 'cluster:\n  maxPruneFraction: 0.3\n'],
  ])('removing one of two students is always allowed, with %s', async (_, extra) => {
    const c = course(api, entry('ann') + entry('bo'));
    // The course config has its own cluster section: merge the fraction into it.
    if (extra !== '') writeFileSync(c.config, readFileSync(c.config, 'utf8').replace('cluster:\n', extra));
    expect((await runOnce(c, '--no-image-checks')).code).toBe(0);
    c.commit(entry('ann'));
    const run = await runOnce(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^success at revision [0-9a-f]{40}: 0 created, 0 updated, 4 pruned, \d+ unchanged\n$/);
    expect(names('Deployment')).toEqual(['student-ann']);
    expect(names('Service')).toEqual(['student-ann']);
    expect(api.list('Event', NS).some((e) => e.reason === 'PruneRefused')).toBe(false);
  });
});

describe('prune order', () => {
  test('prune deletes in the reverse of apply order: the route first, the Service (what routes point to) last', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    const kinds = (requests: string[]) => requests.map((r) => /\/(deployments|services|ingresses)\//.exec(r)?.[1]);
    const applied = kinds(api.writes().filter((w) => w.includes('student-bo')));
    // The week's route and the plain path's (bo's newest week).
    expect(applied).toEqual(['services', 'deployments', 'ingresses', 'ingresses']);
    const before = api.requests.length;
    c.commit(entry('ann'));
    expect((await runOnce(c, '--no-image-checks')).code).toBe(0);
    const deletes = api.requests.slice(before).filter((r) => r.startsWith('DELETE '));
    expect(deletes).toEqual([
      expect.stringMatching(
        new RegExp(`^DELETE /apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/student-bo(--latest)?$`),
      ),
      expect.stringMatching(
        new RegExp(`^DELETE /apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/student-bo(--latest)?$`),
      ),
      `DELETE /apis/apps/v1/namespaces/${NS}/deployments/student-bo`,
      `DELETE /api/v1/namespaces/${NS}/services/student-bo`,
    ]);
    expect(kinds(deletes)).toEqual([...applied].reverse());
  });
});

describe('a roster file that does not parse', () => {
  test("keeps its students: a kept student's hand-edited Deployment is still put back", async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    const live = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    api.put({ ...live, spec: { ...live.spec, replicas: 5 } });
    c.commitText(BROKEN);
    const run = await runOnce(c, '--no-image-checks');
    expect(run.code).toBe(1); // the file is held back at its last-known-good
    expect(run.stderr).toContain('the last-known-good stays deployed');
    expect(run.stdout).toMatch(/: 0 created, 1 updated, 0 pruned, \d+ unchanged\n$/);
    expect(api.get('apps/v1', 'Deployment', NS, 'student-bo')!.spec.replicas).toBe(1);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo']);
  });

  test('protects its objects from pruning, even those whose last-known-good cannot be read back', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    // bo's entry annotation was edited by hand: classops cannot keep bo as last-known-good,
    // so only the protection of the broken file's objects keeps bo running.
    editRecord(NS, 'student-bo', 'edited by hand');
    c.commitText(BROKEN);
    const run = await runOnce(c, '--no-image-checks');
    expect(run.code).toBe(1); // the file is held back at its last-known-good
    expect(run.stdout).toMatch(/ 0 pruned, /);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo']);
    expect(names('Service')).toEqual(['student-ann', 'student-bo']);
    expect(names('Ingress')).toEqual(['student-ann', 'student-ann--latest', 'student-bo', 'student-bo--latest']);
    expect(api.writes().filter((w) => w.startsWith('DELETE '))).toEqual([]);
  });
});

describe('last-known-good read back after a restart', () => {
  test('is checked against what the Deployment runs: a hand-edited entry annotation is never deployed', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    // Someone with write access to the namespace (not a student's pull request) edits bo's
    // recorded entry; a broken roster then makes the next process fall back to it.
    const live = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    const recorded = JSON.parse(live.metadata.annotations!['classops.dev/entry']) as Record<string, unknown>;
    editRecord(NS, 'student-bo', JSON.stringify({ ...recorded, containerImage: 'docker.io/evil/miner:v1' }));
    c.commitText(BROKEN);
    const run = await runOnce(c, '--no-image-checks');
    expect(run.code).toBe(1);
    const images = api.list('Deployment').map((d) => JSON.stringify(d.spec.template.spec.containers));
    expect(images.join()).not.toContain('evil');
    expect(run.stderr).toContain(`Deployment ${NS}/student-bo`);
    expect(run.stderr).toContain('its classops.dev/entry no longer matches its classops.dev/entry-hash');
    // bo is neither pruned nor redeployed from the edit; ann is kept as before.
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo']);
    expect(api.writes().filter((w) => w.includes('student-bo') && !w.includes('/events'))).toHaveLength(4);
  });
  test('a record that cannot be read back, and an entry that now has errors: what runs is left as it is, not pruned', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    editRecord(NS, 'student-bo', 'edited by hand');
    const before = api.writes().length;
    c.commit(entry('ann') + entry('bo', 'ghcr.io/bo/app:v1', '    port: 99999\n'));
    const run = await runOnce(c, '--no-image-checks');
    expect(run.stderr).toContain('not trusting the entry recorded on');
    expect(run.stderr).toContain('while it has errors, what runs of theirs is left as it is');
    expect(run.stderr).toMatch(/: bo: the entry has errors; what runs of theirs is left as it is \(/);
    expect(run.stdout).toMatch(/ 0 pruned, /);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo']);
    expect(names('Service')).toEqual(['student-ann', 'student-bo']);
    // bo has no other week: the plain path stays where it was.
    expect(names('Ingress')).toEqual(['student-ann', 'student-ann--latest', 'student-bo', 'student-bo--latest']);
    expect(
      api
        .writes()
        .slice(before)
        .filter((w) => w.includes('student-bo') && !w.includes('/events')),
    ).toEqual([]);
    // Fixed, bo is deployed from the entry again.
    c.commit(entry('ann') + entry('bo', 'ghcr.io/bo/app:v2'));
    expect((await runOnce(c, '--no-image-checks')).code).toBe(0);
    const fixed = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    expect((fixed.spec.template.spec.containers as Array<{ image: string }>)[0]!.image).toBe('ghcr.io/bo/app:v2');
  });

  test('left as it is in one week, a student whose other week deploys: the plain path moves there', async () => {
    const WEEK2 = 'container-course-week02';
    const c = course(api, entry('bo'));
    c.repo.write('students/week-02.yaml', rosterText(entry('bo'), 2)).commit('week 2');
    await runOnce(c, '--no-image-checks');
    const ingresses = (namespace: string) =>
      api
        .list('Ingress', namespace)
        .map((o) => o.metadata.name as string)
        .sort();
    expect(ingresses(WEEK2)).toEqual(['student-bo', 'student-bo--latest']);
    editRecord(WEEK2, 'student-bo', '{}');
    c.repo.write('students/week-02.yaml', rosterText(entry('bo', 'ghcr.io/bo/app:v1', '    port: 0\n'), 2));
    c.repo.commit('week 2 broken');
    const run = await runOnce(c, '--no-image-checks');
    expect(run.stdout).toMatch(/ 1 pruned, /);
    // One route per path: week 1 takes the plain path; week 2's Deployment, Service and week route stay.
    expect(ingresses(NS)).toEqual(['student-bo', 'student-bo--latest']);
    expect(ingresses(WEEK2)).toEqual(['student-bo']);
    expect(api.get('apps/v1', 'Deployment', WEEK2, 'student-bo')).toBeDefined();
    expect(api.get('v1', 'Service', WEEK2, 'student-bo')).toBeDefined();
  });

  test('left as it is, with the routes now HTTPRoutes: the old plain-path Ingress still makes way', async () => {
    const WEEK2 = 'container-course-week02';
    const c = course(api, entry('bo'));
    c.repo.write('students/week-02.yaml', rosterText(entry('bo'), 2)).commit('week 2');
    await runOnce(c, '--no-image-checks');
    editRecord(WEEK2, 'student-bo', 'x');
    c.repo.write('students/week-02.yaml', rosterText(entry('bo', 'ghcr.io/bo/app:v1', '    port: 0\n'), 2));
    c.repo.commit('week 2 broken');
    writeFileSync(c.config, readFileSync(c.config, 'utf8') + 'render:\n  routing:\n    mode: httproute\n');
    expect((await runOnce(c, '--no-image-checks')).stdout).toMatch(/ \d+ pruned, /);
    const plainPath = [...api.list('Ingress'), ...api.list('HTTPRoute')]
      .filter((o) => o.metadata.name === 'student-bo--latest')
      .map((o) => `${o.kind} ${o.metadata.namespace as string}`);
    expect(plainPath).toEqual([`HTTPRoute ${NS}`]);
    expect(api.list('Ingress', WEEK2).map((o) => o.metadata.name as string)).toEqual(['student-bo']);
  });
});

describe('removals held by an entry that could be anyone’s', () => {
  test('keep every student of the week, those whose record cannot be read back too', async () => {
    const c = course(api, entry('ann') + entry('bo') + entry('cy'));
    await runOnce(c, '--no-image-checks');
    editRecord(NS, 'student-cy', 'x');
    // cy's entry is gone, and an entry without a login is left last: nobody leaves week 1 until it is fixed.
    c.commit(entry('ann') + entry('bo') + '  - name: "half"\n');
    const run = await runOnce(c, '--no-image-checks');
    expect(run.stderr).toContain(`so nobody leaves ${NS} until it is fixed or removed; kept for now: cy.`);
    expect(run.stdout).toMatch(/ 0 pruned, /);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo', 'student-cy']);
    expect(names('Ingress')).toContain('student-cy--latest');
  });
});

describe('a namespaceTemplate changed under a running course', () => {
  test('the course moves to the new namespaces; what stays in the old ones is named, never touched', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    expect((await runOnce(c, '--no-image-checks')).code).toBe(0);
    writeFileSync(c.config, `${readFileSync(c.config, 'utf8')}render:\n  namespaceTemplate: "{course}-w{week}"\n`);
    const before = api.writes().filter((w) => w.includes(`/namespaces/${NS}/`)).length;
    const dry = await runOnce(c, '--no-image-checks', '--dry-run');
    expect(dry.stdout).toContain(
      `  ! 14 object(s) of course container-course are in namespaces it no longer has (${NS})`,
    );
    const run = await runOnce(c, '--no-image-checks');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      `14 object(s) of course container-course are in namespaces it no longer has (${NS}), left by an earlier namespaceTemplate`,
    );
    expect(names('Deployment')).toEqual(['student-ann', 'student-ann', 'student-bo', 'student-bo']);
    expect(api.get('apps/v1', 'Deployment', 'container-course-w1', 'student-ann')).toBeDefined();
    expect(api.writes().filter((w) => w.includes(`/namespaces/${NS}/`)).length).toBe(before);
  });
});

describe('an image changed by hand while classops was down', () => {
  test('is drift: a student whose entry has errors is kept and put back, not pruned', async () => {
    const c = course(api, entry('ann') + entry('bo'));
    await runOnce(c, '--no-image-checks');
    const live = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    const [container] = live.spec.template.spec.containers as Array<Record<string, unknown>>;
    const template = live.spec.template as { spec: Record<string, unknown> };
    api.put({
      ...live,
      spec: {
        ...live.spec,
        template: { ...template, spec: { ...template.spec, containers: [{ ...container, image: 'busybox:debug' }] } },
      },
    });
    c.commit(entry('ann') + entry('bo', 'ghcr.io/bo/app:v1', '    port: 99999\n'));
    const run = await runOnce(c, '--no-image-checks');
    expect(run.stderr).toMatch(/: bo: the entry has errors; keeping the last-known-good version/);
    expect(names('Deployment')).toEqual(['student-ann', 'student-bo']);
    const healed = api.get('apps/v1', 'Deployment', NS, 'student-bo')!;
    expect((healed.spec.template.spec.containers as Array<{ image: string }>)[0]!.image).toBe('ghcr.io/bo/app:v1');
  });
});

describe('self-heal through the watch, with git polling slower than the test', () => {
  test('a hand edit is put back, again after the watch drops, and a deleted object comes back', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const config = join(tempDir('classops-watch-'), 'classops.yaml');
    writeFileSync(
      config,
      `source:\n  kind: git\n  url: ${repo.dir}\n  pollInterval: 1h\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  resyncInterval: 1h\n  leaderElection:\n    enabled: false\nserver:\n  port: 0\n  host: 127.0.0.1\n`,
    );
    const op = await RunningClassops.start(['--config', config, '--no-image-checks'], { cwd: join(config, '..') });
    running.push(op);
    const replicas = () => api.get('apps/v1', 'Deployment', NS, 'student-ann')?.spec.replicas as number | undefined;
    const deploymentWatches = () =>
      api.requests.filter((r) => r.startsWith('GET /apis/apps/v1/deployments?') && r.includes('watch=true')).length;
    await waitFor(
      async () => replicas() === 1 && deploymentWatches() === 1,
      30_000,
      'first reconcile',
      () => op.output,
    );

    const live = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put({ ...live, spec: { ...live.spec, replicas: 4 } });
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'self-heal through the watch',
      () => op.output,
    );

    api.dropWatches();
    await waitFor(
      async () => deploymentWatches() === 2,
      30_000,
      'the watch to restart',
      () => op.output,
    );
    const again = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put({ ...again, spec: { ...again.spec, replicas: 7 } });
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'self-heal after a dropped watch',
      () => op.output,
    );

    api.remove('apps/v1', 'Deployment', NS, 'student-ann'); // deleted by hand: put back too
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'the deleted Deployment to come back',
      () => op.output,
    );
  }, 120_000);
});
