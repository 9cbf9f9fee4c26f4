// The gallery under load, side by side with Debian's nginx (nginx-light) serving the same
// JSON as a static file: requests per second and p99 latency of /api/students and /gallery
// with 200 students, then p99 of /gallery while one student in five hangs forever.
// Each server runs as one process (nginx: master_process off); wrk sends no Accept-Encoding,
// so neither compresses. Run by hand: npm run bench:gallery  (BENCH_SECONDS=5 STUDENTS=200)
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, requireProgram, startProcess, stopProcess, waitFor } from '../test/support/processes.js';
import { RunningClassops } from '../test/support/running.js';
import { StudentApp } from '../test/support/student-apps.js';

const STUDENTS = Number(process.env['STUDENTS'] ?? 200);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CONNECTIONS = 50;
const CLI = resolve('dist/cli.js');
const wrk = requireProgram('wrk', 'wrk');
const nginx = requireProgram('nginx', 'nginx-light');
const dir = mkdtempSync(join(tmpdir(), 'classops-bench-gallery-'));

interface Figures {
  rps: number;
  p99ms: number;
}

/** wrk in the background: the student apps live in this process and must keep answering meanwhile. */
async function load(url: string, connections = CONNECTIONS): Promise<Figures> {
  const run = (seconds: number) =>
    promisify(execFile)(wrk, [`-t${Math.min(2, connections)}`, `-c${connections}`, `-d${seconds}s`, '--latency', url], {
      encoding: 'utf8',
    });
  await run(1); // warm-up: JIT, connection pools, the first render of each body
  const out = await run(SECONDS);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out.stdout)?.[1]);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out.stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out.stdout);
  if (!Number.isFinite(rps) || p99 === null || non2xx !== null)
    throw new Error(`wrk on ${url}:\n${out.stdout}${out.stderr}`);
  const p99ms = Number(p99[1]) * { us: 0.001, ms: 1, s: 1000 }[p99[2] as 'us' | 'ms' | 's'];
  return { rps, p99ms };
}

async function startGallery(targets: unknown[], env: Record<string, string>): Promise<RunningClassops> {
  const file = join(dir, `targets-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(targets));
  const gallery = await RunningClassops.start(['--targets', file, '--port', '0'], {
    command: [process.execPath, CLI, 'gallery'],
    cwd: process.cwd(),
    env: { CLASSOPS_GALLERY_HOST: '127.0.0.1', ...env },
  });
  await waitFor(
    async () => {
      const body = JSON.parse((await gallery.get('/api/students')).text) as { students: Array<{ status: string }> };
      return body.students.length === targets.length && body.students.every((s) => s.status !== 'pending');
    },
    60_000,
    'every student checked',
    () => gallery.output,
  );
  return gallery;
}

const apps: StudentApp[] = [];
const hanging: StudentApp[] = [];
let nginxProcess: ReturnType<typeof startProcess> | undefined;
const galleries: RunningClassops[] = [];
try {
  for (let i = 0; i < STUDENTS; i++) apps.push(await StudentApp.start(`student-${i}`, 'healthy'));
  for (let i = 0; i < STUDENTS / 5; i++) hanging.push(await StudentApp.start(`student-${i * 5}`, 'hang'));
  const target = (app: StudentApp, i: number) => ({
    github_username: app.login,
    name: `Student ${i}`,
    url: app.url,
    week: 1 + (i % 4),
  });

  // 1. Everyone healthy: the gallery against nginx serving the gallery's own JSON.
  const gallery = await startGallery(
    apps.map((app, i) => target(app, i)),
    {},
  );
  galleries.push(gallery);
  const json = (await gallery.get('/api/students')).text;
  mkdirSync(join(dir, 'www', 'api'), { recursive: true });
  writeFileSync(join(dir, 'www', 'api', 'students'), json);
  const nginxPort = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `daemon off;\nmaster_process off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log stderr warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  default_type application/json;\n  server {\n    listen 127.0.0.1:${nginxPort};\n    root ${dir}/www;\n  }\n}\n`,
  );
  nginxProcess = startProcess(nginx, ['-p', dir, '-e', 'stderr', '-c', join(dir, 'nginx.conf')]);
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${nginxPort}/api/students`)).ok,
    10_000,
    'nginx',
    nginxProcess.output,
  );

  const base = `http://127.0.0.1:${gallery.port}`;
  const staticNginx = await load(`http://127.0.0.1:${nginxPort}/api/students`);
  const api = await load(`${base}/api/students`);
  const page = await load(`${base}/gallery`);
  const pageLight = await load(`${base}/gallery`, 10);
  const pageBytes = (await gallery.get('/gallery')).text.length;
  await stopProcess(nginxProcess.child);
  await gallery.stop();

  // 2. One student in five hangs forever; fetched every second, so hanging fetches are always in flight.
  const withHangs = await startGallery(
    apps.map((app, i) => target(i % 5 === 0 ? hanging[i / 5]! : app, i)),
    { CLASSOPS_GALLERY_REFRESH_INTERVAL: '1s', CLASSOPS_GALLERY_FETCH_TIMEOUT: '2s' },
  );
  galleries.push(withHangs);
  const open = hanging.filter((h) => h.open > 0).length;
  const hangingPage = await load(`http://127.0.0.1:${withHangs.port}/gallery`);
  const hangingPageLight = await load(`http://127.0.0.1:${withHangs.port}/gallery`, 10);
  // One visitor at a time: the latency of the page itself, without queueing behind others.
  const hangingPageOne = await load(`http://127.0.0.1:${withHangs.port}/gallery`, 1);
  const statuses = (JSON.parse((await withHangs.get('/api/students')).text) as { students: Array<{ status: string }> })
    .students;
  const timeouts = statuses.filter((s) => s.status === 'timeout').length;

  const row = (name: string, f: Figures) =>
    `${name.padEnd(52)} ${f.rps.toFixed(0).padStart(7)} req/s   p99 ${f.p99ms.toFixed(2).padStart(7)} ms`;
  console.log(`gallery bench: ${STUDENTS} students, wrk -t2 -d${SECONDS}s after 1 s of warm-up, no compression`);
  console.log(row(`nginx-light static /api/students (${json.length} B), c${CONNECTIONS}`, staticNginx));
  console.log(row(`classops /api/students (${json.length} B), c${CONNECTIONS}`, api));
  console.log(row(`classops /gallery (${pageBytes} B), c${CONNECTIONS}`, page));
  console.log(row(`classops /gallery, c10`, pageLight));
  console.log(row(`classops /gallery, 1 in 5 hanging, c${CONNECTIONS}`, hangingPage));
  console.log(row(`classops /gallery, 1 in 5 hanging, c10`, hangingPageLight));
  console.log(row(`classops /gallery, 1 in 5 hanging, c1`, hangingPageOne));
  console.log(`/api/students vs nginx: ${(api.rps / staticNginx.rps).toFixed(2)}x (goal >= 0.5x)`);
  console.log(
    `1 in 5 hanging: ${timeouts} students shown as timeout, ${open} hanging fetches open when the load began; goal p99 < 20 ms`,
  );
} catch (error) {
  for (const g of galleries) console.error(g.output.slice(-3000));
  throw error;
} finally {
  if (nginxProcess) await stopProcess(nginxProcess.child);
  await Promise.all(galleries.map((g) => g.stop()));
  await Promise.all([...apps, ...hanging].map((a) => a.stop()));
  rmSync(dir, { recursive: true, force: true });
}
