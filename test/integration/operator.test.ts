import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classopsAsync, ROOT } from '../support/cli.js';
import { FakeApiServer, rolledOut } from '../support/fake-apiserver.js';
import { GitRepo } from '../support/git.js';
import { requireProgram, waitFor } from '../support/processes.js';
import { rosterText } from '../support/rosters.js';
import { RunningClassops } from '../support/running.js';
import { tempDir } from '../support/temp.js';
import { deliver, pushPayload } from '../support/webhook-deliveries.js';

const NS = 'container-course-week01';
const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;

let api: FakeApiServer;
const running: RunningClassops[] = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  await api.stop();
});

function configFor(repo: GitRepo, leaderElection: boolean): string {
  const dir = tempDir('classops-op-');
  const file = join(dir, 'classops.yaml');
  writeFileSync(
    file,
    `source:\n  kind: git\n  url: ${repo.dir}\n  pollInterval: 500ms\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  resyncInterval: 1h\n  leaderElection:\n    enabled: ${leaderElection}\n    leaseDuration: 8s\n    renewInterval: 1s\nserver:\n  port: 0\n  host: 127.0.0.1\n`,
  );
  return file;
}

async function start(config: string, env: NodeJS.ProcessEnv = {}): Promise<RunningClassops> {
  const r = await RunningClassops.start(['--config', config, '--no-image-checks'], { cwd: join(config, '..'), env });
  running.push(r);
  return r;
}

const replicas = () => api.get('apps/v1', 'Deployment', NS, 'student-ann')?.spec.replicas as number | undefined;

