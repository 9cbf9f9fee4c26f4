import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { childEnv, classops, classopsAsync, CLI, ROOT } from '../support/cli.js';
import { fixturePath, rosterText } from '../support/rosters.js';
import { tempDir } from '../support/temp.js';

const tmp = (prefix: string) => tempDir(prefix);
/** How every marker a render writes begins. */
const MARKER = 'Made by classops render; the folder is replaced on every run.\n';

/** Dates a path and what is directly in it two minutes back: scratch a render left that long ago. */
function aged(path: string): void {
  const then = new Date(Date.now() - 120_000);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) utimesSync(join(path, name), then, then);
  utimesSync(path, then, then);
}

describe('classops render', () => {
  test('--out DIR writes the week, a file per student and kustomizations; exit 0', () => {
    const out = join(tmp('classops-render-'), 'manifests');
    const run = classops(['render', '--out', out, '--revision', 'r1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`rendered 4 students in 1 namespace to ${out}\n`);
    expect(readdirSync(join(out, 'container-course-week01')).sort()).toEqual([
      'kustomization.yaml',
      'student-jlgore.yaml',
      'student-mchen-dev.yaml',
      'student-otajon99.yaml',
      'student-priya-r.yaml',
      'week.yaml',
    ]);
    expect(parse(readFileSync(join(out, 'kustomization.yaml'), 'utf8'))).toEqual({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['container-course-week01'],
    });
    const student = parseAllDocuments(readFileSync(join(out, 'container-course-week01/student-otajon99.yaml'), 'utf8'));
    expect((Array.isArray(student) ? student : []).map((d) => (d.toJS() as { kind: string }).kind)).toEqual([
      'Deployment',
      'Service',
      'Ingress',
      'Ingress',
    ]);
  });

  test('a week with more students than render.quota lets run is rendered, with a warning for the instructor', () => {
    const out = join(tmp('classops-render-'), 'manifests');
    const run = classops(['render', '--out', out], { env: { CLASSOPS_RENDER_QUOTA: '{"pods": "4"}' } });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      'classops render: warning: container-course-week01: its 4 students need pods 5 (a pod per student, one more for a rollout), but render.quota.pods is 4: the API server refuses what goes past it, so the apps, routes or next versions of some students will not start until an instructor raises it in classops.yaml.\n',
    );
    expect(readdirSync(join(out, 'container-course-week01'))).toContain('student-priya-r.yaml');
    expect(classops(['render', '--out', out], { env: { CLASSOPS_RENDER_QUOTA: '{"pods": "5"}' } }).stderr).toBe('');
  });

  test('rendering twice gives byte-identical files', () => {
    const a = join(tmp('classops-render-a-'), 'm');
    const b = join(tmp('classops-render-b-'), 'm');
    classops(['render', '--out', a]);
    classops(['render', '--out', b]);
    const file = 'container-course-week01/student-jlgore.yaml';
    expect(readFileSync(join(a, file))).toEqual(readFileSync(join(b, file)));
  });

  test('--out - streams documents; invalid entries are left out, reported as validate does, exit 1', () => {
    const run = classops(['render', '--out', '-', fixturePath('one-bad-among-good')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('week-01.yaml:12:11: error port-invalid');
    expect(run.stderr).toContain('fix: Write the port your app listens on');
    const docs = parseAllDocuments(run.stdout);
    const names = (Array.isArray(docs) ? docs : [])
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .filter((o) => o.kind === 'Deployment')
      .map((o) => o.metadata.name);
    expect(names).toEqual(['student-ann', 'student-cy']);
  });

  test('--out - of a large roster, written in batches, is byte for byte the files --out DIR writes, in order', async () => {
    const students = tmp('classops-large-');
    const entries = Array.from(
      { length: 600 },
      (_, i) =>
        `  - name: "Student ${i}"\n    github_username: "student-${i}"\n    container_image: "ghcr.io/student-${i}/app:v1"\n`,
    ).join('');
    writeFileSync(join(students, 'week-01.yaml'), rosterText(entries));
    const out = join(tmp('classops-large-out-'), 'm');
    expect(classops(['render', '--revision', 'r1', '--out', out, students]).code).toBe(0);
    const stream = await classopsAsync(['render', '--revision', 'r1', '--out', '-', students]);
    expect(stream.code).toBe(0);
    const week = join(out, 'container-course-week01');
    const order = (parse(readFileSync(join(week, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
    const files = order.map((file) => readFileSync(join(week, file), 'utf8')).join('');
    expect(files.length).toBeGreaterThan(3 << 20);
    expect(stream.stdout).toBe(files);
  });

  test('a broken file leaves the last render in place: nothing is written, rather than a tree without its week', () => {
    const students = join(tmp('classops-weeks-'), 'students');
    mkdirSync(students);
    writeFileSync(
      join(students, 'week-01.yaml'),
      rosterText(`  - name: "A"\n    github_username: "ann"\n    container_image: "ghcr.io/ann/app:v1"\n`),
    );
    writeFileSync(
      join(students, 'week-02.yaml'),
      rosterText(`  - name: "B"\n    github_username: "bo"\n    container_image: "ghcr.io/bo/app:v1"\n`, 2),
    );
    const out = join(tmp('classops-kept-weeks-'), 'out');
    expect(classops(['render', students, '--out', out]).code).toBe(0);
    writeFileSync(join(students, 'week-02.yaml'), 'students: [\n');
    const broken = classops(['render', students, '--out', out]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`nothing was written: ${join(students, 'week-02.yaml')} cannot be read`);
    expect(readdirSync(out).sort()).toEqual([
      '.classops-render',
      'container-course-week01',
      'container-course-week02',
      'kustomization.yaml',
    ]);
    expect(classops(['render', students, '--out', '-']).stdout).toBe('');
  });

  test('a broken file renders nothing for its week and says so', () => {
    const run = classops(['render', '--out', '-', fixturePath('broken-indent-entry')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error yaml-indentation');
    expect(run.stderr).toContain('0 of 0 entries will deploy');
  });

  test('--out naming a file, or a folder under a file, says so in words and writes nothing', () => {
    const dir = tmp('classops-file-');
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'mine');
    const onFile = classops(['render', '--out', file]);
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toBe(`classops render: --out ${file}: it is a file, not a folder\n`);
    const under = classops(['render', '--out', join(file, 'm')]);
    expect(under.code).toBe(2);
    expect(under.stderr).toBe(`classops render: --out ${join(file, 'm')}: ${file} is a file, not a folder\n`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  test('refuses to replace a folder it did not make; replaces its own, dropping removed students', () => {
    const foreign = tmp('classops-foreign-');
    writeFileSync(join(foreign, 'keep.txt'), 'mine');
    const refused = classops(['render', '--out', foreign]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty and was not made by "classops render"');
    expect(readFileSync(join(foreign, 'keep.txt'), 'utf8')).toBe('mine');

    const out = join(tmp('classops-own-'), 'm');
    expect(classops(['render', '--out', out]).code).toBe(0);
    const one = join(tmp('classops-one-'), 'students');
    mkdirSync(one);
    writeFileSync(join(one, 'week-01.yaml'), readFileSync(fixturePath('missing-optional')));
    expect(classops(['render', '--out', out, one]).code).toBe(0);
    expect(existsSync(join(out, 'container-course-week01/student-jlgore.yaml'))).toBe(false);
    expect(existsSync(join(out, 'container-course-week01/student-ann.yaml'))).toBe(true);
  });

  test('never replaces a folder of its own that now holds something else: a .git, a README, a link or FIFO as marker', () => {
    const out = join(tmp('classops-kept-'), 'manifests');
    expect(classops(['render', '--out', out]).code).toBe(0);
    // Someone commits the rendered folder as a repository of its own, and adds notes.
    mkdirSync(join(out, '.git'));
    writeFileSync(join(out, '.git/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(out, 'README.md'), 'notes');
    const refused = classops(['render', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `refusing to replace ${out}: it holds what "classops render" did not write (.git, README.md)`,
    );
    expect(readFileSync(join(out, '.git/HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');

    // A marker that is not a file is no marker: the folder is not classops'.
    const planted = tmp('classops-fifo-marker-');
    writeFileSync(join(planted, 'important.txt'), 'mine');
    execFileSync('mkfifo', [join(planted, '.classops-render')]);
    expect(classops(['render', '--out', planted]).code).toBe(2);
    expect(readFileSync(join(planted, 'important.txt'), 'utf8')).toBe('mine');

    // A link given as the folder is not replaced by a folder.
    const real = join(tmp('classops-real-'), 'real');
    expect(classops(['render', '--out', real]).code).toBe(0);
    const link = join(tmp('classops-link-'), 'link');
    symlinkSync(real, link);
    const linked = classops(['render', '--out', link]);
    expect(linked.code).toBe(2);
    expect(linked.stderr).toContain('it is a symbolic link; name the folder itself');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test('never replaces a file someone added among the rendered ones, not even one that looks rendered', () => {
    const out = join(tmp('classops-added-'), 'manifests');
    expect(classops(['render', '--out', out]).code).toBe(0);
    writeFileSync(join(out, 'container-course-week01/extra-configmap.yaml'), 'kind: ConfigMap\n');
    mkdirSync(join(out, 'container-course-week09'));
    writeFileSync(join(out, 'container-course-week09/notes.yaml'), 'kind: ConfigMap\n');
    const refused = classops(['render', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `refusing to replace ${out}: it holds what "classops render" did not write (container-course-week01/extra-configmap.yaml, container-course-week09)`,
    );
    expect(readFileSync(join(out, 'container-course-week01/extra-configmap.yaml'), 'utf8')).toBe('kind: ConfigMap\n');

    // What it wrote itself goes, as the marker says: a student removed from the roster, a hand edit.
    rmSync(join(out, 'container-course-week01/extra-configmap.yaml'));
    rmSync(join(out, 'container-course-week09'), { recursive: true });
    writeFileSync(join(out, 'container-course-week01/student-jlgore.yaml'), 'edited by hand\n');
    expect(classops(['render', '--out', out]).code).toBe(0);
    expect(readFileSync(join(out, 'container-course-week01/student-jlgore.yaml'), 'utf8')).toContain(
      'kind: Deployment',
    );
  });

  test('a folder rendered by an older classops (its marker lists no files) is judged by its shape', () => {
    const out = join(tmp('classops-older-'), 'manifests');
    mkdirSync(join(out, 'container-course-week01'), { recursive: true });
    writeFileSync(join(out, '.classops-render'), 'Made by classops render; the folder is replaced on every run.\n');
    writeFileSync(join(out, 'kustomization.yaml'), 'resources: []\n');
    writeFileSync(join(out, 'container-course-week01/student-gone.yaml'), 'kind: Deployment\n');
    writeFileSync(join(out, 'NOTES.md'), 'mine');
    expect(classops(['render', '--out', out]).stderr).toContain('did not write (NOTES.md)');
    rmSync(join(out, 'NOTES.md'));
    expect(classops(['render', '--out', out]).code).toBe(0);
    expect(existsSync(join(out, 'container-course-week01/student-gone.yaml'))).toBe(false);
    expect(readFileSync(join(out, '.classops-render'), 'utf8')).toContain('container-course-week01/week.yaml\n');
  });

  test("what a killed render left beside the folder is cleared; a running render's, and the user's folders, are not", () => {
    const parent = tmp('classops-staging-');
    const out = join(parent, 'manifests');
    const tree = (name: string) => {
      mkdirSync(join(parent, name, 'container-course-week01'), { recursive: true });
      writeFileSync(
        join(parent, name, '.classops-render'),
        'Made by classops render; the folder is replaced on every run.\n',
      );
      aged(join(parent, name));
    };
    // Renders killed while writing (their pids long gone; one as it made its folder), and one under way now.
    tree('manifests.classops-new-999999999-0badc0de');
    tree('manifests.classops-old-999999998-0badc0de');
    mkdirSync(join(parent, 'manifests.classops-new-999999996-0badc0de'));
    aged(join(parent, 'manifests.classops-new-999999996-0badc0de'));
    tree(`manifests.classops-new-${process.pid}-0badc0de`);
    tree('other.classops-new-999999999-0badc0de');
    // One a render in another container (the same pid there) may be writing: it changed a moment ago.
    mkdirSync(join(parent, 'manifests.classops-new-999999995-0badc0de'));
    writeFileSync(join(parent, 'manifests.classops-new-999999995-0badc0de/.classops-render'), MARKER);
    // Folders of the user's that look like a render's: no marker, or not a render's name.
    mkdirSync(join(parent, 'manifests.classops-old-999999997-0badc0de/notes'), { recursive: true });
    aged(join(parent, 'manifests.classops-old-999999997-0badc0de'));
    mkdirSync(join(parent, 'manifests.classops-2024'));
    writeFileSync(join(parent, 'manifests.classops-2024/grades.csv'), "last year's grades");
    mkdirSync(join(parent, 'manifests.classops-old-31337'));
    expect(classops(['render', '--out', out]).code).toBe(0);
    expect(classops(['render', '--out', out]).code).toBe(0);
    expect(readdirSync(parent).sort()).toEqual(
      [
        'manifests',
        `manifests.classops-new-${process.pid}-0badc0de`,
        'other.classops-new-999999999-0badc0de',
        'manifests.classops-old-999999997-0badc0de',
        'manifests.classops-new-999999995-0badc0de',
        'manifests.classops-2024',
        'manifests.classops-old-31337',
      ].sort(),
    );
    expect(readFileSync(join(parent, 'manifests.classops-2024/grades.csv'), 'utf8')).toBe("last year's grades");
  });

  test('reached through a link, the folder the command runs in is still replaced in place, and refused from below', () => {
    const base = tmp('classops-linked-');
    mkdirSync(join(base, 'real'));
    symlinkSync(join(base, 'real'), join(base, 'link'));
    const out = join(base, 'real/manifests');
    expect(classops(['render', '--out', out]).code).toBe(0);
    const before = statSync(out).ino;
    const linked = join(base, 'link/manifests');
    expect(classops(['render', '--out', linked, join(ROOT, 'students')], { cwd: linked }).code).toBe(0);
    expect(statSync(out).ino).toBe(before);
    const below = classops(['render', '--out', linked, join(ROOT, 'students')], {
      cwd: join(out, 'container-course-week01'),
    });
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('from inside one of its folders');
  });

  test('--out . replaces the contents of the folder the command runs in, which stays the same folder', () => {
    const out = join(tmp('classops-here-'), 'manifests');
    expect(classops(['render', '--out', out]).code).toBe(0);
    const before = statSync(out).ino;
    const one = join(tmp('classops-here-roster-'), 'students');
    mkdirSync(one);
    writeFileSync(join(one, 'week-01.yaml'), readFileSync(fixturePath('missing-optional')));
    const run = classops(['render', '--out', '.', one], { cwd: out });
    expect(run.code).toBe(0);
    // A shell in the folder sees the new render, not a folder swapped out from under it.
    expect(statSync(out).ino).toBe(before);
    expect(readdirSync(join(out, 'container-course-week01'))).toContain('student-ann.yaml');
    expect(existsSync(join(out, 'container-course-week01/student-jlgore.yaml'))).toBe(false);
    expect(readdirSync(out).filter((name) => /classops-(new|old|marker)-/.test(name))).toEqual([]);
    expect(readdirSync(dirname(out))).toEqual(['manifests']);
    // What an in-place render killed halfway left (its pid long gone) is cleared, not taken for someone's files.
    mkdirSync(join(out, '.classops-new-999999999-0badc0de/container-course-week01'), { recursive: true });
    writeFileSync(join(out, '.classops-new-999999999-0badc0de/.classops-render'), MARKER);
    mkdirSync(join(out, '.classops-old-999999998-0badc0de'));
    writeFileSync(join(out, '.classops-marker-999999997-0badc0de'), `${MARKER}Files it wrote:\nkustom`);
    for (const name of ['new-999999999', 'old-999999998', 'marker-999999997'])
      aged(join(out, `.classops-${name}-0badc0de`));
    // One whose pid runs (reused, as pid 1 is in every container) is left, and blocks nothing.
    mkdirSync(join(out, `.classops-old-${process.pid}-0badc0de`));
    expect(classops(['render', '--out', '.', join(ROOT, 'students')], { cwd: out })).toMatchObject({
      code: 0,
      stderr: '',
    });
    expect(
      readdirSync(out)
        .filter((name) => name.startsWith('.'))
        .sort(),
    ).toEqual(['.classops-render', `.classops-old-${process.pid}-0badc0de`].sort());
    // And the next render into it from outside is as into any folder of its own.
    expect(classops(['render', '--out', out])).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(out, 'container-course-week01/student-jlgore.yaml'))).toBe(true);
    // From a week folder inside it, the render would leave the caller in a folder it removed.
    const inside = classops(['render', '--out', '..', join(ROOT, 'students')], {
      cwd: join(out, 'container-course-week01'),
    });
    expect(inside).toMatchObject({ code: 2, stdout: '' });
    expect(inside.stderr).toContain('from inside one of its folders');
    // Folders of the user's that only look like classops' are theirs: the render stops, nothing is deleted.
    for (const name of ['.classops-2024', '.classops-old-999999994-deadbeef', '.classops-new-999999993-deadbeef']) {
      mkdirSync(join(out, name));
      writeFileSync(join(out, name, 'notes.yaml'), 'mine');
      // Even with a copy of a render's marker beside what is theirs.
      if (name.includes('999999993')) writeFileSync(join(out, name, '.classops-render'), MARKER);
      aged(join(out, name));
      expect(classops(['render', '--out', out]).stderr).toContain(`did not write (${name})`);
      expect(readFileSync(join(out, name, 'notes.yaml'), 'utf8')).toBe('mine');
      rmSync(join(out, name), { recursive: true });
    }
    // A file named as a render's marker in the making that is no marker.
    writeFileSync(join(out, '.classops-marker-999999992-deadbeef'), 'my notes');
    aged(join(out, '.classops-marker-999999992-deadbeef'));
    expect(classops(['render', '--out', out]).stderr).toContain('did not write (.classops-marker-999999992-deadbeef)');
    expect(readFileSync(join(out, '.classops-marker-999999992-deadbeef'), 'utf8')).toBe('my notes');
    rmSync(join(out, '.classops-marker-999999992-deadbeef'));
    expect(existsSync(join(out, 'container-course-week01/student-jlgore.yaml'))).toBe(true);
  });

  test('a mount point as --out is filled and replaced in place (it cannot be renamed)', () => {
    const out = tmp('classops-mount-');
    const other = join(tmp('classops-mount-roster-'), 'students');
    mkdirSync(other);
    writeFileSync(join(other, 'week-01.yaml'), readFileSync(fixturePath('missing-optional')));
    // A mount namespace of the test's own: the tmpfs is gone when the shell ends.
    const script = [
      'mount -t tmpfs classops-test "$1"',
      '"$5" "$2" render --out "$1" "$3" || exit 11',
      '"$5" "$2" render --out "$1" "$4" || exit 12',
      'cd "$1" && find . | sort',
    ].join(' && ');
    const run = spawnSync(
      'unshare',
      ['-rm', 'sh', '-c', script, 'sh', out, CLI, join(ROOT, 'students'), other, process.execPath],
      {
        encoding: 'utf8',
        env: childEnv(),
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const listing = run.stdout.split('\n').filter((line) => line.startsWith('./'));
    expect(listing).toContain('./container-course-week01/student-ann.yaml');
    expect(listing).not.toContain('./container-course-week01/student-jlgore.yaml');
    expect(listing.filter((path) => /classops-(new|old|marker)-/.test(path))).toEqual([]);
    expect(listing).toContain('./.classops-render');
  });

  test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s while the folder is being replaced: the swap ends first, no scratch is left, and the render dies of it',
    async (signal) => {
      const students = tmp('classops-signal-');
      const entries = Array.from(
        { length: 2000 },
        (_, i) => `  - name: "S ${i}"\n    github_username: "s-${i}"\n    container_image: "ghcr.io/s-${i}/app:v1"\n`,
      ).join('');
      writeFileSync(join(students, 'week-01.yaml'), rosterText(entries));
      const parent = tmp('classops-signal-out-');
      const out = join(parent, 'm');
      expect(classops(['render', '--out', out, students]).code).toBe(0);
      const child = spawn(process.execPath, [CLI, 'render', '--out', out, students], { env: childEnv() });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
      // The moment the new tree starts beside the folder, the render is inside the swap.
      const watcher = watch(parent, (_event, name) => {
        if (String(name).startsWith('m.classops-new-')) child.kill(signal);
      });
      const [code, killedBy] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      watcher.close();
      expect({ code, killedBy }).toEqual({ code: null, killedBy: signal });
      expect(stderr).toContain(`classops render: stopped by ${signal}, once ${out} was whole again`);
      expect(readdirSync(parent)).toEqual(['m']);
      const marker = readFileSync(join(out, '.classops-render'), 'utf8');
      const listed = marker.split('\n').filter((line) => line.endsWith('.yaml'));
      expect(listed).toHaveLength(2003);
      for (const file of listed) expect(existsSync(join(out, file))).toBe(true);
    },
  );

  test('--out is required, and not empty', () => {
    for (const args of [['render'], ['render', '--out', '']]) {
      const run = classops(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--out DIR or --out - is required');
    }
  });
});
