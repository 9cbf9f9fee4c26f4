/**
 * Sources under hostile or unlucky conditions: a roster folder that vanished from the
 * repository, things named *.yaml that are not files, a ConfigMap volume's links, links
 * leading outside, names that are not UTF-8, and a token written into source.url.
 */
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactUrl, redactUrls } from '../../src/source/credentials.js';
import { collectRosterFiles, DirSource, readRosterFiles, SourceError } from '../../src/source/dir.js';
import { GitSource } from '../../src/source/git.js';
import { classops, classopsAsync } from '../support/cli.js';
import { GitHttpServer } from '../support/git-http.js';
import { GitRepo } from '../support/git.js';
import { requireProgram, waitFor } from '../support/processes.js';
import { rosterText } from '../support/rosters.js';
import { RunningClassops } from '../support/running.js';

const made: string[] = [];
const tmp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};
const servers: GitHttpServer[] = [];
const running: RunningClassops[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;
const repo = () => {
  const r = new GitRepo();
  made.push(r.dir);
  return r;
};
const gitSource = (url: string, options: { path?: string; maxFileBytes?: number; tokenFile?: string } = {}) =>
  new GitSource({
    url,
    branch: 'main',
    path: options.path ?? 'students',
    tokenFile: options.tokenFile ?? '',
    sshKeyFile: '',
    pollMs: 1000,
    cacheDir: join(tmp('classops-mirror-'), 'mirror'),
    ...(options.maxFileBytes === undefined ? {} : { maxFileBytes: options.maxFileBytes }),
  });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => new Error('no error'),
    (e: unknown) => e as Error,
  );

describe('git source: the roster folder and what is in it', () => {
  test('a roster folder renamed away is an error that changes nothing, not an empty roster', async () => {
    const r = repo();
    r.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const source = gitSource(r.dir);
    expect([...(await source.snapshot()).files.keys()]).toEqual(['students/week-01.yaml']);

    r.git('mv', 'students', 'rosters');
    const renamed = r.commit('rename');
    const error = await failure(source.snapshot());
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toBe(
      `the roster folder "students" does not exist at commit ${renamed.slice(0, 12)} of ${r.dir} (main); nothing was changed`,
    );

    r.write('students', 'now a file').commit('a file named students');
    expect((await failure(source.snapshot())).message).toMatch(
      /^the roster folder "students" is not a folder at commit /,
    );
  });

  test('a folder, a submodule, a link, an oversized blob or a non-UTF-8 name called *.yaml is a problem for that path only', async () => {
    const r = repo();
    const sub = repo();
    const subCommit = sub.write('x', 'x').commit('sub');
    r.write('students/week-01.yaml', rosterText(entry('ann')))
      .write('students/week-02.yaml/inside.txt', 'a folder named like a roster')
      .write('students/week-04.yaml', rosterText(`${entry('bo')}  # ${'x'.repeat(2000)}\n`))
      .write('students/notes.md', 'not a roster');
    symlinkSync('../../../etc/passwd', join(r.dir, 'students/week-05.yaml'));
    writeFileSync(Buffer.from(join(r.dir, 'students/week-\xff.yaml'), 'latin1'), rosterText(entry('cy')));
    r.git('add', '-A');
    r.git('update-index', '--add', '--cacheinfo', `160000,${subCommit},students/week-03.yaml`);
    r.git('commit', '-q', '-m', 'odd things'); // not commit(): its `add -A` would drop the submodule again

    const snapshot = await gitSource(r.dir, { maxFileBytes: 1500 }).snapshot();
    expect([...snapshot.files.keys()]).toEqual(['students/week-01.yaml']);
    expect(snapshot.files.get('students/week-01.yaml')!.toString()).toBe(rosterText(entry('ann')));
    expect(Object.fromEntries(snapshot.problems)).toEqual({
      'students/week-02.yaml': 'it is a folder, not a file',
      'students/week-03.yaml': 'it is a git submodule, not a file',
      'students/week-04.yaml': `it is ${Buffer.byteLength(rosterText(`${entry('bo')}  # ${'x'.repeat(2000)}\n`))} bytes, more than the 1500 allowed`,
      'students/week-05.yaml': 'it is a symbolic link, which classops does not follow in a repository',
      'students/week-\ufffd.yaml': 'its name is not valid UTF-8 text; rename it to week-NN.yaml',
    });
  });
});