describe('classops run as an operator', () => {
  test('follows commits, heals hand edits through its watch (even after the watch drops), and reports status and metrics', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const op = await start(configFor(repo, false));
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'first reconcile',
      () => op.output,
    );

    repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('bo');
    await waitFor(
      async () => api.get('apps/v1', 'Deployment', NS, 'student-bo') !== undefined,
      30_000,
      'the commit to be applied',
      () => op.output,
    );

    const live = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put({ ...live, spec: { ...live.spec, replicas: 4 } });
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'self-heal',
      () => op.output,
    );

    api.dropWatches();
    await new Promise((r) => setTimeout(r, 1500)); // the watch restarts with backoff
    const again = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put({ ...again, spec: { ...again.spec, replicas: 7 } });
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'self-heal after a dropped watch',
      () => op.output,
    );

    expect((await op.get('/healthz')).status).toBe(200);
    expect((await op.get('/readyz')).status).toBe(200);
    const status = JSON.parse((await op.get('/api/status')).text);
    expect(status.reconcile).toMatchObject({ result: 'success', revision: repo.git('rev-parse', 'HEAD') });
    expect(
      status.students.map((s: { githubUsername: string; deployment: string; service: string }) => [
        s.githubUsername,
        s.deployment,
        s.service,
      ]),
    ).toEqual([
      ['ann', 'deployed', 'student-ann'],
      ['bo', 'deployed', 'student-bo'],
    ]);

    const metrics = (await op.get('/metrics')).text;
    expect(metrics).toMatch(/^classops_reconciles_total\{result="success"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^classops_apply_operations_total\{kind="Deployment",action="created"\} 2$/m);
    expect(metrics).toMatch(/^classops_roster_entries\{week="1",validity="valid"\} 2$/m);
    expect(metrics).toMatch(/^classops_students\{week="01",deployment="deployed"\} 2$/m);
    const promtool = requireProgram('promtool', 'prometheus');
    const scrape = join(tempDir('classops-scrape-'), 'metrics.txt');
    writeFileSync(scrape, metrics);
    // promtool exits non-zero on any problem, and prints lint findings.
    expect(
      execFileSync('sh', ['-c', `${promtool} check metrics < ${scrape} 2>&1; echo "exit $?"`], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('exit 0');

    expect(await op.stop('SIGTERM')).toBe(0);
  }, 90_000);

  test('a roster cut short: the students it could hold stay, and /metrics and /api/status say why', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('two');
    const op = await start(configFor(repo, false));
    await waitFor(
      async () => api.list('Deployment').length === 2,
      30_000,
      'first reconcile',
      () => op.output,
    );
    repo.write('students/week-01.yaml', rosterText(entry('ann') + '  - n\n')).commit('cut short');
    const held = /^classops_removals_held\{file="students\/week-01.yaml"\} 1$/m;
    await waitFor(
      async () => held.test((await op.get('/metrics')).text),
      30_000,
      'the cut roster to be reconciled',
      () => op.output,
    );
    expect(api.list('Deployment').map((d) => d.metadata.name)).toEqual(['student-ann', 'student-bo']);
    const status = JSON.parse((await op.get('/api/status')).text);
    expect(status.students.find((s: { githubUsername: string }) => s.githubUsername === 'bo')).toMatchObject({
      deployment: 'kept',
      reason: expect.stringContaining(
        "an entry with errors on line 9 of students/week-01.yaml could be what is left of this student's",
      ),
    });
    expect(op.output).toContain('removals held back');

    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('bo leaves');
    await waitFor(
      async () => /^classops_removals_held\{file="students\/week-01.yaml"\} 0$/m.test((await op.get('/metrics')).text),
      30_000,
      'the fixed roster to be reconciled',
      () => op.output,
    );
    expect(api.list('Deployment').map((d) => d.metadata.name)).toEqual(['student-ann']);
  }, 90_000);

  test('what the prune guard withheld is never taken for a last-known-good', async () => {
    const port = (login: string, value = 8080) => `${entry(login)}    port: ${value}\n`;
    const others = port('cy') + port('dee') + port('eve');
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(port('ann') + port('bo') + others)).commit('five');
    const op = await start(configFor(repo, false));
    const reconciled = (revision: string) =>
      waitFor(
        async () => JSON.parse((await op.get('/api/status')).text).reconcile?.revision === revision,
        30_000,
        `revision ${revision} to be reconciled`,
        () => op.output,
      );
    await reconciled(repo.git('rev-parse', 'HEAD'));
    const portOf = (login: string) =>
      api.get('apps/v1', 'Deployment', NS, `student-${login}`)!.spec.template.spec.containers[0].ports[0].containerPort;
    // Cut after Bo's image: the guard refuses three removals, and Bo's lost port waits with them.
    await reconciled(repo.write('students/week-01.yaml', rosterText(port('ann') + entry('bo'))).commit('cut'));
    expect(portOf('bo')).toBe(8080);
    // Restored, but Bo's entry now has an error: he keeps what last ran, which the cut never changed.
    await reconciled(
      repo.write('students/week-01.yaml', rosterText(port('ann') + port('bo', 0) + others)).commit('bo breaks'),
    );
    expect(portOf('bo')).toBe(8080);
    expect(api.list('Deployment')).toHaveLength(5);
  }, 90_000);

  test('student health comes from the Deployment and its pods', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo') + entry('cy'))).commit('three');
    const op = await start(configFor(repo, false));
    await waitFor(
      async () => api.list('Deployment').length === 3,
      30_000,
      'first reconcile',
      () => op.output,
    );
    const labels = (who: string) => ({ 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': who });
    const ann = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
    api.put(rolledOut(ann));
    api.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'student-bo-1', namespace: NS, labels: labels('bo') },
      status: {
        phase: 'Pending',
        containerStatuses: [
          { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
        ],
      },
    });
    api.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'student-cy-1', namespace: NS, labels: labels('cy') },
      status: {
        phase: 'Running',
        containerStatuses: [{ name: 'app', ready: false, restartCount: 4, state: { running: {} } }],
      },
    });
    repo
      .write('students/week-01.yaml', rosterText(entry('ann') + entry('bo') + entry('cy') + entry('dee')))
      .commit('dee');
    await waitFor(
      async () => JSON.parse((await op.get('/api/status')).text).students.length === 4,
      30_000,
      'status',
      () => op.output,
    );
    const students = JSON.parse((await op.get('/api/status')).text).students as Array<{
      githubUsername: string;
      health: { phase: string; reason?: string };
    }>;
    expect(Object.fromEntries(students.map((s) => [s.githubUsername, s.health]))).toEqual({
      ann: { phase: 'Ready' },
      bo: { phase: 'Failing', reason: 'ImagePullBackOff' },
      cy: { phase: 'Failing', reason: 'probe failures: the app restarts' },
      dee: { phase: 'Pending', reason: 'waiting for a pod' },
    });
    const metrics = (await op.get('/metrics')).text;
    expect(metrics).toMatch(/^classops_student_ready\{week="01",student="bo",reason="ImagePullBackOff"\} 0$/m);
    expect(metrics).toMatch(/^classops_students_ready\{week="01"\} 1$/m);
  }, 90_000);

  test('run --once does not write beside a controller that leads the course; with the Lease lapsed, it runs', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const config = configFor(repo, true);
    const op = await start(config, { POD_NAME: 'classops-a' });
    const holder = () => api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops')?.spec.holderIdentity;
    await waitFor(
      async () => holder() === 'classops-a',
      20_000,
      'a to lead',
      () => op.output,
    );
    const once = () =>
      classopsAsync(['run', '--once', '--no-image-checks', '--config', config], { cwd: join(config, '..') });
    const refused = await once();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'classops run: not running once: classops-a leads this course (Lease default/classops) and reconciles it',
    );
    expect(refused.stdout).toBe('');
    // To prune what the leader's guard refused, the one-off pass runs beside it.
    const beside = await classopsAsync(
      ['run', '--once', '--no-image-checks', '--allow-mass-prune', '--config', config],
      { cwd: join(config, '..') },
    );
    expect(beside.stderr).toContain('classops-a leads this course (Lease default/classops); running once beside it');
    expect(beside.code).toBe(0);
    // A leader that can no longer read the Lease is not ready, though it has reconciled.
    expect((await op.get('/readyz')).status).toBe(200);
    api.inject({
      method: 'GET',
      path: '/apis/coordination.k8s.io/v1/namespaces/default/leases/classops',
      status: 500,
      times: 1000,
    });
    await waitFor(
      async () => (await op.get('/readyz')).status === 503,
      20_000,
      'a not ready',
      () => op.output,
    );
    await op.stop('SIGKILL'); // the Lease is left to lapse (8 s); its reads still fail, which stops no one-off pass
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops')!;
    api.put({ ...lease, spec: { ...lease.spec, renewTime: new Date(Date.now() - 60_000).toISOString() } });
    const ran = await once();
    expect(ran.stdout).toMatch(/^success at revision /);
    expect(ran.code).toBe(0);
  });

  test('a replica that cannot make the Lease says why and is not ready: it neither leads nor follows', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    // The Lease's namespace is missing, or RBAC refuses it: every create is answered 404.
    api.inject({
      method: 'POST',
      path: '/apis/coordination.k8s.io/v1/namespaces/default/leases',
      status: 404,
      times: 1000,
    });
    const op = await start(configFor(repo, true), { POD_NAME: 'classops-a' });
    await waitFor(
      async () => op.output.includes('cannot take or renew the Lease'),
      20_000,
      'the Lease problem in the log',
      () => op.output,
    );
    expect(op.output).toContain('"lease":"default/classops"');
    expect((await op.get('/readyz')).status).toBe(503);
    expect(/^classops_leader 0$/m.test((await op.get('/metrics')).text)).toBe(true);
    expect(api.get('apps/v1', 'Deployment', NS, 'student-ann')).toBeUndefined();
  });

  test('two controllers: one leads; the other takes over when the lease expires', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const config = configFor(repo, true);
    const a = await start(config, { POD_NAME: 'classops-a' });
    const b = await start(config, { POD_NAME: 'classops-b' });
    const holder = () =>
      api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops')?.spec.holderIdentity as string | undefined;
    await waitFor(
      async () => holder() !== undefined && replicas() === 1,
      30_000,
      'a leader',
      () => a.output + b.output,
    );
    const leader = holder() === 'classops-a' ? a : b;
    const follower = leader === a ? b : a;
    const leaderMetric = async (r: RunningClassops) => /^classops_leader 1$/m.test((await r.get('/metrics')).text);
    expect(await leaderMetric(leader)).toBe(true);
    expect(await leaderMetric(follower)).toBe(false);
    // Ready once it has read the Lease and found a leader: on its next try, not at once.
    await waitFor(
      async () => (await follower.get('/readyz')).status === 200,
      10_000,
      'the follower ready',
      () => follower.output,
    );
    expect(await leaderMetric(follower)).toBe(false);

    await leader.stop('SIGKILL'); // no release: the lease must expire
    await waitFor(
      async () => holder() === (follower === a ? 'classops-a' : 'classops-b'),
      30_000,
      'the follower to take over',
      () => follower.output,
    );
    repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('bo');
    await waitFor(
      async () => api.get('apps/v1', 'Deployment', NS, 'student-bo') !== undefined,
      30_000,
      'the new leader to reconcile',
      () => follower.output,
    );

    expect(await follower.stop('SIGTERM')).toBe(0); // graceful: the lease is released
    expect(holder() ?? null).toBeNull();
  }, 90_000);
});

