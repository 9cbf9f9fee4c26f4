/**
 * classops tried as a hostile student and an unlucky operator would (issue 8): each test
 * reproduces a report against real git, the real binary and the fake API server.
 */
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { CLI, classopsAsync, ROOT } from '../support/cli.js';
import { CourseRepo, entry } from '../support/course.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { FaultyRegistry } from '../support/faulty-registry.js';
import { waitFor } from '../support/processes.js';
import { RunningClassops } from '../support/running.js';
import { rosterText } from '../support/rosters.js';
import { tempDir } from '../support/temp.js';

const WEEK1 = 'container-course-week01';
const WEEK2 = 'container-course-week02';

let api: FakeApiServer;
const cleanup: Array<() => unknown> = [];
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  await api.stop();
});

function course(
  weeks: Record<string, string>,
  extraConfig = '',
  options: ConstructorParameters<typeof CourseRepo>[3] = {},
) {
  return new CourseRepo(api, weeks, extraConfig, options);
}

const names = (kind: string, namespace?: string) =>
  api
    .list(kind, namespace)
    .map((o) => o.metadata.name as string)
    .sort();

describe('a student cannot choose where classops writes', () => {
  const mallory = (namespace: string) =>
    `apiVersion: container-course.ziyotek.edu/v1\nkind: StudentSubmissions\nmetadata:\n  week: 5\n  namespace: ${namespace}\nstudents:\n${entry('mallory')}`;

  test('a PR adding week-05.yaml into kube-system fails validate --author, on the namespace line', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    c.repo.git('checkout', '-q', '-b', 'pr');
    c.repo.write('students/week-05.yaml', mallory('kube-system')).commit('mallory');
    const run = await classopsAsync(
      ['validate', 'students', '--format', 'json', '--changed-since', 'main', '--author', 'mallory'],
      { cwd: c.repo.dir },
    );
    expect(run.code).toBe(1);
    const findings = (JSON.parse(run.stdout) as { files: Array<{ findings: Array<Record<string, unknown>> }> }).files
      .flatMap((f) => f.findings)
      .filter((f) => f['severity'] === 'error');
    expect(findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'namespace-not-allowed', file: 'students/week-05.yaml', line: 5 }),
        expect.objectContaining({
          code: 'author-header-change',
          message: expect.stringContaining('adds a new roster file'),
        }),
      ]),
    );
  });

  test('a PR that deletes or renames a week file fails validate --author; an instructor may', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') + entry('bo') }, 'policy:\n  instructors: [teacher]\n');
    c.repo.write('classops.yaml', 'policy:\n  instructors: [teacher]\n').commit('rules');
    c.repo.git('checkout', '-q', '-b', 'pr');
    c.repo.git('mv', 'students/week-01.yaml', 'students/week-02.yaml');
    c.commit('rename');
    const judge = (author: string) =>
      classopsAsync(['validate', 'students', '--format', 'json', '--changed-since', 'main', '--author', author], {
        cwd: c.repo.dir,
      });
    const mallory = await judge('mallory');
    expect(mallory.code).toBe(1);
    const codes = (
      JSON.parse(mallory.stdout) as { files: Array<{ file: string; findings: Array<{ code: string }> }> }
    ).files.flatMap((f) => f.findings.map((x) => `${f.file} ${x.code}`));
    expect(codes).toEqual(
      expect.arrayContaining([
        'students/week-01.yaml author-removed-file',
        'students/week-02.yaml author-header-change',
      ]),
    );
    const teacher = await judge('teacher');
    expect(teacher.stdout).not.toContain('author-removed-file');
  });

  test.each([
    ['the judged folder named', 'students', ['students']],
    ["the config's folder (no path named)", 'students', []],
    ["the config's nested folder (both gone)", 'course/students', []],
    ['the file named, its nested folders gone', 'course/students', ['course/students/week-01.yaml']],
  ])(
    'a PR that deletes the only week file (the folder with it) fails validate --author; %s',
    async (_, folder, paths) => {
      const file = `${folder}/week-01.yaml`;
      const rules = `source:\n  path: ${folder}\npolicy:\n  instructors: [teacher]\n`;
      const c = course({ [file]: entry('ann') + entry('bo') }, rules);
      c.repo.write('classops.yaml', rules).commit('rules');
      c.repo.git('checkout', '-q', '-b', 'pr');
      c.repo.git('rm', '-q', file);
      c.commit('delete');
      const judge = (author: string) =>
        classopsAsync(['validate', ...paths, '--format', 'json', '--changed-since', 'main', '--author', author], {
          cwd: c.repo.dir,
        });
      const mallory = await judge('mallory');
      expect([mallory.code, mallory.stderr]).toEqual([1, '']);
      const codes = (
        JSON.parse(mallory.stdout) as { files: Array<{ file: string; findings: Array<{ code: string }> }> }
      ).files.flatMap((f) => f.findings.map((x) => `${f.file} ${x.code}`));
      expect(codes).toEqual([`${file} author-removed-file`]);
      const teacher = await judge('teacher');
      expect([teacher.code, teacher.stdout]).toEqual([0, expect.not.stringContaining('author-removed-file')]);
      // A folder that was never there is still a usage error, PR or not.
      const typo = await classopsAsync(['validate', 'studnets', '--changed-since', 'main', '--author', 'bo'], {
        cwd: c.repo.dir,
      });
      expect([typo.code, typo.stderr]).toEqual([2, expect.stringContaining('studnets: no such file or folder')]);
    },
  );

  test('run writes nothing into kube-system, holds the file back and exits 1', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    c.repo.write('students/week-05.yaml', mallory('kube-system')).commit('mallory');
    const run = await c.once();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'students/week-05.yaml:5:1: metadata.namespace "kube-system" is not allowed for week 5',
    );
    expect(api.list('Deployment', 'kube-system')).toEqual([]);
    expect(api.writes().filter((w) => w.includes('kube-system'))).toEqual([]);
    expect(names('Deployment', WEEK1)).toEqual(['student-ann']);
  });

  test('a namespace an instructor allowed is used', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') }, 'render:\n  allowedNamespaces: ["guest-*"]\n');
    c.repo.write('students/week-05.yaml', mallory('guest-lab')).commit('guest');
    const run = await c.once();
    expect(run.code).toBe(0);
    expect(names('Deployment', 'guest-lab')).toEqual(['student-mallory']);
  });

  test('objects labelled as classops outside the course, or without its annotations, are never pruned', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    await c.once();
    const stray = (namespace: string, annotations: Record<string, string>) =>
      api.put({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'student-old',
          namespace,
          labels: { 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': 'old' },
          annotations,
        },
        spec: { ports: [{ port: 80 }] },
      });
    stray('kube-system', { 'classops.dev/source-file': 'students/week-01.yaml' });
    stray(WEEK1, {});
    const run = await c.once();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('0 pruned');
    expect(names('Service', 'kube-system')).toEqual(['student-old']);
    expect(names('Service', WEEK1)).toEqual(['student-ann', 'student-old']);
  });
});