/** A folder laid out as the kubelet lays out a ConfigMap volume (its atomic writer). */
function configMapVolume(files: Record<string, string>): {
  dir: string;
  update: (next: Record<string, string>) => void;
} {
  const dir = tmp('classops-configmap-');
  let generation = 0;
  const publish = (next: Record<string, string>) => {
    generation += 1;
    const data = `..2026_11_23_14_00_0${generation}.${String(123456789 + generation)}`;
    mkdirSync(join(dir, data));
    for (const [name, text] of Object.entries(next)) writeFileSync(join(dir, data, name), text);
    symlinkSync(data, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const name of Object.keys(next)) {
      try {
        symlinkSync(`..data/${name}`, join(dir, name));
      } catch {
        // the link from the previous generation already points through ..data
      }
    }
  };
  publish(files);
  return { dir, update: publish };
}

describe('dir source: a ConfigMap volume and links', () => {
  test('reads the files a ConfigMap mounts through ..data, and follows its updates', async () => {
    const volume = configMapVolume({ 'week-01.yaml': rosterText(entry('ann')), 'week-02.yaml': rosterText('', 2) });
    const source = new DirSource(volume.dir, 60_000, 1024 * 1024);
    const first = await source.snapshot();
    expect([...first.files.keys()]).toEqual([join(volume.dir, 'week-01.yaml'), join(volume.dir, 'week-02.yaml')]);
    expect(first.files.get(join(volume.dir, 'week-01.yaml'))!.toString()).toBe(rosterText(entry('ann')));
    expect(first.problems.size).toBe(0);

    volume.update({ 'week-01.yaml': rosterText(entry('ann') + entry('bo')), 'week-02.yaml': rosterText('', 2) });
    const second = await source.snapshot();
    expect(second.revision).not.toBe(first.revision);
    expect(second.files.get(join(volume.dir, 'week-01.yaml'))!.toString()).toBe(rosterText(entry('ann') + entry('bo')));
  });

  test('classops run --once deploys the students of a roster mounted from a ConfigMap', () => {
    const volume = configMapVolume({ 'week-01.yaml': rosterText(entry('ann') + entry('bo')) });
    const dir = tmp('classops-run-dir-');
    const out = join(dir, 'out');
    writeFileSync(
      join(dir, 'classops.yaml'),
      `source:\n  kind: dir\n  path: ${JSON.stringify(volume.dir)}\ncluster:\n  manifestsDir: ${JSON.stringify(out)}\n`,
    );
    const run = classops(['run', '--once', '--no-image-checks', '--config', join(dir, 'classops.yaml')], { cwd: dir });
    expect(run.stdout).toMatch(
      /^success at revision content-[0-9a-f]{16}: \d+ created, 0 updated, 0 pruned, 0 unchanged\n/,
    );
    expect(run.code).toBe(0);
    const written = readdirSync(out, { recursive: true, encoding: 'utf8' }).join('\n');
    expect(written).toMatch(/Deployment.*student-ann|student-ann.*Deployment/i);
    expect(written).toMatch(/Deployment.*student-bo|student-bo.*Deployment/i);
  });

  test('a link leading outside is refused unread; a dangling link, a loop of links and a non-UTF-8 name are problems for that file', async () => {
    const volume = configMapVolume({ 'week-01.yaml': rosterText(entry('ann')) });
    const outside = join(tmp('classops-outside-'), 'week-09.yaml');
    writeFileSync(outside, 'outside-secret: do-not-read\n');
    symlinkSync(outside, join(volume.dir, 'week-03.yaml'));
    symlinkSync('../elsewhere/week-04.yaml', join(volume.dir, 'week-04.yaml'));
    symlinkSync('missing.yaml', join(volume.dir, 'week-05.yaml'));
    symlinkSync('week-07.yaml', join(volume.dir, 'week-06.yaml'));
    symlinkSync('week-06.yaml', join(volume.dir, 'week-07.yaml'));
    writeFileSync(Buffer.from(join(volume.dir, 'week-\xe9.yaml'), 'latin1'), rosterText(entry('cy')));
    writeFileSync(join(volume.dir, '..week-06.yaml'), 'the kubelet names its own entries ..*');

    const snapshot = await new DirSource(volume.dir, 60_000, 1024 * 1024).snapshot();
    expect([...snapshot.files.keys()]).toEqual([join(volume.dir, 'week-01.yaml')]);
    expect(Object.fromEntries(snapshot.problems)).toEqual({
      [join(volume.dir, 'week-03.yaml')]:
        `it is a symbolic link to a place outside ${volume.dir}, which classops never reads`,
      [join(volume.dir, 'week-04.yaml')]: 'it is a symbolic link to a file that does not exist',
      [join(volume.dir, 'week-05.yaml')]: 'it is a symbolic link to a file that does not exist',
      [join(volume.dir, 'week-06.yaml')]: 'it is a symbolic link that leads round in a loop',
      [join(volume.dir, 'week-07.yaml')]: 'it is a symbolic link that leads round in a loop',
      [join(volume.dir, 'week-\ufffd.yaml')]: 'its name is not valid UTF-8 text; rename it to week-NN.yaml',
    });

    // classops validate on the same folder: the roster is checked, each refused path is an error on its own.
    const run = classops(['validate', '--format', 'json', volume.dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('do-not-read');
    const reports = JSON.parse(run.stdout) as {
      files: Array<{ file: string; findings: Array<{ code: string; message: string }> }>;
    };
    const byFile = Object.fromEntries(
      reports.files.map((f) => [f.file, f.findings.map((x) => `${x.code}: ${x.message}`)]),
    );
    expect(byFile[join(volume.dir, 'week-01.yaml')]).toEqual([]);
    expect(byFile[join(volume.dir, 'week-03.yaml')]).toEqual([
      `file-unreadable: classops does not read this file: it is a symbolic link to a place outside ${volume.dir}, which classops never reads.`,
    ]);
    expect(Object.keys(byFile)).toHaveLength(7);
  });
});

describe('dir source: things named week-NN.yaml that are not roster files', () => {
  test('a named pipe, a link to one and an oversized file are problems for their own paths, and nothing waits on the pipe', async () => {
    const dir = tmp('classops-special-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('ann')));
    execFileSync('mkfifo', [join(dir, 'week-02.yaml')]);
    symlinkSync('week-02.yaml', join(dir, 'week-03.yaml'));
    writeFileSync(join(dir, 'week-04.yaml'), rosterText(`${entry('bo')}  # ${'x'.repeat(2000)}\n`));
    const socket = createServer().listen(join(dir, 'week-05.yaml'));
    await once(socket, 'listening');

    const snapshot = await new DirSource(dir, 60_000, 1500).snapshot();
    expect([...snapshot.files.keys()]).toEqual([join(dir, 'week-01.yaml')]);
    expect(Object.fromEntries(snapshot.problems)).toEqual({
      [join(dir, 'week-02.yaml')]: 'it is a named pipe (FIFO), not a regular file',
      [join(dir, 'week-03.yaml')]: 'it is a named pipe (FIFO), not a regular file',
      [join(dir, 'week-04.yaml')]:
        `it is ${Buffer.byteLength(rosterText(`${entry('bo')}  # ${'x'.repeat(2000)}\n`))} bytes, more than the 1500 allowed`,
      [join(dir, 'week-05.yaml')]: 'it is a socket, not a regular file',
    });
    socket.close();

    // Named directly, as a PR check names the files it changed: an error for that file, at once.
    const run = classops(['validate', '--format', 'json', join(dir, 'week-01.yaml'), join(dir, 'week-02.yaml')]);
    expect(run.code).toBe(1);
    const files = (JSON.parse(run.stdout) as { files: Array<{ file: string; findings: Array<{ message: string }> }> })
      .files;
    expect(files.map((f) => [f.file, f.findings.map((x) => x.message)])).toEqual([
      [join(dir, 'week-01.yaml'), []],
      [join(dir, 'week-02.yaml'), ['classops does not read this file: it is a named pipe (FIFO), not a regular file.']],
    ]);
  });

  test('a file swapped for a link after the listing is not read through it: the listing and the read must be one file', () => {
    const dir = tmp('classops-swap-');
    const secret = join(tmp('classops-secret-'), 'token.txt');
    writeFileSync(secret, 'TOP-SECRET-TOKEN\n');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(entry('ann')));
    writeFileSync(join(dir, 'week-03.yaml'), rosterText(entry('bo'), 3));
    const listing = collectRosterFiles([dir]);
    // Between the listing and the read, someone who can write to the folder swaps the file.
    rmSync(join(dir, 'week-03.yaml'));
    symlinkSync(secret, join(dir, 'week-03.yaml'));
    const { files, problems } = readRosterFiles(listing, 1024 * 1024);
    expect([...files.keys()]).toEqual([join(dir, 'week-01.yaml')]);
    expect(Object.fromEntries(problems)).toEqual({
      [join(dir, 'week-03.yaml')]: 'it changed while classops was reading the folder; the next pass reads it again',
    });
  });

  test('a roster renamed to .YAML is still read (with a warning to rename it), not dropped and its week pruned', () => {
    const dir = tmp('classops-upper-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-03.yaml'), rosterText(entry('ann'), 3));
    const once = () =>
      classops(['run', '--once', '--no-image-checks'], { cwd: dir, env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' } });
    expect(once().code).toBe(0);
    renameSync(join(dir, 'students/week-03.yaml'), join(dir, 'students/week-03.YAML'));
    const run = once();
    // Updated only to name the file they now come from (classops.dev/source-file).
    expect(run.stdout).toMatch(/: 0 created, \d+ updated, 0 pruned, 0 unchanged\n/);
    const validate = classops(['validate', '--format', 'json', 'students'], { cwd: dir });
    expect(
      JSON.parse(validate.stdout).files.map((f: { file: string; findings: Array<{ code: string }> }) => [
        f.file,
        f.findings.map((x) => x.code),
      ]),
    ).toEqual([['students/week-03.YAML', ['file-name']]]);
  });

  test('a week whose file becomes a named pipe is held: its students stay deployed, nothing is pruned', () => {
    const dir = tmp('classops-fifo-week-');
    mkdirSync(join(dir, 'students'));
    writeFileSync(join(dir, 'students/week-01.yaml'), rosterText(entry('ann')));
    writeFileSync(join(dir, 'students/week-02.yaml'), rosterText(entry('bo'), 2));
    const once = () =>
      classops(['run', '--once', '--no-image-checks'], {
        cwd: dir,
        env: { CLASSOPS_CLUSTER_MANIFESTS_DIR: 'out' },
      });
    expect(once().code).toBe(0);
    const before = readdirSync(join(dir, 'out'), { recursive: true, encoding: 'utf8' }).sort();
    expect(before.join('\n')).toContain('student-bo');

    rmSync(join(dir, 'students/week-02.yaml'));
    execFileSync('mkfifo', [join(dir, 'students/week-02.yaml')]);
    const run = once();
    expect(run.stdout).toMatch(/: 0 created, 0 updated, 0 pruned, \d+ unchanged\n/);
    expect(run.stderr).toContain('it is a named pipe (FIFO), not a regular file');
    expect(readdirSync(join(dir, 'out'), { recursive: true, encoding: 'utf8' }).sort()).toEqual(before);
  });
});

describe('credentials in source.url', () => {
  test.each([
    ['https://x-access-token:ghp_SECRET@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    ['https://ghp_SECRET@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    ['https://user:p%40ss@word@host/repo', 'https://***@host/repo'],
    // A "/" left in a password ends the host early: everything up to the "@" is hidden.
    ['https://user:SUPER/SECRET4@127.0.0.1:9/x.git', 'https://***@127.0.0.1:9/x.git'],
    ['https://user:a?b#c/SECRET4@host/x.git', 'https://***@host/x.git'],
    ['https://host:8443/org/repo.git', 'https://host:8443/org/repo.git'],
    ['ssh://git:SECRET@host/repo.git', 'ssh://git:***@host/repo.git'],
    ['ssh://git@host/repo.git', 'ssh://git@host/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['/srv/git/repo', '/srv/git/repo'],
  ])('redactUrl(%j) is %j', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
    expect(redactUrls(`fatal: unable to access '${url}': refused`)).toBe(`fatal: unable to access '${shown}': refused`);
  });

  test('a password with an unencoded "/" is refused at start, and the error does not show it', () => {
    expect(() => gitSource('https://user:SUPER/SECRET4@127.0.0.1:9/x.git')).toThrow(
      new SourceError(
        'source.url https://***@127.0.0.1:9/x.git: its password holds a "/", "?" or "#"; percent-encode them (%2F, %3F, %23)',
      ),
    );
  });

  /** A `git` first on the PATH that records its arguments, then runs the real one. */
  function recordingGit(): { bin: string; log: string } {
    const bin = tmp('classops-gitshim-');
    const log = join(bin, 'argv.log');
    const real = requireProgram('git', 'git');
    writeFileSync(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, 'git'), 0o755);
    writeFileSync(log, '');
    return { bin, log };
  }

  function configFor(url: string): string {
    const dir = tmp('classops-run-');
    writeFileSync(
      join(dir, 'classops.yaml'),
      `source:\n  kind: git\n  url: ${JSON.stringify(url)}\n  pollInterval: 500ms\ncluster:\n  manifestsDir: ${join(dir, 'out')}\nserver:\n  port: 0\n  host: 127.0.0.1\n`,
    );
    return join(dir, 'classops.yaml');
  }

  test('classops run: the token reaches git-http-backend but never the log, /metrics, /api/status or git argv', async () => {
    const token = 'ghp_tok3nNeverShown';
    const r = repo();
    r.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const server = await new GitHttpServer(r.dir, token).start();
    servers.push(server);
    const url = server.url.replace('http://', `http://x-access-token:${token}@`);
    const git = recordingGit();
    const config = configFor(url);
    const op = await RunningClassops.start(['--config', config, '--no-image-checks'], {
      cwd: join(config, '..'),
      env: { PATH: `${git.bin}:${process.env['PATH']}` },
    });
    running.push(op);
    await waitFor(
      async () => JSON.parse((await op.get('/api/status')).text).reconcile?.result === 'success',
      30_000,
      'a reconcile',
      () => op.output,
    );
    const shown = server.url.replace('http://', 'http://***@');
    const start = op.logs().find((l) => l['msg'] === 'classops starting');
    expect(start?.['source']).toBe(`git ${shown} (main, students)`);
    expect(op.output).not.toContain(token);
    const metrics = (await op.get('/metrics')).text;
    expect(metrics).toContain(`source="git ${shown} (main, students)"`);
    expect(metrics).not.toContain(token);
    expect((await op.get('/api/status')).text).not.toContain(token);
    const argv = readFileSync(git.log, 'utf8');
    expect(argv).toContain(`fetch --quiet --force --no-tags -- ${server.url} +refs/heads/main:refs/classops/source`);
    expect(argv).not.toContain(token);
    expect(server.seenAuthorization).toContain(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
  });

  test('classops run --once with a wrong token: the error names the repository, never the token', async () => {
    const r = repo();
    r.write('students/week-01.yaml', rosterText(entry('ann'))).commit('ann');
    const server = await new GitHttpServer(r.dir, 'the-right-one').start();
    servers.push(server);
    const config = configFor(server.url.replace('http://', 'http://x-access-token:wrong-tok3n@'));
    const run = await classopsAsync(['run', '--once', '--config', config, '--no-image-checks'], {
      cwd: join(config, '..'),
      env: { CLASSOPS_LOG_FORMAT: 'text' },
    });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(`git fetch failed for ${server.url.replace('http://', 'http://***@')}`);
    expect(run.stdout + run.stderr).not.toContain('wrong-tok3n');
  });

  test('a URL beginning with "-" is refused before git runs', () => {
    const git = recordingGit();
    const config = configFor('--upload-pack=touch /tmp/classops-pwned');
    const run = classops(['run', '--once', '--config', config], {
      cwd: join(config, '..'),
      env: { PATH: `${git.bin}:${process.env['PATH']}` },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'classops run: source.url may not begin with "-": --upload-pack=touch /tmp/classops-pwned\n',
    );
    expect(readFileSync(git.log, 'utf8')).toBe('');
  });
});