describe('a webhook push that reaches a follower', () => {
  test('is passed on to the leader, which deploys it at once', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const config = configFor(repo, true);
    // With a webhook and no pollInterval, git is polled every 5 minutes: only the push can be seen in time.
    writeFileSync(join(config, '..', 'secret'), 'hook-secret');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('  pollInterval: 500ms\n', '') +
        `github:\n  webhookSecretFile: ${join(config, '..', 'secret')}\n`,
    );
    const a = await start(config, { POD_NAME: 'classops-a' });
    const b = await start(config, { POD_NAME: 'classops-b' });
    const holder = () =>
      api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops')?.spec.holderIdentity as string | undefined;
    await waitFor(
      async () => replicas() === 1,
      30_000,
      'a leader',
      () => a.output + b.output,
    );
    const follower = holder() === 'classops-a' ? b : a;
    const sha = repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('bo');
    const push = pushPayload('main', { modified: ['students/week-01.yaml'] }, sha);
    const answer = await deliver(`http://127.0.0.1:${follower.port}/webhooks/github`, {
      event: 'push',
      body: push,
      secret: 'hook-secret',
    });
    expect(answer.status).toBe(202);
    await waitFor(
      async () => api.get('apps/v1', 'Deployment', NS, 'student-bo') !== undefined,
      15_000,
      'the leader to deploy the push the follower received',
      () => a.output + b.output,
    );
    expect(follower.logs().map((l) => l['msg'])).toContain('webhook push passed on to the leader');
  }, 90_000);
});

