/** `classops run` with no cluster (what `npm start` runs) also serves the gallery, from its State. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { waitFor } from '../support/processes.js';
import { RunningClassops } from '../support/running.js';

let dir: string;
let run: RunningClassops | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'classops-run-gallery-'));
});
afterEach(async () => {
  await run?.stop('SIGKILL');
  run = undefined;
  rmSync(dir, { recursive: true, force: true });
});

test('the embedded default shows every student as not deployed, with the reason, at once', async () => {
  cpSync(join(ROOT, 'students'), join(dir, 'students'), { recursive: true });
  writeFileSync(
    join(dir, 'classops.yaml'),
    `source:\n  kind: dir\n  path: students\ncluster:\n  manifestsDir: out/manifests\nserver:\n  port: 0\n  host: 127.0.0.1\ngallery:\n  title: Week one\n`,
  );
  run = await RunningClassops.start(['--no-image-checks'], { cwd: dir });
  await waitFor(
    async () => JSON.parse((await run!.get('/api/students')).text).students.length === 4,
    20_000,
    'the first reconcile reaching the gallery',
    () => run!.output,
  );
  const body = JSON.parse((await run.get('/api/students')).text);
  expect(body.students.map((s: any) => [s.github_username, s.status, s.week, s.url])).toEqual([
    ['jlgore', 'not-deployed', 1, '/students/jlgore'],
    ['mchen-dev', 'not-deployed', 1, '/students/mchen-dev'],
    ['Otajon99', 'not-deployed', 1, '/students/otajon99'],
    ['priya-r', 'not-deployed', 1, '/students/priya-r'],
  ]);
  expect(body.students[0]).toMatchObject({
    name: 'Jared Gore',
    reason: 'rendered to manifests only: no cluster runs this app',
    student: null,
  });

  const page = await run.get('/gallery');
  expect(page.status).toBe(200);
  expect(page.text).toContain('<h1>Week one</h1>');
  expect(page.text).toContain('<strong>0</strong> live · <strong>4</strong> not live · 4 students');
  expect(page.text).toContain('Not deployed');
  // The controller's own routes are still there.
  expect((await run.get('/api/status')).status).toBe(200);
  expect((await run.get('/healthz')).text).toBe('ok\n');

  // With no cluster there is no lease: the shutdown says only what it does.
  expect(await run.stop('SIGTERM')).toBe(0);
  expect(run.output).toContain('SIGTERM: finishing the current reconcile');
  expect(run.output).not.toContain('lease');
  // The pass's seconds to the millisecond, not a float's last digits.
  expect(run.output).toMatch(/"msg":"reconciled content-\w+".*"seconds":\d+(\.\d{1,3})?[,}]/);
}, 60_000);
