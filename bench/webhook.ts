// Time from `git push` to the new student's Deployment applied, through a signed GitHub
// push webhook (the controller's real route and @octokit/webhooks verification), beside
// polling alone at its default interval (30 s without a webhook; each push lands just after a
// poll, so that figure is the worst case, twice the average). A real bare repository,
// the real git source, the real client against the fake API server.
// Run by hand: npm run bench:webhook   (ROUNDS=5 POLL_ROUNDS=2 by default; the polling rounds take up to 30 s each)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { durationMs, loadConfig } from '../src/config.js';
import { KubeTarget } from '../src/cluster/apply.js';
import { kubeConfigFor } from '../src/cluster/connect.js';
import { Controller } from '../src/controller/controller.js';
import { createApp, listen } from '../src/controller/server.js';
import { State } from '../src/controller/state.js';
import { webhookHandler } from '../src/github/webhook.js';
import { silentLogger } from '../src/observability/log.js';
import { Metrics } from '../src/observability/metrics.js';
import { GitSource } from '../src/source/git.js';
import { FakeApiServer } from '../test/support/fake-apiserver.js';
import { GitRepo } from '../test/support/git.js';
import { rosterText } from '../test/support/rosters.js';
import { deliver, pushPayload } from '../test/support/webhook-deliveries.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 5);
const POLL_ROUNDS = Number(process.env['POLL_ROUNDS'] ?? 2);
const SECRET = 'bench-secret';
const NS = 'container-course-week01';
const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;

const api = await new FakeApiServer().start();
const work = new GitRepo('bench-webhook-');
let roster = entry('ann');
work.write('students/week-01.yaml', rosterText(roster)).commit('week 1');
const scratch = mkdtempSync(join(tmpdir(), 'bench-webhook-'));
const origin = join(scratch, 'origin.git');
execFileSync('git', ['clone', '-q', '--bare', work.dir, origin]);
work.git('remote', 'add', 'origin', origin);
const config = loadConfig({ env: {}, overrides: { cluster: { kubeconfig: api.kubeconfig() } } });

async function controllerWith(pollMs: number, webhook: boolean): Promise<{ stop(): Promise<void>; url: string }> {
  const state = new State();
  const metrics = new Metrics({ processMetrics: false });
  const source = new GitSource({
    url: origin,
    branch: 'main',
    path: 'students',
    tokenFile: '',
    sshKeyFile: '',
    pollMs,
    cacheDir: join(mkdtempSync(join(scratch, 'mirror-')), 'mirror'),
  });
  const controller = new Controller({
    config,
    source,
    target: new KubeTarget(kubeConfigFor(config.cluster)!),
    images: undefined,
    state,
    metrics,
    log: silentLogger,
    allowMassPrune: false,
    resyncMs: 3_600_000,
  });
  controller.start();
  // The first pass starts on a timer; wait for it to finish so it cannot pick up the first push.
  while (state.reconcile.result === undefined) await new Promise((r) => setTimeout(r, 10));
  const handler = webhook
    ? await webhookHandler({
        secrets: [SECRET],
        branch: 'main',
        path: 'students',
        onPush: () => controller.trigger(),
        metrics,
        log: silentLogger,
      })
    : undefined;
  const server: Server = await listen(
    createApp({ state, metrics, ready: () => true, ...(handler ? { webhook: handler } : {}) }),
    0,
    '127.0.0.1',
  );
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/webhooks/github`,
    stop: async () => {
      await controller.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Pushes a new student and returns the ms until their Deployment is applied. */
async function pushStudent(login: string, url: string | undefined): Promise<number> {
  roster += entry(login);
  work.write('students/week-01.yaml', rosterText(roster));
  work.git('add', '-A');
  work.git('commit', '-q', '-m', `add ${login}`);
  const sha = work.git('rev-parse', 'HEAD');
  const start = performance.now();
  work.git('push', '-q', 'origin', 'main');
  if (url !== undefined) {
    const res = await deliver(url, {
      event: 'push',
      body: pushPayload('main', { modified: ['students/week-01.yaml'] }, sha),
      secret: SECRET,
    });
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${res.text}`);
  }
  while (api.get('apps/v1', 'Deployment', NS, `student-${login}`) === undefined)
    await new Promise((r) => setTimeout(r, 5));
  return performance.now() - start;
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)} (${ms.length} pushes: ${ms.map((m) => m.toFixed(0)).join(', ')})`;
};

const withWebhook = await controllerWith(durationMs('5m'), true);
const hooked: number[] = [];
for (let i = 0; i < ROUNDS; i++) hooked.push(await pushStudent(`hook${i}`, withWebhook.url));
await withWebhook.stop();
console.log(`git push + signed webhook to Deployment applied (poll 5m as a safety net): ${summary(hooked)}`);

const polling = await controllerWith(durationMs('30s'), false);
const polled: number[] = [];
for (let i = 0; i < POLL_ROUNDS; i++) polled.push(await pushStudent(`poll${i}`, undefined));
await polling.stop();
console.log(
  `git push to Deployment applied, polling alone every 30 s (the default without a webhook): ${summary(polled)}`,
);

await api.stop();
rmSync(scratch, { recursive: true, force: true });
rmSync(work.dir, { recursive: true, force: true });