describe('protection follows the week, not the file name', () => {
  test('mv week-01.yaml week-02.yaml (header still week 1) prunes nothing and says why', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    await c.once();
    const before = names('Deployment', WEEK1);
    c.repo.git('mv', 'students/week-01.yaml', 'students/week-02.yaml');
    c.commit('rename');
    const run = await c.once();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('0 pruned');
    expect(run.stderr).toContain('students/week-02.yaml:4:9: metadata.week is 1, but the file is named for week 2.');
    expect(names('Deployment', WEEK1)).toEqual(before);
    expect(names('Ingress', WEEK1)).toEqual(['student-ann', 'student-ann--latest']);
  });

  test('the bundled roster cut short (head -c) is held back whole: nothing is pruned or changed', async () => {
    const bundled = readFileSync(join(ROOT, 'students/week-01.yaml'), 'utf8');
    const c = course({});
    c.repo.write('students/week-01.yaml', bundled).commit('the bundled week');
    expect((await c.once()).code).toBe(0);
    const before = api.list('Deployment', WEEK1);
    // Cut after mchen-dev's login (priya-r lost, which pruned her), then inside mchen-dev's port.
    for (const cut of ["    github_username: 'mchen-dev'", '    port: 80']) {
      c.repo.write('students/week-01.yaml', bundled.slice(0, bundled.indexOf(cut) + cut.length)).commit('cut');
      const run = await c.once();
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('0 created, 0 updated, 0 pruned');
      expect(run.stderr).toMatch(
        /students\/week-01\.yaml:\d+:\d+: The file does not end with a line break, as a file cut short would not/,
      );
      expect(api.list('Deployment', WEEK1)).toEqual(before);
    }
  });

  test('a roster cut after an entry’s image: the guard refuses the prunes, and the cut student is left as they run', async () => {
    const port = '    port: 8080\n';
    const five = ['ann', 'bo', 'cy', 'dee', 'eve'].map((login) => entry(login, undefined, port)).join('');
    const c = course({ 'students/week-01.yaml': five });
    await c.once();
    const portOf = (login: string) =>
      api.get('apps/v1', 'Deployment', WEEK1, `student-${login}`)!.spec.template.spec.containers[0].ports[0]
        .containerPort;
    // Cut at the end of Bo's image line: his port line and three classmates lost, and the file is valid YAML.
    c.write('students/week-01.yaml', entry('ann', undefined, port) + entry('bo')).commit('cut at a line end');
    const cut = await c.once();
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain('0 created, 0 updated, 0 pruned');
    expect(cut.stdout).toContain('its running students were left as they are');
    expect(names('Deployment', WEEK1)).toHaveLength(5);
    expect(portOf('bo')).toBe(8080);
    // Meant: the instructor says so once.
    expect((await c.once('--allow-mass-prune')).code).toBe(0);
    expect(portOf('bo')).toBe(5000);
    expect(names('Deployment', WEEK1)).toEqual(['student-ann', 'student-bo']);
  });

  test('a roster whose last entry was cut to `- n` prunes no one; fixed, the removal goes through', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') + entry('bo') + entry('cy') });
    await c.once();
    const whole = rosterText(entry('ann') + entry('bo') + entry('cy'), 1);
    // cy's entry reduced to `- n` (and the file saved again, with its final line break): it still parses.
    c.repo.write('students/week-01.yaml', `${whole.slice(0, whole.indexOf('  - name: "cy"') + 5)}\n`).commit('cut');
    const dryRun = await c.once('--dry-run');
    expect(dryRun.stdout).toContain(`  ! held: students/week-01.yaml:12: Entry 3 must be a mapping`);
    const cut = await c.once();
    expect(cut.stdout).toContain('0 pruned');
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain(
      `students/week-01.yaml:12: Entry 3 must be a mapping of \`key: value\` lines, but it is text. The entry could be what is left of a running student's, so nobody leaves ${WEEK1} until it is fixed or removed; kept for now: cy.`,
    );
    expect(names('Deployment', WEEK1)).toEqual(['student-ann', 'student-bo', 'student-cy']);
    c.write('students/week-01.yaml', entry('ann') + entry('bo')).commit('cy leaves');
    const fixed = await c.once();
    expect(fixed.code).toBe(0);
    expect(names('Deployment', WEEK1)).toEqual(['student-ann', 'student-bo']);
  });

  test('a file that cannot be read at all, under a name that says no week, protects every namespace', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') + entry('bo') });
    await c.once();
    c.repo.git('rm', '-q', 'students/week-01.yaml');
    c.repo.write('students/roster.yaml', 'students: [\n').commit('broken and renamed');
    const run = await c.once();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('0 pruned');
    expect(names('Deployment', WEEK1)).toEqual(['student-ann', 'student-bo']);
  });

  test('while week 1 is broken, a file that names week 1 cannot take its namespace; repaired, week 1 deploys again', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    await c.once();
    c.repo.write('students/week-01.yaml', 'students: [\n');
    c.write('students/extra.yaml', entry('eve'), 1).commit('break week 1, add a file for week 1');
    const broken = await c.once();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(
      `students/extra.yaml:3:1: Namespace ${WEEK1} holds the week of students/week-01.yaml`,
    );
    expect(names('Deployment', WEEK1)).toEqual(['student-ann']);
    const ann = () => api.get('apps/v1', 'Deployment', WEEK1, 'student-ann')!;
    expect(ann().metadata.annotations['classops.dev/source-file']).toBe('students/week-01.yaml');
    // Repaired with a change: the change deploys (the other file did not become the week's, and is the one refused).
    c.write('students/week-01.yaml', entry('ann', 'ghcr.io/ann/app:v2')).commit('repair week 1');
    const repaired = await c.once();
    expect(repaired.stderr).toContain(`students/extra.yaml:3:1: Namespace ${WEEK1} already holds the week of`);
    expect(ann().spec.template.spec.containers[0].image).toBe('ghcr.io/ann/app:v2');
  });

  test('two files claiming one namespace: the later one is refused the same way by validate, render and run, and nothing is pruned', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') + entry('bo') });
    await c.once();
    // A second file for week 1 (a copy under another name): both want container-course-week01.
    c.write('students/week-01.yaml', entry('ann')).write('students/week-01.yml', entry('cy'), 1).commit('copy');
    const expected = `students/week-01.yml:3:1: error namespace-conflict Namespace ${WEEK1} already holds the week of students/week-01.yaml`;
    const validate = await classopsAsync(['validate', 'students'], { cwd: c.repo.dir });
    const render = await classopsAsync(['render', 'students', '--out', '-'], { cwd: c.repo.dir });
    const run = await c.once();
    for (const [what, result] of [
      ['validate', validate.stdout],
      ['render', render.stderr],
    ] as const)
      expect([what, result.replace(/\s+/g, ' ')]).toEqual([what, expect.stringContaining(expected)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`students/week-01.yml:3:1: Namespace ${WEEK1} already holds the week of`);
    expect(run.stdout).toContain('0 pruned');
    expect(names('Deployment', WEEK1)).toEqual(['student-ann', 'student-bo']);
  });

  test('a roster cannot name another week’s namespace', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    c.repo
      .write(
        'students/week-02.yaml',
        rosterText(entry('bo'), 2).replace('  week: 2\n', `  week: 2\n  namespace: ${WEEK1}\n`),
      )
      .commit('week 2 into week 1');
    const run = await c.once();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`students/week-02.yaml:5:1: metadata.namespace "${WEEK1}" is not allowed for week 2`);
    expect(names('Deployment', WEEK1)).toEqual(['student-ann']);
  });
});