describe('npm start: the embedded default, no cluster', () => {
  test('out/manifests and /api/status follow edits in students/', async () => {
    const dir = tempDir('classops-start-');
    cpSync(join(ROOT, 'students'), join(dir, 'students'), { recursive: true });
    const manifests = join(dir, 'out/manifests');
    // What `npm start` runs once it has built; npm test built dist/ already, and building
    // again here would rewrite dist/ under the other test files running at the same time.
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    expect(start).toBe('npm run build --silent && node dist/cli.js run');
    // Image checks off: the test must not depend on whether ghcr.io can be reached from here.
    const op = await RunningClassops.start(['--no-image-checks'], {
      env: {
        CLASSOPS_SOURCE_PATH: join(dir, 'students'),
        CLASSOPS_CLUSTER_MANIFESTS_DIR: manifests,
        CLASSOPS_SERVER_PORT: '0',
        CLASSOPS_SERVER_HOST: '127.0.0.1',
        CLASSOPS_SOURCE_POLL_INTERVAL: '500ms',
      },
    });
    running.push(op);
    const files = () => (existsSync(join(manifests, NS)) ? readdirSync(join(manifests, NS)).sort() : []);
    // Files appear one by one (each written whole, then renamed): wait for the last of them.
    await waitFor(
      async () => files().includes('deployment-student-priya-r.yaml'),
      30_000,
      'manifests',
      () => op.output,
    );
    expect(files().filter((f) => f.startsWith('deployment-'))).toEqual([
      'deployment-student-jlgore.yaml',
      'deployment-student-mchen-dev.yaml',
      'deployment-student-otajon99.yaml',
      'deployment-student-priya-r.yaml',
    ]);

    const roster = readFileSync(join(dir, 'students/week-01.yaml'), 'utf8');
    writeFileSync(
      join(dir, 'students/week-01.yaml'),
      `${roster}\n  - name: "New Student"\n    github_username: "newbie"\n    container_image: "ghcr.io/newbie/app:v1"\n`,
    );
    await waitFor(
      async () => files().includes('deployment-student-newbie.yaml'),
      30_000,
      'the new student',
      () => op.output,
    );
    const status = JSON.parse((await op.get('/api/status')).text);
    expect(status.students.map((s: { githubUsername: string }) => s.githubUsername)).toContain('newbie');
    expect(status.files[0].findings.filter((f: { code: string }) => f.code.startsWith('image-'))).toEqual([]);

    writeFileSync(join(dir, 'students/week-01.yaml'), `${roster}\n  - name: broken\n    github_username "x"\n`);
    await waitFor(
      async () => JSON.parse((await op.get('/api/status')).text).files[0].complete === false,
      30_000,
      'the broken file to be seen',
      () => op.output,
    );
    expect(files()).toContain('deployment-student-newbie.yaml'); // a broken roster deletes nothing
  }, 130_000);
});
