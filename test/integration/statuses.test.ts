/** Commit statuses from a running `classops run`: Ready and Failing students, each posted once, even across a restart. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, rolledOut } from '../support/fake-apiserver.js';
import { FakeGithub } from '../support/fake-github.js';
import { GitRepo } from '../support/git.js';
import { waitFor } from '../support/processes.js';
import { rosterText } from '../support/rosters.js';
import { RunningClassops } from '../support/running.js';

const NS = 'container-course-week01';
const TOKEN = 'ghs_status_token';
const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login.toLowerCase()}/app:v1"\n`;

let api: FakeApiServer;
let gh: FakeGithub;
let repo: GitRepo;
let dir: string;
let op: RunningClassops | undefined;

beforeEach(async () => {
  api = await new FakeApiServer().start();
  gh = await new FakeGithub(TOKEN).start();
  repo = new GitRepo();
  dir = mkdtempSync(join(tmpdir(), 'classops-statuses-'));
});
afterEach(async () => {
  await op?.stop();
  op = undefined;
  await gh.stop();
  await api.stop();
  rmSync(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<RunningClassops> {
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const config = join(dir, 'classops.yaml');
  writeFileSync(
    config,
    `source:\n  kind: git\n  url: ${repo.dir}\n  branch: main\n  path: students\n  pollInterval: 300ms\n` +
      `cluster:\n  kubeconfig: ${api.kubeconfig()}\n  resyncInterval: 300ms\n  leaderElection:\n    enabled: false\n` +
      `server:\n  port: 0\n  host: 127.0.0.1\nrender:\n  routing:\n    host: course.example.edu\n    tlsSecretName: course-tls\n` +
      `github:\n  statuses: true\n  tokenFile: ${join(dir, 'token')}\n  repository: course/roster\n  apiUrl: ${gh.url}\n`,
  );
  op = await RunningClassops.start(['--no-image-checks', '--config', config], { cwd: dir });
  return op;
}

const reconciles = (run: RunningClassops) =>
  run.logs().filter((l) => String(l['msg']).startsWith('reconciled ')).length;
async function moreReconciles(run: RunningClassops, n: number): Promise<void> {
  const target = reconciles(run) + n;
  await waitFor(
    async () => reconciles(run) >= target,
    20_000,
    `${n} more reconciles`,
    () => run.output,
  );
}
const posts = () => gh.writes().filter((r) => r.path.includes('/statuses/'));

test('Ready and Failing are each posted once, on the commit that last changed the entry', async () => {
  repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('ann and bo');
  const annCommit = repo.git('rev-parse', 'HEAD');
  const boCommit = repo
    .write('students/week-01.yaml', rosterText(entry('ann') + entry('bo').replace('v1', 'v2')))
    .commit('bo v2');
  repo.write('README.md', 'a later commit that does not touch the roster\n').commit('docs');
  let run = await start();
  await waitFor(
    async () => api.list('Deployment').length === 2,
    20_000,
    'first reconcile',
    () => run.output,
  );
  await moreReconciles(run, 2);
  expect(posts()).toEqual([]); // still starting: nothing to say yet

  const ann = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
  api.put(rolledOut(ann));
  api.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'student-bo-1',
      namespace: NS,
      labels: { 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': 'bo' },
    },
    status: {
      phase: 'Pending',
      containerStatuses: [
        { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
      ],
    },
  });
  await waitFor(
    async () => posts().length === 2,
    20_000,
    'two statuses',
    () => run.output,
  );
  expect(gh.statuses.get(annCommit)).toEqual([
    expect.objectContaining({
      context: 'classops/ann',
      state: 'success',
      description: 'Your app is live.',
      target_url: 'https://course.example.edu/students/ann/student',
    }),
  ]);
  expect(gh.statuses.get(boCommit)).toEqual([
    expect.objectContaining({ context: 'classops/bo', state: 'failure', description: 'Not running: ImagePullBackOff' }),
  ]);

  // Many reconciles later, and after a restart, nothing is posted again.
  await moreReconciles(run, 3);
  await run.stop();
  run = await start();
  await moreReconciles(run, 3);
  expect(posts()).toHaveLength(2);
  const metrics = (await run.get('/metrics')).text;
  expect(metrics).toContain('classops_commit_statuses_total{state="success",result="skipped"} 1');
  expect(metrics).toMatch(/^classops_github_rate_limit_remaining \d+$/m);
});

test('GitHub down never holds up a reconcile; the status is posted once it is back', async () => {
  repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
  gh.inject({ path: '/statuses', status: 503, times: 1000 });
  const run = await start();
  await waitFor(
    async () => api.list('Deployment').length === 1,
    20_000,
    'first reconcile',
    () => run.output,
  );
  const ann = api.get('apps/v1', 'Deployment', NS, 'student-ann')!;
  api.put(rolledOut(ann));
  // Reconciles go on while every status request fails (and is retried).
  await moreReconciles(run, 5);
  expect(gh.requests.filter((r) => r.path.includes('/statuses')).length).toBeGreaterThan(0);
  expect(gh.statuses.size).toBe(0);
  gh.clearFaults();
  await waitFor(
    async () => gh.statuses.size === 1,
    30_000,
    'status posted after recovery',
    () => run.output,
  );
});