describe('what a PR could hide from validate (found by a hostile review)', () => {
  test('a `..`-named file is read by neither validate nor the git source, so it cannot take over a week', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') });
    await c.once();
    c.write('students/..x.yaml', entry('ann', 'ghcr.io/ann/app:evil') + entry('mallory'), 1).commit('hidden');
    const run = await c.once();
    expect(run.code).toBe(0);
    expect(names('Deployment', WEEK1)).toEqual(['student-ann']);
    expect(api.get('apps/v1', 'Deployment', WEEK1, 'student-ann')!.spec.template.spec.containers[0].image).toBe(
      'ghcr.io/ann/app:v1',
    );
  });

  test('a folder or a link named like a roster is an error in validate, as the git source will see it', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann') + entry('mallory') });
    c.repo.git('checkout', '-q', '-b', 'pr');
    mkdirSync(join(c.repo.dir, 'students/week-02.yaml'));
    writeFileSync(join(c.repo.dir, 'students/week-02.yaml/x'), 'x');
    c.repo.git('mv', 'students/week-01.yaml', 'students/real.txt');
    symlinkSync('real.txt', join(c.repo.dir, 'students/week-01.yaml'));
    c.commit('hide week 1 behind a link');
    const run = await classopsAsync(['validate', 'students', '--changed-since', 'main', '--author', 'mallory'], {
      cwd: c.repo.dir,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('students/week-02.yaml:1:1: error file-unreadable');
    expect(run.stdout).toContain('it is a folder, not a file');
    expect(run.stdout).toContain('students/week-01.yaml:1:1: error file-unreadable');
    expect(run.stdout).toContain('it is a symbolic link');
  });
});

