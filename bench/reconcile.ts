// 1 000 students through the real client against the fake API server: writes and time of
// a first apply, of a no-op reconcile (writes must be 0), of a one-student change, and the
// time from a git commit to the object applied with the controller running.
// Run by hand: npm run bench:reconcile
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { KubeTarget } from '../src/cluster/apply.js';
import { kubeConfigFor } from '../src/cluster/connect.js';
import { Controller } from '../src/controller/controller.js';
import { reconcile, type ReconcilerOptions } from '../src/controller/reconciler.js';
import { State } from '../src/controller/state.js';
import { silentLogger } from '../src/observability/log.js';
import { Metrics } from '../src/observability/metrics.js';
import { GitSource } from '../src/source/git.js';
import { FakeApiServer } from '../test/support/fake-apiserver.js';
import { GitRepo } from '../test/support/git.js';
import { rosterText } from '../test/support/rosters.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STUDENTS = Number(process.env['STUDENTS'] ?? 1000);
const POLL_MS = 200;
const entries = (tag: (i: number) => string) =>
  Array.from(
    { length: STUDENTS },
    (_, i) =>
      `  - name: "Student ${i}"\n    github_username: "student-${i}"\n    container_image: "ghcr.io/student-${i}/app:${tag(i)}"\n`,
  ).join('');

const api = await new FakeApiServer().start();
const repo = new GitRepo();
repo.write('students/week-01.yaml', rosterText(entries(() => 'v1'))).commit('week 1');
const config = loadConfig({
  env: {},
  overrides: {
    policy: { limits: { maxEntries: STUDENTS } },
    render: { quota: { pods: String(STUDENTS * 2) } },
    cluster: { kubeconfig: api.kubeconfig() },
  },
});
const target = new KubeTarget(kubeConfigFor(config.cluster)!);
const options: ReconcilerOptions = {
  config,
  source: new GitSource({
    url: repo.dir,
    branch: 'main',
    path: 'students',
    tokenFile: '',
    sshKeyFile: '',
    pollMs: POLL_MS,
    cacheDir: join(mkdtempSync(join(tmpdir(), 'bench-git-')), 'mirror'),
  }),
  target,
  images: undefined,
  state: new State(),
  metrics: new Metrics({ processMetrics: false }),
  log: silentLogger,
  allowMassPrune: false,
};

async function timed(label: string): Promise<void> {
  const writes = api.writes().length;
  const events = api.writes({ includeEvents: true }).length - writes;
  const start = performance.now();
  const outcome = await reconcile(options);
  const ms = performance.now() - start;
  const newEvents = api.writes({ includeEvents: true }).length - api.writes().length - events;
  console.log(
    `${label.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms, ${String(api.writes().length - writes).padStart(5)} object writes + ${newEvents} events (${outcome.result}; ${outcome.plan.create.length} created, ${outcome.plan.update.length} updated, ${outcome.plan.unchanged.length} unchanged)`,
  );
}

console.log(
  `students: ${STUDENTS} (${STUDENTS * 3 + 5} objects), real @kubernetes/client-node against the fake API server on loopback`,
);
await timed('first apply');
await timed('no-op reconcile');
repo.write('students/week-01.yaml', rosterText(entries((i) => (i === 7 ? 'v2' : 'v1')))).commit('student-7 v2');
await timed('one student changed');

const controller = new Controller({ ...options, resyncMs: 3_600_000, debounceMs: 0 });
controller.start();
await controller.idle();
await new Promise((r) => setTimeout(r, 500));
const committed = performance.now();
repo.write('students/week-01.yaml', rosterText(entries((i) => (i === 7 ? 'v3' : 'v1')))).commit('student-7 v3');
type Spec = { template: { spec: { containers: Array<{ image: string }> } } };
const image = () =>
  (api.get('apps/v1', 'Deployment', 'container-course-week01', 'student-student-7')?.['spec'] as Spec | undefined)
    ?.template.spec.containers[0]?.image;
while (image() !== 'ghcr.io/student-7/app:v3') await new Promise((r) => setTimeout(r, 5));
console.log(
  `commit to applied (running controller, git poll every ${POLL_MS} ms): ${(performance.now() - committed).toFixed(0)} ms`,
);
console.log(
  `peak memory (process RSS, API server included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
);
await controller.stop();
await api.stop();
