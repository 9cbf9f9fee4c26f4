// 1 000 students through the real client against the fake API server: writes and time of
// a first apply, of a no-op reconcile (writes must be 0), of a one-student change, and the
// time from a git commit to the object applied with the controller running. Then
// `classops run --once --no-image-checks` on the embedded default (a students/ folder into
// out/manifests) twice as whole processes: the command's wall time and peak RSS, and the
// pass's own time as its log reports it.
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
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

const noOpTimes: number[] = [];
const noOpCpu: number[] = [];

async function timed(label: string): Promise<void> {
  const writes = api.writes().length;
  const events = api.writes({ includeEvents: true }).length - writes;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const outcome = await reconcile(options);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000; // this process: the fake API server's share included
  if (label === 'no-op reconcile') {
    noOpTimes.push(ms);
    noOpCpu.push(cpuMs);
  }
  const newEvents = api.writes({ includeEvents: true }).length - api.writes().length - events;
  console.log(
    `${label.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms (CPU ${cpuMs.toFixed(0)} ms, API server included), ${String(api.writes().length - writes).padStart(5)} object writes + ${newEvents} events (${outcome.result}; ${outcome.plan.create.length} created, ${outcome.plan.update.length} updated, ${outcome.plan.unchanged.length} unchanged)`,
  );
}

console.log(`students: ${STUDENTS}, real @kubernetes/client-node against the fake API server on loopback`);
await timed('first apply');
// Every object the course has, as the first pass wrote them: what the watch must hold before it serves.
const OBJECTS = api.writes().length;
await timed('no-op, listing everything');
// As the running controller does: a watch that keeps what it sees, read instead of listing.
const watcher = target.watch(() => undefined);
watcher.start();
while (watcher.cached()?.length !== OBJECTS) await new Promise((r) => setTimeout(r, 20));
await timed('no-op reconcile');
await timed('no-op reconcile');
await timed('no-op reconcile');
console.log(
  `no-op reconcile from the watch's copy, median of ${noOpTimes.length}: ${[...noOpTimes].sort((a, b) => a - b)[1]!.toFixed(0)} ms (CPU ${[...noOpCpu].sort((a, b) => a - b)[1]!.toFixed(0)} ms; goal < 200 ms, 0 writes)`,
);
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
watcher.stop();
await api.stop();

// `classops run --once --no-image-checks` with no cluster named: the folder target.
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const course = mkdtempSync(join(tmpdir(), 'bench-once-'));
mkdirSync(join(course, 'students'));
writeFileSync(join(course, 'students/week-01.yaml'), rosterText(entries(() => 'v1')));
function runOnce(label: string, goal: string): void {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, CLI, 'run', '--once', '--no-image-checks'], {
    cwd: course,
    encoding: 'utf8',
    env: {
      PATH: process.env['PATH'],
      HOME: process.env['HOME'],
      CLASSOPS_LOG_FORMAT: 'json',
      CLASSOPS_POLICY_LIMITS_MAX_ENTRIES: String(STUDENTS),
    },
    maxBuffer: 64 << 20,
  });
  const lines = run.stderr.trim().split('\n');
  const [wall, kib] = lines.pop()!.split(' ').map(Number);
  const pass = lines
    .map((l) => JSON.parse(l) as { msg: string; seconds?: number; writes?: number })
    .find((l) => l.msg.startsWith('reconciled'));
  console.log(
    `run --once, ${label.padEnd(12)} pass ${pass?.seconds?.toFixed(2)} s, ${pass?.writes} writes; whole command ${wall!.toFixed(2)} s, ${(kib! / 1024).toFixed(0)} MiB peak RSS (exit ${run.status}; goal ${goal})`,
  );
}
runOnce('first pass:', 'pass < 1.5 s, < 200 MiB');
runOnce('second pass:', 'pass < 0.3 s, 0 writes');
rmSync(course, { recursive: true, force: true });
console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