describe('one login in two weeks', () => {
  test('each week has its own path; the plain path routes to the newest week only', async () => {
    const c = course({ 'students/week-01.yaml': entry('ann'), 'students/week-02.yaml': entry('ann') + entry('bo') });
    expect((await c.once()).code).toBe(0);
    const paths = (namespace: string) =>
      api
        .list('Ingress', namespace)
        .map((i) => i.spec.rules[0].http.paths[0].path as string)
        .sort();
    expect(paths(WEEK1)).toEqual(['/students/week01/ann(/|$)(.*)']);
    expect(paths(WEEK2)).toEqual([
      '/students/ann(/|$)(.*)',
      '/students/bo(/|$)(.*)',
      '/students/week02/ann(/|$)(.*)',
      '/students/week02/bo(/|$)(.*)',
    ]);
    // ann leaves week 2: the plain path moves back to week 1.
    c.write('students/week-02.yaml', entry('bo')).commit();
    expect((await c.once()).code).toBe(0);
    expect(paths(WEEK1)).toEqual(['/students/ann(/|$)(.*)', '/students/week01/ann(/|$)(.*)']);
  });
});

describe('the operator’s process', () => {
  /** ann's week 1, her image on `host` (allowed, whoever owns it), checked with a 120 s registry.timeout. */
  const courseOn = (host: string, image: string, options: Parameters<typeof course>[2] = {}) =>
    course(
      { 'students/week-01.yaml': entry('ann', `${host}/${image}`) },
      `policy:\n  allowedRegistries: ["${host}"]\n  imageOwnerMustMatchUsername: false\nregistry:\n  timeout: 120s\n`,
      options,
    );

  /** `classops run --once` for the course as a process: its exit code once it ends, and what it wrote to stderr. */
  function startOnce(c: CourseRepo) {
    const once = spawn(process.execPath, [CLI, 'run', '--once', '--config', c.config], {
      cwd: c.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => once.kill('SIGKILL'));
    let stderr = '';
    once.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => once.on('exit', (code) => resolve(code)));
    return { exited, stderr: () => stderr, kill: (signal: NodeJS.Signals) => once.kill(signal) };
  }

  test('SIGTERM while a pass waits on a registry that never answers: exits 0, writes nothing, releases the lease', async () => {
    const registry = await new FaultyRegistry().start();
    cleanup.push(() => registry.stop());
    const c = courseOn(registry.host, 'hang/app:v1', { leaderElection: true });
    const op = await RunningClassops.start(['--config', c.config], { cwd: c.dir });
    cleanup.push(() => op.stop('SIGKILL'));
    await waitFor(
      async () => registry.requests.some((r) => r.includes('/hang/')),
      20_000,
      'the image check to hang',
      () => op.output,
    );
    const lease = () => api.get('coordination.k8s.io/v1', 'Lease', 'default', 'classops');
    expect(lease()?.spec.holderIdentity).toEqual(expect.any(String));
    expect(await op.stop('SIGTERM')).toBe(0);
    expect(lease()?.spec.holderIdentity ?? null).toBeNull();
    const writes = api.writes();
    expect(writes.filter((w) => !w.includes('/leases'))).toEqual([]);
    expect(writes.at(-1)).toMatch(/^PUT .*\/leases\/classops/); // the release is the last write
  }, 60_000);

  test('run --once: SIGTERM while an image check hangs cancels the pass, writes nothing, exit 1', async () => {
    const registry = await new FaultyRegistry().start();
    cleanup.push(() => registry.stop());
    const once = startOnce(courseOn(registry.host, 'hang/app:v1'));
    await waitFor(async () => registry.requests.some((r) => r.includes('/hang/')), 20_000, 'the hanging check');
    once.kill('SIGTERM');
    expect(await once.exited).toBe(1);
    expect(once.stderr()).toContain('classops run: reconcile cancelled: stopped by SIGTERM');
    expect(api.writes()).toEqual([]);
  });

  /** A registry host that takes the connection and never says a word, not even TLS's first. */
  async function silentRegistry(): Promise<{ host: string; connections: () => number }> {
    let connections = 0;
    const server = createServer((socket) => {
      connections += 1;
      cleanup.push(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));
    return { host: `127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => connections };
  }

  // registry.timeout is 120 s and the test's own limit 30 s: the process must end when told, not when the connection gives up.
  test('run --once: SIGTERM while a registry accepts the connection and never answers: the process ends, exit 1', async () => {
    const registry = await silentRegistry();
    const once = startOnce(courseOn(registry.host, 'ann/app:v1'));
    await waitFor(async () => registry.connections() > 0, 20_000, 'the connection to the registry');
    once.kill('SIGTERM');
    expect(await once.exited).toBe(1);
    expect(once.stderr()).toContain('classops run: reconcile cancelled: stopped by SIGTERM');
    expect(api.writes()).toEqual([]);
  });

  test('the controller: SIGTERM while a registry accepts the connection and never answers: the process ends, exit 0', async () => {
    const registry = await silentRegistry();
    const c = courseOn(registry.host, 'ann/app:v1');
    const op = await RunningClassops.start(['--config', c.config], { cwd: c.dir });
    cleanup.push(() => op.stop('SIGKILL'));
    await waitFor(
      async () => registry.connections() > 0,
      20_000,
      'the connection to the registry',
      () => op.output,
    );
    expect(await op.stop('SIGTERM')).toBe(0);
    expect(api.writes()).toEqual([]);
  });

  test('run --once on the folder target: SIGTERM once the writes have begun stops them, exit 1', async () => {
    // Folder writes never wait on the network: the pass must still hear the signal between them.
    const dir = tempDir('classops-once-folder-');
    mkdirSync(join(dir, 'students'));
    const logins = Array.from({ length: 1000 }, (_, i) => `user${String(i).padStart(4, '0')}`);
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(logins.map((l) => entry(l)).join('')));
    const once = spawn(process.execPath, [CLI, 'run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { ...process.env, CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out/manifests' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => once.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    once.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    once.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => once.on('exit', (code) => resolve(code)));
    const written = () => {
      try {
        return readdirSync(join(dir, 'out/manifests', WEEK1), { recursive: true }).length;
      } catch {
        return 0;
      }
    };
    await waitFor(
      async () => written() > 0,
      20_000,
      'the first write',
      () => stdout + stderr,
    );
    once.kill('SIGTERM');
    expect(await exited).toBe(1);
    expect(stderr).toContain('classops run: reconcile cancelled: stopped by SIGTERM');
    expect(stdout).not.toContain('success at revision');
    expect(written()).toBeLessThan(logins.length); // a Deployment, a Service and routes per student: far from all
  }, 60_000);

  test('a busy port is an error at start (exit 2), not a silent controller', async () => {
    // Nothing to reconcile either way: the port is taken before any pass could start.
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as { port: number }).port;
    const c = course({ 'students/week-01.yaml': entry('ann') });
    const run = await classopsAsync(['run', '--no-image-checks', '--config', c.config], {
      cwd: c.dir,
      env: { CLASSOPS_SERVER_PORT: String(port), CLASSOPS_SERVER_HOST: '127.0.0.1' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`port ${port} is in use`);
    expect(api.writes()).toEqual([]);
  });

  test('run names the file in the way of its manifests folder, and writes nothing', async () => {
    const dir = tempDir('classops-file-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    writeFileSync(join(dir, 'out'), 'a file');
    const run = await classopsAsync(['run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out/manifests' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cluster.manifestsDir "out/manifests": ${join(dir, 'out')} is a file, not a folder`);
    expect(readdirSync(dir).sort()).toEqual(['out', 'students']);
  });

  test('run --once on a folder whose index is a FIFO ignores it instead of waiting for ever', () => {
    const dir = tempDir('classops-fifo-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    const once = () =>
      spawnSync(process.execPath, [CLI, 'run', '--once', '--no-image-checks'], {
        cwd: dir,
        encoding: 'utf8',
        // A read of a FIFO with no writer blocks even SIGTERM.
        timeout: 20_000,
        killSignal: 'SIGKILL',
      });
    expect(once().status).toBe(0);
    rmSync(join(dir, 'out/manifests/.classops-index.json'));
    execFileSync('mkfifo', [join(dir, 'out/manifests/.classops-index.json')]);
    const run = once();
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^success at revision \S+: 0 created, 0 updated, 0 pruned, \d+ unchanged\n$/);
  });

  test("run --once and --dry-run show a student's odd login escaped: it cannot forge a line on the terminal", async () => {
    const dir = tempDir('classops-forge-');
    mkdirSync(join(dir, 'students'));
    const forged = String.raw`eve\e[2K\rstudents/week-01.yaml:1:1: ann: forged\nx`;
    writeFileSync(
      join(dir, 'students/week-01.yaml'),
      rosterText(
        entry('ann') + `  - name: "Eve"\n    github_username: "${forged}"\n    container_image: "ghcr.io/eve/app:v1"\n`,
      ),
    );
    for (const mode of ['--once', '--dry-run']) {
      const run = await classopsAsync(['run', mode, '--no-image-checks'], { cwd: dir });
      const told = run.stderr + run.stdout;
      expect(told).toContain(
        String.raw`eve\u001b[2K\u000dstudents/week-01.yaml:1:1: ann: forged\u000ax: the entry has errors`,
      );
      expect([told.includes('\u001b'), told.includes('\r')]).toEqual([false, false]);
      expect(told.split('\n').filter((l) => l.includes('forged'))).toHaveLength(1);
    }
  });

  test('run --once on a folder whose index cannot be saved: the objects are written, and it says why it is slower', async () => {
    const dir = tempDir('classops-index-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    mkdirSync(join(dir, 'out/.classops-index.json'), { recursive: true }); // a folder where the index goes
    writeFileSync(join(dir, 'out/.classops-manifests'), '');
    const run = await classopsAsync(['run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^success at revision \S+: \d+ created, 0 updated, 0 pruned, 0 unchanged\n$/);
    expect(run.stderr).toContain(`could not save ${join(dir, 'out/.classops-index.json')} (`);
    expect(run.stderr).toContain('the object files are in place; the next pass tries again');
    expect(run.stderr).not.toContain('nothing was changed');
    expect(readdirSync(join(dir, 'out', WEEK1))).toContain('deployment-student-ann.yaml');
    expect(readdirSync(join(dir, 'out'), { recursive: true }).filter((f) => String(f).includes('.tmp-'))).toEqual([]);
  });

  test('run --once whose writes partly fail counts what was done, not what was planned', async () => {
    const dir = tempDir('classops-partial-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann') + entry('bo')));
    // A folder where ann's Deployment goes: that one write fails, the others go ahead.
    mkdirSync(join(dir, 'out', WEEK1, 'deployment-student-ann.yaml'), { recursive: true });
    writeFileSync(join(dir, 'out/.classops-manifests'), '');
    const run = await classopsAsync(['run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' },
    });
    expect(run.code).toBe(1);
    const planned = /: (\d+) created/.exec(run.stdout);
    const written = readdirSync(join(dir, 'out'), { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && f.name.endsWith('.yaml'),
    );
    expect(run.stdout).toMatch(/^partial at revision \S+: \d+ created, 0 updated, 0 pruned, 0 unchanged, 1 failed\n$/);
    expect(Number(planned?.[1])).toBe(written.length);
    expect(run.stderr).toContain(`deployment-student-ann.yaml`);
    expect(written.map((f) => f.name)).toContain('deployment-student-bo.yaml');
  });

  test('run --once puts back a file edited into a form other YAML readers read otherwise', async () => {
    const dir = tempDir('classops-form-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    const env = { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' };
    expect((await classopsAsync(['run', '--once', '--no-image-checks'], { cwd: dir, env })).code).toBe(0);
    const file = join(dir, 'out', WEEK1, 'deployment-student-ann.yaml');
    const written = readFileSync(file, 'utf8');
    // 5000 to classops' parser, 2560 to kubectl's (YAML 1.1): the named port would lead nowhere.
    writeFileSync(file, written.replace('containerPort: 5000', 'containerPort: 05000'));
    const run = await classopsAsync(['run', '--once', '--no-image-checks'], { cwd: dir, env });
    expect(run.stdout).toMatch(/: 0 created, 1 updated, 0 pruned, \d+ unchanged\n$/);
    expect(readFileSync(file, 'utf8')).toBe(written);
  });

  test('run refuses a manifests folder it did not make', async () => {
    const dir = tempDir('classops-foreign-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    mkdirSync(join(dir, 'important'));
    writeFileSync(join(dir, 'important/notes.txt'), 'keep me');
    const run = await classopsAsync(['run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'important' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('refusing to manage important: it is not empty and was not made by "classops run"');
    expect(readdirSync(join(dir, 'important'))).toEqual(['notes.txt']);
    const fresh = await classopsAsync(['run', '--once', '--no-image-checks'], {
      cwd: dir,
      env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' },
    });
    expect(fresh.code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).toContain('.classops-manifests');
  });
});

describe('self-heal covers every kind classops applies (issue 9)', () => {
  // Polling and resync an hour apart: only the watch can put things back within the test.
  const quiet = { pollInterval: '1h', resyncInterval: '1h' };
  async function operator(extraConfig: string) {
    const c = course({ 'students/week-01.yaml': entry('ann') }, extraConfig, quiet);
    const op = await RunningClassops.start(['--config', c.config, '--no-image-checks'], { cwd: c.dir });
    cleanup.push(() => op.stop('SIGKILL'));
    await op.waitForLog(/^reconciled /);
    return op;
  }
  const healed = (op: RunningClassops, what: string, check: () => boolean) =>
    waitFor(
      async () => check(),
      20_000,
      `${what} put back through the watch`,
      () => op.output,
    );

  test('a hand-edited Namespace and Traefik Middleware', async () => {
    const op = await operator('render:\n  routing:\n    rewrite: traefik\n    ingressClassName: traefik\n');
    const ns = api.get('v1', 'Namespace', undefined, WEEK1)!;
    api.put({
      ...ns,
      metadata: {
        ...ns.metadata,
        labels: { ...ns.metadata.labels, 'pod-security.kubernetes.io/enforce': 'privileged' },
      },
    });
    await healed(
      op,
      'the Namespace',
      () =>
        api.get('v1', 'Namespace', undefined, WEEK1)!.metadata.labels['pod-security.kubernetes.io/enforce'] ===
        'baseline',
    );
    const mw = api.get('traefik.io/v1alpha1', 'Middleware', WEEK1, 'classops-strip-student-prefix')!;
    api.put({ ...mw, spec: { stripPrefixRegex: { regex: ['^/'] } } });
    await healed(
      op,
      'the Middleware',
      () =>
        api.get('traefik.io/v1alpha1', 'Middleware', WEEK1, 'classops-strip-student-prefix')!.spec.stripPrefixRegex
          .regex[0] !== '^/',
    );
  }, 60_000);

  test('a hand-edited HTTPRoute', async () => {
    const op = await operator('render:\n  routing:\n    mode: httproute\n');
    const route = api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', WEEK1, 'student-ann')!;
    api.put({ ...route, spec: { ...route.spec, hostnames: ['evil.example.com'] } });
    await healed(
      op,
      'the HTTPRoute',
      () =>
        api.get('gateway.networking.k8s.io/v1', 'HTTPRoute', WEEK1, 'student-ann')!.spec.hostnames[0] ===
        'course.example.edu',
    );
  }, 60_000);
});
