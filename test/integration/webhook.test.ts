/** The GitHub webhook against a running `classops run` that follows a real git repository. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { GitRepo } from '../support/git.js';
import { waitFor } from '../support/processes.js';
import { rosterText } from '../support/rosters.js';
import { RunningClassops } from '../support/running.js';
import { deliver, pingPayload, PUSHED_REPOSITORY, pushPayload } from '../support/webhook-deliveries.js';

const SECRET = 'it-is-a-secret';
const OLD_SECRET = 'the-previous-secret';
const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;

let api: FakeApiServer;
let repo: GitRepo;
let dir: string;
let op: RunningClassops | undefined;

beforeEach(async () => {
  api = await new FakeApiServer().start();
  repo = new GitRepo();
  repo.write('students/week-01.yaml', rosterText(entry('ann'))).commit('week 1');
  dir = mkdtempSync(join(tmpdir(), 'classops-webhook-'));
});
afterEach(async () => {
  await op?.stop();
  op = undefined;
  await api.stop();
  rmSync(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

async function start(github: string): Promise<RunningClassops> {
  const config = join(dir, 'classops.yaml');
  writeFileSync(
    config,
    // No pollInterval: with a webhook it defaults to 5 minutes, far beyond this test.
    `source:\n  kind: git\n  url: ${repo.dir}\n  branch: main\n  path: students\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  resyncInterval: 1h\n  leaderElection:\n    enabled: false\nserver:\n  port: 0\n  host: 127.0.0.1\n${github}`,
  );
  op = await RunningClassops.start(['--no-image-checks', '--config', config], { cwd: dir });
  await waitFor(
    async () => api.list('Deployment').length === 1,
    20_000,
    'first reconcile',
    () => op!.output,
  );
  return op;
}

const deployments = () =>
  api
    .list('Deployment')
    .map((d) => d.metadata.name as string)
    .sort();

describe('POST /webhooks/github', () => {
  test('without a secret the route does not exist', async () => {
    const run = await start('');
    const url = `http://127.0.0.1:${run.port}/webhooks/github`;
    const res = await deliver(url, { event: 'ping', body: pingPayload(), secret: SECRET });
    expect(res.status).toBe(404);
  });

  test('a signed push deploys at once; bad, replayed and irrelevant deliveries change nothing', async () => {
    writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
    writeFileSync(join(dir, 'old-secret'), OLD_SECRET);
    // The recorded pushes are to Codertocat/Hello-World: the course repository, written in other case.
    const run = await start(
      `github:\n  webhookSecretFile: ${join(dir, 'secret')}\n  webhookPreviousSecretFile: ${join(dir, 'old-secret')}\n  repository: ${PUSHED_REPOSITORY.toUpperCase()}\n`,
    );
    const url = `http://127.0.0.1:${run.port}/webhooks/github`;
    const sha = repo.write('students/week-01.yaml', rosterText(entry('ann') + entry('bo'))).commit('add bo');
    const push = pushPayload('main', { modified: ['students/week-01.yaml'] }, sha);

    expect((await deliver(url, { event: 'ping', body: pingPayload(), secret: SECRET })).status).toBe(200);
    const refused = [
      await deliver(url, { event: 'push', body: push, secret: null }),
      await deliver(url, { event: 'push', body: push, secret: 'wrong' }),
      await deliver(url, { event: 'push', body: `${push} `, secret: null }),
      await deliver(url, {
        event: 'push',
        body: pushPayload('feature', { modified: ['students/week-01.yaml'] }, sha),
        secret: SECRET,
      }),
      await deliver(url, {
        event: 'push',
        body: pushPayload('main', { modified: ['README.md'] }, sha),
        secret: SECRET,
      }),
      await deliver(url, { event: 'issues', body: push, secret: SECRET }),
      // An organization's webhook, signed with the same secret, sends other repositories' pushes.
      await deliver(url, {
        event: 'push',
        body: pushPayload('main', { modified: ['students/week-01.yaml'] }, sha, 'Codertocat/other-course'),
        secret: SECRET,
      }),
      await deliver(url, { event: 'push', body: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20), secret: SECRET }),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 202, 202, 202, 202, 413]);
    expect(refused[6]!.text).toBe('push to "Codertocat/other-course", not CODERTOCAT/HELLO-WORLD\n');
    // A renamed course repository would land here on every push: the log says what to set,
    // once per repository, as an organization's webhook sends every push of every repository.
    const again = pushPayload('main', { modified: ['x'] }, sha, 'Codertocat/other-course');
    expect((await deliver(url, { event: 'push', body: again, secret: SECRET })).status).toBe(202);
    // A name that would read reversed, or end in half a character, shows escaped and whole.
    const reversed = pushPayload('main', { modified: ['x'] }, sha, `Codertocat/\u202eesruoc${'😀'.repeat(200)}`);
    expect((await deliver(url, { event: 'push', body: reversed, secret: SECRET })).text).toBe(
      `push to "Codertocat/\\u202eesruoc${'😀'.repeat(182)}…", not CODERTOCAT/HELLO-WORLD\n`,
    );
    const warnings = run.logs().filter((l) => l['level'] === 'warn' && !String(l['msg']).includes('esruoc'));
    expect(warnings.map((l) => l['msg'])).toEqual([
      'webhook push to "Codertocat/other-course", not CODERTOCAT/HELLO-WORLD (github.repository): ignored, as its later pushes will be; if the course repository was renamed or moved, set github.repository',
    ]);
    // Give a wrongly queued reconcile time to happen: a fetch and apply take well under this.
    await new Promise((r) => setTimeout(r, 1500));
    expect(deployments()).toEqual(['student-ann']);
    expect(run.logs().filter((l) => l['msg'] === 'webhook push: reconcile queued')).toEqual([]);

    // Signed with the previous secret, still accepted while rotating.
    const accepted = await deliver(url, { event: 'push', body: push, secret: OLD_SECRET });
    expect(accepted).toMatchObject({ status: 202, text: 'reconcile queued\n' });
    await waitFor(
      async () => deployments().length === 2,
      10_000,
      'student-bo applied',
      () => run.output,
    );
    expect(deployments()).toEqual(['student-ann', 'student-bo']);

    // The same delivery again is recognised and triggers nothing.
    const replay = await deliver(url, { event: 'push', body: push, secret: SECRET, id: accepted.id });
    expect(replay.status).toBe(200);
    expect(replay.text).toBe('delivery already received\n');

    const metrics = (await run.get('/metrics')).text;
    for (const line of [
      'classops_webhook_deliveries_total{event="ping",result="accepted"} 1',
      'classops_webhook_deliveries_total{event="push",result="unauthorized"} 3',
      'classops_webhook_deliveries_total{event="push",result="ignored"} 5',
      'classops_webhook_deliveries_total{event="other",result="ignored"} 1',
      'classops_webhook_deliveries_total{event="push",result="too-large"} 1',
      'classops_webhook_deliveries_total{event="push",result="accepted"} 1',
      'classops_webhook_deliveries_total{event="push",result="duplicate"} 1',
    ])
      expect(metrics).toContain(line);
    expect(run.logs().filter((l) => l['msg'] === 'webhook push: reconcile queued')).toHaveLength(1);
  });
});
