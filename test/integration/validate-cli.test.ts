import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, classops, CLI } from '../support/cli.js';
import { GitRepo } from '../support/git.js';
import { fixturePath, rosterText } from '../support/rosters.js';
import { tempDir } from '../support/temp.js';

const entry = (name: string, login: string, image = `ghcr.io/${login.toLowerCase()}/app:v1`) =>
  `  - name: "${name}"\n    github_username: "${login}"\n    container_image: "${image}"\n`;

describe('classops validate on the bundled roster', () => {
  test('the sample roster is valid and exits 0', () => {
    const run = classops(['validate']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('✔ students/week-01.yaml: 4 entries, all valid');
    expect(run.stdout).toContain('0 errors, 0 warnings in 1 file; 4 of 4 entries will deploy.');
  });

  test('errors exit 1 and show the line, a caret under the column, and the fix', () => {
    const run = classops(['validate', fixturePath('image-owner')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('week-01.yaml:8:22: error image-owner-mismatch');
    expect(run.stdout).toContain(
      '    8 |     container_image: "ghcr.io/jlgore/container-course-student:v1"\n      |                      ^',
    );
    expect(run.stdout).toContain('fix: Push the image under your account');
    expect(run.stdout).not.toContain('\u001b['); // no colour when not a terminal
  });

  test("a key that is a list is the roster's error, and nothing from the YAML parser reaches the terminal", () => {
    const run = classops(['validate', fixturePath('collection-key')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error yaml-complex-key');
    expect(run.stderr).toBe('');
  });

  test('warnings alone exit 0', () => {
    expect(classops(['validate', fixturePath('image-latest')]).code).toBe(0);
  });

  test('a missing path or an unknown format is a usage error, exit 2', () => {
    const missing = classops(['validate', 'no/such/folder']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no/such/folder: no such file or folder');
    const format = classops(['validate', '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('unknown --format "xml"');
    expect(classops(['validate', '--bogus']).code).toBe(2);
  });

  test('a roster folder classops may not read is said so in words, for validate and run', () => {
    const course = tempDir('classops-denied-');
    chmodSync(course, 0o755);
    mkdirSync(join(course, 'students'));
    writeFileSync(join(course, 'students/week-01.yaml'), rosterText(entry('Ann', 'ann')));
    chmodSync(join(course, 'students'), 0o000);
    try {
      // As a user the folder shuts out (root reads anything): nobody, when the tests run as root.
      const asUser = (args: string[], env: NodeJS.ProcessEnv = {}) => {
        const command = [process.execPath, CLI, ...args];
        const [file, ...rest] =
          process.getuid?.() === 0
            ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...command]
            : command;
        return spawnSync(file!, rest, { cwd: course, encoding: 'utf8', env: childEnv(env) });
      };
      const validate = asUser(['validate', 'students']);
      expect(validate.status).toBe(2);
      expect(validate.stderr).toContain(
        'students: classops is not allowed to list this folder (permission denied); give the user it runs as read and search permission on it',
      );
      const run = asUser(['run', '--once', '--no-image-checks']);
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('reconcile failed, nothing was changed: students: classops is not allowed to list');
      // A folder above the roster folder that shuts classops out.
      chmodSync(join(course, 'students'), 0o755);
      mkdirSync(join(course, 'shut/students'), { recursive: true });
      chmodSync(join(course, 'shut'), 0o700);
      const hint =
        'classops is not allowed to look at it (permission denied); give the user it runs as read and search permission on it and the folders above it';
      const below = asUser(['validate', 'shut/students']);
      expect(below.status).toBe(2);
      expect(below.stderr).toContain(`shut/students: ${hint}`);
      const runBelow = asUser(['run', '--once', '--no-image-checks'], { CLASSOPS_SOURCE_PATH: 'shut/students' });
      expect(runBelow.stderr).toContain(`reconcile failed, nothing was changed: shut/students: ${hint}`);
    } finally {
      chmodSync(join(course, 'students'), 0o755);
    }
  });

  test('run inside students/, it says the default rules apply and where the course config is', () => {
    const dir = tempDir('classops-sub-');
    writeFileSync(join(dir, 'classops.yaml'), 'policy:\n  instructors: [prof]\n');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('Ann', 'ann')));
    const inside = classops(['validate', 'week-01.yaml'], { cwd: join(dir, 'students') });
    expect(inside.code).toBe(0);
    expect(inside.stderr).toBe(
      "classops validate: no classops.yaml here, so the default rules apply; the course's may be ../classops.yaml: run from .., or pass --config ../classops.yaml\n",
    );
    expect(classops(['validate'], { cwd: dir }).stderr).toBe('');
    // A repository below that classops.yaml is another project: the note stops at its root.
    const repo = join(dir, 'other');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(join(repo, 'students'));
    writeFileSync(join(repo, 'students/week-01.yaml'), rosterText(entry('Ann', 'ann')));
    expect(classops(['validate', 'week-01.yaml'], { cwd: join(repo, 'students') }).stderr).toBe('');
    expect(classops(['validate'], { cwd: repo }).stderr).toBe('');
    expect(
      classops(['validate', '--config', '../classops.yaml', 'week-01.yaml'], { cwd: join(dir, 'students') }).stderr,
    ).toBe('');
  });

  test('terminal control codes a student wrote are shown, not executed', () => {
    const dir = tempDir('classops-esc-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('Eve \u001b[2J', 'eve') + '    port: 0\n'));
    const run = classops(['validate', dir]);
    expect(run.stdout).not.toContain('\u001b[2J');
    expect(run.stdout).toContain('\\u001b[2J');
  });

  test('a file name with control codes or direction marks is shown escaped, in every format', () => {
    const dir = tempDir('classops-name-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('Ann', 'ann')));
    writeFileSync(join(dir, 'x\u001b]0;PWNED\u0007\u202eRED.yaml'), 'students: []\n');
    for (const format of ['text', 'github', 'markdown']) {
      const run = classops(['validate', '--format', format, dir]);
      // Markdown escapes the backslashes and the bracket once more.
      expect(run.stdout).toMatch(/x\\+u001b\\?\]0;PWNED\\+u0007\\+u202eRED\.yaml/);
      // eslint-disable-next-line no-control-regex -- the control characters must not be there
      expect(run.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    }
  });

  test('direction marks in an echoed line are shown as escapes, in every format, and the caret still points', () => {
    const dir = tempDir('classops-bidi-');
    // U+202E reverses what follows on a screen; U+200B draws nothing. One line holds both, so
    // the login's caret comes after an escape that widens the line. (A raw U+2028, a line
    // break to some readers, holds the whole file back: file-unicode-line-break.)
    const line =
      '  - { name: "Eve \u202e1v:ppa", github_username: "eve\u200b", container_image: "ghcr.io/eve/app:v1" }';
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(`${line}\n`));
    for (const format of ['text', 'github', 'markdown']) {
      const run = classops(['validate', '--format', format, dir]);
      expect(run.code).toBe(1);
      expect(run.stdout).not.toMatch(/[\u202e\u200b]/);
    }
    const out = classops(['validate', dir]).stdout.split('\n');
    const shown = line.replace('\u202e', '\\u202e').replace('\u200b', '\\u200b');
    const echoes = out.flatMap((l, i) => (l.endsWith(` | ${shown}`) ? [i] : []));
    expect(echoes).toHaveLength(2); // the name's finding and the login's
    const carets = echoes.map((i) => out[i + 1]!.indexOf('^') - out[i]!.indexOf(' | ') - ' | '.length);
    expect(carets).toEqual([shown.indexOf('"Eve'), shown.indexOf('"eve')]);
  });
});

describe('output formats', () => {
  test('json lists files, entries and findings with positions', () => {
    const run = classops(['validate', '--format', 'json', fixturePath('one-bad-among-good')]);
    expect(run.code).toBe(1);
    const out = JSON.parse(run.stdout);
    expect(out.summary).toEqual({ files: 1, entries: 3, validEntries: 2, errors: 1, warnings: 0, notes: 0 });
    expect(
      out.files[0].entries.map((e: { githubUsername: string; valid: boolean }) => [e.githubUsername, e.valid]),
    ).toEqual([
      ['ann', true],
      ['bo', false],
      ['cy', true],
    ]);
    expect(out.files[0].findings[0]).toMatchObject({
      code: 'port-invalid',
      severity: 'error',
      line: 12,
      column: 11,
      entryIndex: 1,
    });
  });

  test('github prints workflow annotations with escaped data and writes a step summary', () => {
    const dir = tempDir('classops-gh-');
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const run = classops(['validate', '--format', 'github', fixturePath('injection')], {
      env: { GITHUB_STEP_SUMMARY: summary },
    });
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('::error ')).length).toBe(7);
    const username = lines.find((l) => l.includes('username-invalid'))!;
    expect(username).toMatch(
      /^::error file=.*week-01\.yaml,line=12,col=22,title=classops username-invalid::"bo\\n- name: evil" is not a valid GitHub username/,
    );
    expect(username).toContain('%0AFix: ');
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('### ❌ classops: 7 errors, 0 warnings in 1 file; 0 of 3 entries will deploy.');
  });

  test('markdown escapes what students wrote, so it cannot become links, mentions or HTML', () => {
    const dir = tempDir('classops-md-');
    writeFileSync(
      join(dir, 'week-01.yaml'),
      rosterText(
        entry('x', '@octocat') + entry('<img src=x onerror=alert(1)>|[a](http://evil)', 'bo') + '    port: 0\n',
      ),
    );
    const run = classops(['validate', '--format', 'markdown', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/<img|\]\(http|@octocat/);
    expect(run.stdout).toContain('@\u200b');
    expect(run.stdout).toMatch(/^\| ❌ \| .*week-01\.yaml line \d+ \| /m);
  });
});

describe('limits come from config and are enforced without hanging', () => {
  test('a 20 MiB file is refused unread', () => {
    const dir = tempDir('classops-big-');
    const text = rosterText(`  - name: "${'x'.repeat(20 * 1024 * 1024)}"\n`);
    writeFileSync(join(dir, 'week-01.yaml'), text);
    const run = classops(['validate', '--format', 'json', dir]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).files[0].findings[0]).toMatchObject({
      code: 'file-unreadable',
      message: `classops does not read this file: it is ${Buffer.byteLength(text)} bytes, more than the 1048576 allowed.`,
      line: 1,
    });
  });

  test('maxEntries from a config file, and from the environment', () => {
    const dir = tempDir('classops-limit-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('A', 'aa') + entry('B', 'bb') + entry('C', 'cc')));
    const config = join(tempDir('classops-cfg-'), 'classops.yaml');
    writeFileSync(config, 'policy:\n  limits:\n    maxEntries: 2\n');
    const fromFile = classops(['validate', '--config', config, dir]);
    expect(fromFile.code).toBe(1);
    expect(fromFile.stdout).toContain('The file has 3 entries; at most 2 are allowed.');
    const fromEnv = classops(['validate', dir], { env: { CLASSOPS_POLICY_LIMITS_MAX_ENTRIES: '2' } });
    expect(fromEnv.stdout).toContain('at most 2 are allowed');
    expect(classops(['validate', dir]).code).toBe(0);
  });

  test('an invalid config is a clear usage error', () => {
    const dir = tempDir('classops-badcfg-');
    writeFileSync(join(dir, 'classops.yaml'), 'policy:\n  allowedRegistries: ghcr.io\n');
    const run = classops(['validate', '--config', join(dir, 'classops.yaml'), fixturePath('missing-optional')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid configuration');
    expect(run.stderr).toContain('/policy/allowedRegistries must be array');
    // A config that is no file (a link to /dev/zero, which a pull request can plant) is refused unread.
    symlinkSync('/dev/zero', join(dir, 'endless.yaml'));
    const endless = classops(['validate', '--config', join(dir, 'endless.yaml'), fixturePath('missing-optional')]);
    expect(endless.code).toBe(2);
    expect(endless.stderr).toContain('endless.yaml: it is a device, not a regular file');
  });
});

describe('a pull request is judged on what it changes (real git)', () => {
  function repoWithRoster(): { repo: GitRepo; base: string } {
    const repo = new GitRepo();
    repo.write(
      'students/week-01.yaml',
      rosterText(entry('Ann', 'ann') + entry('Old Mistake', 'bo', 'ghcr.io/bo/app') + entry('Cy', 'cy')),
    );
    return { repo, base: repo.commit('week 1') };
  }

  test('a new valid entry passes even though an untouched entry is broken; the old problem is a note', () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', text + entry('Dee', 'Dee-99'));
    repo.commit('add dee');
    const run = classops(['validate', '--changed-since', base, '--author', 'dee-99', '--format', 'json', 'students'], {
      cwd: repo.dir,
    });
    expect(run.code).toBe(0);
    const findings = JSON.parse(run.stdout).files[0].findings;
    expect(findings).toEqual([expect.objectContaining({ code: 'image-tag-missing', severity: 'note', line: 11 })]);
  });

  test('padding the file (in comments of their own entry too) fails the check; one entry with notes passes', () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    const notes = '    # my notes\n'.repeat(20); // 300 bytes: an entry with comments is still well within
    repo.write('students/week-01.yaml', text + entry('Dee', 'dee') + notes);
    expect(classops(['validate', '--changed-since', base, '--author', 'dee', 'students'], { cwd: repo.dir }).code).toBe(
      0,
    );
    const padding = `    # ${'x'.repeat(100)}\n`.repeat(60); // 6 KB nobody needs, left to crowd out classmates
    repo.write('students/week-01.yaml', text + entry('Dee', 'dee') + padding);
    const run = classops(['validate', '--changed-since', base, '--author', 'dee', 'students'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /error author-file-growth\n.*grows "students\/week-01\.yaml" by \d+ bytes; a student's change may add at most 4096/,
    );
    const instructor = classops(['validate', '--changed-since', base, '--author', 'prof', 'students'], {
      cwd: repo.dir,
      env: { CLASSOPS_POLICY_INSTRUCTORS: 'prof' },
    });
    expect(instructor.code).toBe(0);
  });

  test('a checkout or editor that turns LF into CRLF grows nothing a student wrote', () => {
    const repo = new GitRepo();
    const many = Array.from({ length: 1500 }, (_, i) => entry(`S${i}`, `s${i}`)).join(''); // 4 500 lines
    repo.write('students/week-01.yaml', rosterText(many));
    const base = repo.commit('a big week');
    repo.write('students/week-01.yaml', rosterText(many + entry('Dee', 'dee')).replace(/\n/g, '\r\n'));
    const run = classops(['validate', '--changed-since', base, '--author', 'dee', 'students'], { cwd: repo.dir });
    expect(run.stdout).not.toContain('author-file-growth');
    expect(run.code).toBe(0);
  });

  test('the changed entry fails the check with its own error', () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', text.replace('ghcr.io/cy/app:v1', 'ghcr.io/someone-else/app:v1'));
    const run = classops(['validate', '--changed-since', base, '--author', 'cy', 'students'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error image-owner-mismatch');
    expect(run.stdout).toContain('note image-tag-missing');
  });

  test("editing someone else's entry fails with author-mismatch; an instructor may", () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', text.replace('name: "Ann"', 'name: "Ann Hacked"'));
    const run = classops(['validate', '--changed-since', base, '--author', 'mallory', 'students'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('This pull request by "mallory" changes the entry of "ann".');
    // The PR cannot make its author an instructor: the base's rules judge it.
    repo.write('classops.yaml', 'policy:\n  instructors: [Prof-X]\n');
    repo.git('add', 'classops.yaml');
    const selfMade = classops(['validate', '--changed-since', base, '--author', 'prof-x', 'students'], {
      cwd: repo.dir,
    });
    expect(selfMade.code).toBe(1);
    expect(selfMade.stdout).toContain('error config-changed');
    repo.git('commit', '-q', '-m', 'rules');
    const rules = repo.git('rev-parse', 'HEAD');
    expect(
      classops(['validate', '--changed-since', rules, '--author', 'prof-x', 'students'], { cwd: repo.dir }).code,
    ).toBe(0);
  });

  test("removing another student's entry fails; removing your own passes", () => {
    const { repo, base } = repoWithRoster();
    repo.write('students/week-01.yaml', rosterText(entry('Old Mistake', 'bo', 'ghcr.io/bo/app') + entry('Cy', 'cy')));
    const other = classops(['validate', '--changed-since', base, '--author', 'cy', 'students'], { cwd: repo.dir });
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('removes the entry of "ann" (line 6 before the change)');
    expect(classops(['validate', '--changed-since', base, '--author', 'ann', 'students'], { cwd: repo.dir }).code).toBe(
      0,
    );
  });

  test("a verbatim copy of a classmate's entry is one the PR adds: it fails, wherever it is put", () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    // The copy would make both of Ann's entries duplicates, and neither would deploy after the merge.
    repo.write('students/week-01.yaml', text + entry('Ann', 'ann'));
    const after = classops(['validate', '--changed-since', base, '--author', 'mallory', 'students'], {
      cwd: repo.dir,
    });
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(
      'week-01.yaml:15:1: error author-mismatch\n    This pull request by "mallory" adds another entry of "ann".',
    );
    expect(after.stdout).toContain('week-01.yaml:16:22: error username-duplicate');
    expect(after.stdout).toContain('week-01.yaml:7:22: note username-duplicate'); // Ann's own entry is not the PR's
    // Without an author, the copy is still the PR's own change, and its duplicate an error.
    const anonymous = classops(['validate', '--changed-since', base, 'students'], { cwd: repo.dir });
    expect(anonymous.code).toBe(1);
    expect(anonymous.stdout).toContain('week-01.yaml:16:22: error username-duplicate');

    const [head, ...rest] = text.split('  - name: "Ann"');
    repo.write('students/week-01.yaml', head + entry('Ann', 'ann') + ['  - name: "Ann"', ...rest].join(''));
    const before = classops(['validate', '--changed-since', base, '--author', 'mallory', 'students'], {
      cwd: repo.dir,
    });
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('This pull request by "mallory" adds another entry of "ann".');
  });

  test("removing one of a classmate's duplicated entries fails; the student may remove their own", () => {
    const repo = new GitRepo();
    const twice = entry('Ann', 'ann') + entry('Ann', 'ann');
    repo.write('students/week-01.yaml', rosterText(twice + entry('Cy', 'cy')));
    const base = repo.commit('ann twice');
    repo.write('students/week-01.yaml', rosterText(entry('Ann', 'ann') + entry('Cy', 'cy')));
    const other = classops(['validate', '--changed-since', base, '--author', 'cy', 'students'], { cwd: repo.dir });
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('removes the entry of "ann" (line 9 before the change)');
    expect(other.stdout.match(/error author-removed-entry/g)).toHaveLength(1);
    expect(classops(['validate', '--changed-since', base, '--author', 'ann', 'students'], { cwd: repo.dir }).code).toBe(
      0,
    );
  });

  const asMallory = (repo: GitRepo, base: string) =>
    classops(['validate', '--changed-since', base, '--author', 'mallory', 'students'], { cwd: repo.dir });

  test("a change outside the roster files is an instructor's: .gitattributes, a workflow, a subfolder, a link", () => {
    const { repo, base } = repoWithRoster();
    // working-tree-encoding would make the checkout CI judges differ from the blob the controller deploys.
    repo.write('students/.gitattributes', 'week-01.yaml working-tree-encoding=ASCII//TRANSLIT\n');
    repo.write('.github/workflows/check.yml', 'on: push\n');
    mkdirSync(join(repo.dir, 'students/sub'));
    repo.write('students/sub/week-01.yaml', readFileSync(join(repo.dir, 'students/week-01.yaml')));
    symlinkSync('sub', join(repo.dir, 'students/week-03.yml'));
    repo.commit('other files');
    const run = asMallory(repo, base);
    expect(run.code).toBe(1);
    for (const line of [
      'students/.gitattributes:1:1: error author-other-file\n    This pull request by "mallory" adds "students/.gitattributes"; students change only their own entry, in a roster file.',
      'This pull request by "mallory" adds ".github/workflows/check.yml"',
      'This pull request by "mallory" adds "students/sub/week-01.yaml"',
      'This pull request by "mallory" adds "students/week-03.yml" as a symbolic link',
    ])
      expect(run.stdout).toContain(line);
    const plain = classops(['validate', 'students'], { cwd: repo.dir });
    expect(plain.stdout).toContain('it is a symbolic link to a folder, not a file');
    expect(plain.code).toBe(1);
    rmSync(join(repo.dir, 'students/week-03.yml'));
    repo.commit('no link');
    const instructor = classops(['validate', '--changed-since', base, '--author', 'prof', 'students'], {
      cwd: repo.dir,
      env: { CLASSOPS_POLICY_INSTRUCTORS: 'prof' },
    });
    expect(instructor.stdout).not.toContain('author-other-file');
    expect(instructor.code).toBe(0);
  });

  test('a roster folder replaced by a link fails, and nothing behind the link is read', () => {
    const { repo, base } = repoWithRoster();
    const outside = tempDir('classops-outside-');
    writeFileSync(join(outside, 'week-01.yaml'), 'secret: runner-token-1234\n');
    rmSync(join(repo.dir, 'students'), { recursive: true });
    symlinkSync(outside, join(repo.dir, 'students'));
    repo.commit('folder is a link');
    const run = asMallory(repo, base);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('This pull request by "mallory" adds "students" as a symbolic link');
    expect(run.stdout).toContain('This pull request by "mallory" deletes "students/week-01.yaml"');
    expect(run.stdout).not.toContain('runner-token-1234');
    // Without --changed-since too, named with a trailing slash too: the folder is refused unread.
    for (const path of ['students', 'students/']) {
      const plain = classops(['validate', path], { cwd: repo.dir });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toContain('it is a symbolic link; classops judges a roster folder only where it is');
      expect(plain.stdout).not.toContain('runner-token-1234');
    }
    // A link higher in the path leads out of the working folder just the same.
    mkdirSync(join(outside, 'students'));
    writeFileSync(join(outside, 'students/week-01.yaml'), 'secret: runner-token-1234\n');
    symlinkSync(outside, join(repo.dir, 'course'));
    const deeper = classops(['validate', 'course/students'], { cwd: repo.dir });
    expect(deeper.code).toBe(1);
    expect(deeper.stdout).toContain('a symbolic link in its path leads out of the working folder');
    expect(deeper.stdout).not.toContain('runner-token-1234');
  });

  test('a config replaced by a link is a config change, never read', () => {
    const { repo, base } = repoWithRoster();
    const outside = join(tempDir('classops-outside-'), 'group');
    writeFileSync(outside, 'wheel:x:10:runner-secret\n');
    symlinkSync(outside, join(repo.dir, 'classops.yaml'));
    repo.commit('config link');
    const run = asMallory(repo, base);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('This pull request by "mallory" adds "classops.yaml", the course\'s rules');
    expect(run.stdout + run.stderr).not.toContain('runner-secret');
  });

  test("a file with errors at the base is an instructor's to change; an untouched one stays a note", () => {
    const { repo } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    const broken = text + '    - name: "Dee"\n      github_username: "dee"\n';
    repo.write('students/week-01.yaml', broken);
    const base = repo.commit('a merged typo');
    repo.write('students/week-01.yaml', broken.replace('ghcr.io/ann/app:v1', 'ghcr.io/mallory/app:v1'));
    const run = asMallory(repo, base);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'error author-broken-base\n    This pull request by "mallory" changes "students/week-01.yaml", which has errors at the base revision',
    );
    repo.write('students/week-01.yaml', broken);
    repo.write('students/week-02.yaml', rosterText(entry('Mallory', 'mallory'), 2));
    const elsewhere = asMallory(repo, base);
    expect(elsewhere.stdout).not.toContain('author-broken-base');
    expect(elsewhere.stdout).toContain('note yaml-indentation');
  });

  test("a classmate's old entry without a login is not the PR's; deleting a file with any name is seen", () => {
    const repo = new GitRepo();
    const noLogin = '  - name: "Carl"\n    container_image: "ghcr.io/carl/app:v1"\n';
    // Before Mallory's: last in the file, it would make the file look cut short (an instructor's to repair).
    repo.write('students/week-01.yaml', rosterText(noLogin + entry('Mallory', 'mallory')));
    repo.write('students/séminaire "1".yaml', rosterText(entry('Ann', 'ann'), 2));
    const base = repo.commit('base');
    repo.write('students/week-01.yaml', rosterText(noLogin + entry('Mallory', 'mallory', 'ghcr.io/mallory/app:v2')));
    const run = asMallory(repo, base);
    expect(run.stdout).toContain('note schema-required');
    expect(run.code).toBe(0);
    // Deleting it is removing an entry that is nobody's to remove but an instructor.
    repo.write('students/week-01.yaml', rosterText(entry('Mallory', 'mallory')));
    expect(asMallory(repo, base).stdout).toContain('removes the entry of "(no username)" (line 6 before the change)');
    repo.write('students/week-01.yaml', rosterText(noLogin + entry('Mallory', 'mallory')));
    rmSync(join(repo.dir, 'students/séminaire "1".yaml'));
    const removed = asMallory(repo, base);
    expect(removed.code).toBe(1);
    expect(removed.stdout).toContain('This pull request by "mallory" deletes "students/séminaire \\"1\\".yaml"');
  });

  test('a roster folder named through a link to the repository is judged as the same folder', () => {
    const { repo } = repoWithRoster();
    repo.write('students/week-02.yaml', rosterText(entry('Ann', 'ann'), 2));
    const withWeek2 = repo.commit('week 2');
    rmSync(join(repo.dir, 'students/week-02.yaml'));
    repo.write('students/week-01.yaml', rosterText(entry('Ann', 'ann') + entry('Mallory', 'mallory')));
    const link = join(tempDir('classops-link-'), 'course');
    symlinkSync(repo.dir, link);
    const run = classops(['validate', '--changed-since', withWeek2, '--author', 'mallory', join(link, 'students')], {
      cwd: tempDir('classops-elsewhere-'),
    });
    expect(run.stdout).toContain('deletes "' + join(link, 'students/week-02.yaml') + '" and with it 1 entry');
    expect(run.stdout).toContain('removes the entry of "bo"');
    expect(run.stdout).not.toContain('adds a new roster file');
    expect(run.stdout).not.toContain('author-other-file');
    expect(run.code).toBe(1);
  });

  test('an honest PR passes beside what the base already had: a link named like a roster, CRLF checkouts', () => {
    const repo = new GitRepo();
    repo.write('.gitattributes', '*.yaml text eol=crlf\n');
    repo.write('students/week-01.yaml', rosterText(entry('Ann', 'ann') + entry('Mallory', 'mallory')));
    repo.write('students/week-03.yaml', rosterText(entry('Ann', 'ann'), 3).replace('  - name', '    - name'));
    mkdirSync(join(repo.dir, 'students/old'));
    repo.write('students/old/notes.txt', 'kept by the instructor\n');
    symlinkSync('old', join(repo.dir, 'students/zz.yaml'));
    const base = repo.commit("the instructor's layout");
    // Checked out again, as CI does: the work tree now has CRLF line ends, the blobs LF.
    rmSync(join(repo.dir, 'students/week-03.yaml'));
    repo.git('checkout', '--', 'students/week-03.yaml');
    expect(readFileSync(join(repo.dir, 'students/week-03.yaml'), 'utf8')).toContain('\r\n');
    const week1 = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', week1.replace('ghcr.io/mallory/app:v1', 'ghcr.io/mallory/app:v2'));
    repo.commit('my new tag');
    const run = asMallory(repo, base);
    expect(run.stdout).toContain('✔ 0 errors, 0 warnings, 2 notes in 3 files');
    expect(run.code).toBe(0);
  });

  test("a classmate's entry rewritten to the same data is changed: its lines are theirs to edit", () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    // Ann's lines become Mallory's notes and Ann's entry one flow-style line: the same data,
    // but Ann's own open pull request would then change the notes, not her entry.
    const ann = entry('Ann', 'ann');
    const swallowed = ann
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => `      ${l}\n`)
      .join('');
    repo.write(
      'students/week-01.yaml',
      text.replace(
        ann,
        '  - {name: "Ann", github_username: "ann", container_image: "ghcr.io/ann/app:v1"}\n' +
          entry('Mallory', 'mallory') +
          '    notes: |\n' +
          swallowed,
      ),
    );
    const run = asMallory(repo, base);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('This pull request by "mallory" changes the entry of "ann".');
    // Line ends alone change nothing.
    repo.write('students/week-01.yaml', text.replaceAll('\n', '\r\n'));
    repo.write('students/week-02.yaml', rosterText(entry('Mallory', 'mallory'), 2));
    const crlf = asMallory(repo, base);
    expect(crlf.stdout).not.toContain('author-mismatch');
  });

  test('a config the base keeps as a link to a file in the repository is read through it', () => {
    const { repo } = repoWithRoster();
    repo.write('config/classops.yaml', 'policy:\n  instructors: [prof]\n');
    symlinkSync('config/classops.yaml', join(repo.dir, 'classops.yaml'));
    const base = repo.commit('the rules, kept in config/');
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', text.replace('name: "Ann"', 'name: "Ann Lee"'));
    const judged = (author: string) =>
      classops(['validate', '--changed-since', base, '--author', author, 'students'], { cwd: repo.dir });
    expect(judged('prof').code).toBe(0);
    expect(judged('mallory').stdout).toContain('This pull request by "mallory" changes the entry of "ann".');
    // A link to a link (or to a folder) is an error, not the default rules.
    rmSync(join(repo.dir, 'classops.yaml'));
    symlinkSync('config', join(repo.dir, 'classops.yaml'));
    const chained = classops(['validate', '--changed-since', repo.commit('link to a folder'), 'students'], {
      cwd: repo.dir,
    });
    expect(chained.code).toBe(2);
    expect(chained.stderr).toContain('classops.yaml is a symbolic link to config, which is not a file at');
  });

  test("what changes how a classmate's entry reads is a change; what editors do on their own is not", () => {
    const repo = new GitRepo();
    const ann =
      '  - name: No\n    github_username: "ann"\n    container_image: "ghcr.io/ann/app:v1"\n' +
      '    health_endpoint: "/ready"  # default /health\n    port: 8080  \n';
    const text = rosterText(ann + entry('Mallory', 'mallory'));
    repo.write('students/week-01.yaml', text);
    const base = repo.commit('a trailing blank');
    const mine = (t: string) => t.replace('ghcr.io/mallory/app:v1', 'ghcr.io/mallory/app:v2');
    // A lone CR ends the comment's line for some readers, not for others: Ann's port could become part of it.
    repo.write('students/week-01.yaml', mine(text.replace('# default /health\n', '# default /health\r')));
    const cr = asMallory(repo, base);
    expect([cr.code, cr.stdout]).toEqual([
      1,
      expect.stringContaining('students/week-01.yaml:9:49: error file-cr-line-endings'),
    ]);
    // A YAML 1.1 directive would make Ann's unquoted No the boolean false: no roster may have one.
    repo.write('students/week-01.yaml', `%YAML 1.1\n---\n${mine(text)}`);
    expect(asMallory(repo, base).stdout).toContain('students/week-01.yaml:1:1: error yaml-directive');
    // An editor that strips trailing blanks changes nothing of Ann's.
    repo.write('students/week-01.yaml', mine(text).replace('port: 8080  \n', 'port: 8080\n'));
    const honest = asMallory(repo, base);
    expect(honest.stdout).not.toContain('author-mismatch');
    expect(honest.code).toBe(0);
    // One that drops the final line break fails: the file would be held back, and the change undeployed.
    repo.write('students/week-01.yaml', mine(text).trimEnd());
    const unended = asMallory(repo, base);
    expect(unended.stdout).toContain('error file-no-final-newline');
    expect(unended.code).toBe(1);
  });

  test('a roster that may have been cut short is an instructor’s to repair: a student can neither end it anew nor add after it', () => {
    const repo = new GitRepo();
    repo.write('classops.yaml', 'policy:\n  instructors: [prof]\n');
    const whole = rosterText(entry('Ann', 'ann') + entry('Bo', 'bo') + entry('Cy', 'cy'));
    const judge = (base: string, author: string) =>
      classops(['validate', '--changed-since', base, '--author', author, 'students'], { cwd: repo.dir });
    const cutMessage = 'which has errors at the base revision and may have been cut short; only instructors change it';
    // Cut inside Bo's image (no final line break), then a line break added: Cy would be pruned.
    repo.write('students/week-01.yaml', whole.slice(0, whole.indexOf('ghcr.io/bo/app') + 10));
    let base = repo.commit('cut inside a line');
    repo.write('students/week-01.yaml', `${whole.slice(0, whole.indexOf('ghcr.io/bo/app') + 10)}\n`);
    expect(judge(base, 'newkid').stdout).toContain(cutMessage);
    expect(judge(base, 'newkid').code).toBe(1);
    // Cut at the end of Bo's login line: his entry is last and incomplete; appending after it is refused too.
    const cutLine = whole.slice(0, whole.indexOf('\n', whole.indexOf('github_username: "bo"')) + 1);
    repo.write('students/week-01.yaml', cutLine);
    base = repo.commit('cut at a line end');
    repo.write('students/week-01.yaml', cutLine + entry('Newkid', 'newkid'));
    expect(judge(base, 'newkid').stdout).toContain(cutMessage);
    // An instructor restores the file.
    repo.write('students/week-01.yaml', whole);
    expect(judge(base, 'prof').code).toBe(0);
  });

  test('a student who leaves a classmate’s incomplete entry last in the file is told it would hold every removal', () => {
    const repo = new GitRepo();
    // Bo's entry lacks its image (kept at its last-known-good, holding nothing while an entry follows).
    const bo = '  - name: "Bo"\n    github_username: "bo"\n';
    repo.write('students/week-01.yaml', rosterText(entry('Ann', 'ann') + bo + entry('Cy', 'cy')));
    const base = repo.commit('bo broke his entry');
    repo.write('students/week-01.yaml', rosterText(entry('Ann', 'ann') + bo));
    const run = classops(['validate', '--changed-since', base, '--author', 'cy', 'students'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error author-fragment-last');
    expect(run.stdout).toContain('leaves the entry on line 9, which has errors, last in the file');
  });

  test('a repository whose root is the roster folder is judged from there', () => {
    const repo = new GitRepo();
    repo.write('week-01.yaml', rosterText(entry('Ann', 'ann') + entry('Mallory', 'mallory')));
    const base = repo.commit('rosters at the root');
    const text = readFileSync(join(repo.dir, 'week-01.yaml'), 'utf8');
    repo.write('week-01.yaml', text.replace('ghcr.io/mallory/app:v1', 'ghcr.io/mallory/app:v2'));
    for (const folder of ['.', repo.dir]) {
      const run = classops(['validate', '--changed-since', base, '--author', 'mallory', folder], { cwd: repo.dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
  });

  test('a roster folder that also holds classops.yaml reads it as the config, never as a roster', () => {
    const dir = tempDir('classops-root-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('Ann', 'ann')));
    writeFileSync(join(dir, 'classops.yaml'), 'source:\n  path: .\n');
    const run = classops(['validate'], { cwd: dir });
    expect(run.stdout).not.toContain('classops.yaml');
    expect(run.stdout).toContain('1 of 1 entry will deploy');
    expect(run.code).toBe(0);
  });

  test('a new file named like a git pathspec (":week-02.yaml") is a new file, not an edit of week-02.yaml', () => {
    const repo = new GitRepo();
    repo.write('week-01.yaml', rosterText(entry('Ann', 'ann')));
    repo.write('week-02.yaml', rosterText('', 2));
    const base = repo.commit('rosters at the root');
    for (const name of [':week-02.yaml', '::week-02.yaml', ':(top)week-02.yaml']) {
      repo.write(name, rosterText(entry('Dave', 'dave'), 2));
      const run = classops(['validate', '--changed-since', base, '--author', 'dave', '.'], { cwd: repo.dir });
      expect([name, run.code]).toEqual([name, 1]);
      expect(run.stdout).toContain('error author-header-change');
      expect(run.stdout).toContain('adds a new roster file');
      rmSync(join(repo.dir, name));
    }
  });

  test('a PR that adds a week file judges all its entries; an unknown ref is a usage error', () => {
    const { repo, base } = repoWithRoster();
    repo.write('students/week-02.yaml', rosterText(entry('Ann', 'ann', 'ghcr.io/ann/app'), 2));
    const run = classops(['validate', '--changed-since', base, 'students/week-02.yaml'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error image-tag-missing');
    const bad = classops(['validate', '--changed-since', 'no-such-ref', 'students'], { cwd: repo.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown git revision "no-such-ref"');
  });

  test("breaking the file's YAML fails the PR even though no entry is judged", () => {
    const { repo, base } = repoWithRoster();
    const text = readFileSync(join(repo.dir, 'students/week-01.yaml'), 'utf8');
    repo.write('students/week-01.yaml', text + '    - name: "Dee"\n      github_username: "dee"\n');
    const run = classops(['validate', '--changed-since', base, '--author', 'dee', 'students'], { cwd: repo.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('This entry is indented 4 spaces; the entries above (line 12) use 2.');
    // The file cannot be read, so nothing claims the student changed its week.
    expect(run.stdout).not.toContain('author-header-change');
  });
});
