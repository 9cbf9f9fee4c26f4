import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceError } from '../../src/source/dir.js';
import { DirSource } from '../../src/source/dir.js';
import { GitSource } from '../../src/source/git.js';
import { GitHttpServer } from '../support/git-http.js';
import { GitRepo } from '../support/git.js';
import { rosterText } from '../support/rosters.js';
import { tempDir } from '../support/temp.js';

const cache = () => join(tempDir('classops-mirror-'), 'mirror');
const gitSource = (url: string, tokenFile = '') =>
  new GitSource({ url, branch: 'main', path: 'students', tokenFile, sshKeyFile: '', pollMs: 1000, cacheDir: cache() });

describe('git source (real git)', () => {
  test('a snapshot is the commit SHA and the roster files at that commit, nothing else', async () => {
    const repo = new GitRepo();
    repo
      .write('students/week-01.yaml', rosterText(''))
      .write('students/README.md', '# notes')
      .write('other/week-09.yaml', 'x: 1');
    const sha = repo.commit('one');
    const source = gitSource(repo.dir);
    const snapshot = await source.snapshot();
    expect(snapshot.revision).toBe(sha);
    expect([...snapshot.files.keys()]).toEqual(['students/week-01.yaml']);
    repo.write('students/week-02.yaml', rosterText('', 2));
    const two = repo.commit('two');
    repo.write('students/week-03.yaml', 'uncommitted work is never seen');
    const next = await source.snapshot();
    expect(next.revision).toBe(two);
    expect([...next.files.keys()]).toEqual(['students/week-01.yaml', 'students/week-02.yaml']);
  });

  test('a poll that finds the same commit reads no roster file again; the next commit is read afresh', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText('')).commit('one');
    const source = gitSource(repo.dir);
    // git's own trace of every command it runs, as the source's processes inherit the environment.
    const trace = join(tempDir('classops-git-trace-'), 'trace');
    const reads = () =>
      existsSync(trace) ? (readFileSync(trace, 'utf8').match(/git cat-file blob/g)?.length ?? 0) : 0;
    process.env['GIT_TRACE'] = trace;
    try {
      const first = await source.snapshot();
      expect(reads()).toBe(1);
      expect(await source.snapshot()).toEqual(first);
      expect(reads()).toBe(1);
      repo.write('students/week-01.yaml', rosterText('  # changed\n')).commit('two');
      const next = await source.snapshot();
      expect(reads()).toBe(2);
      expect(next.files.get('students/week-01.yaml')?.toString()).not.toBe(
        first.files.get('students/week-01.yaml')?.toString(),
      );
    } finally {
      delete process.env['GIT_TRACE'];
    }
  });

  test('over HTTPS-style auth: the token from tokenFile is sent as GitHub expects, and a refusal never shows it', async () => {
    const repo = new GitRepo();
    repo.write('students/week-01.yaml', rosterText('')).commit('one');
    const server = await new GitHttpServer(repo.dir, 's3cret-token').start();
    try {
      const dir = tempDir('classops-token-');
      writeFileSync(join(dir, 'token'), 's3cret-token\n');
      const snapshot = await gitSource(server.url, join(dir, 'token')).snapshot();
      expect([...snapshot.files.keys()]).toEqual(['students/week-01.yaml']);
      writeFileSync(join(dir, 'wrong'), 'wrong-token');
      const failure = await gitSource(server.url, join(dir, 'wrong'))
        .snapshot()
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SourceError);
      expect((failure as Error).message).toMatch(/^git fetch failed for http:\/\/127\.0\.0\.1:\d+\/.*: /);
      expect((failure as Error).message).not.toContain('wrong-token');
    } finally {
      await server.stop();
    }
  });

  test('an unreachable repository is a SourceError: the reconcile changes nothing', async () => {
    await expect(gitSource('/nonexistent/repo').snapshot()).rejects.toThrow(SourceError);
  });
});

describe('dir source', () => {
  test('the revision is a hash of the files; the same snapshot while they stay, a new one when they change', async () => {
    const dir = tempDir('classops-dir-');
    writeFileSync(join(dir, 'week-01.yaml'), rosterText(''));
    const source = new DirSource(dir, 1000, 1024 * 1024);
    const a = await source.snapshot();
    // The very snapshot again while nothing changed: its reports are not validated twice.
    expect(await source.snapshot()).toBe(a);
    writeFileSync(join(dir, 'week-01.yaml'), rosterText('  # someone\n'));
    expect((await source.snapshot()).revision).not.toBe(a.revision);
  });

  test('a file rewritten in place with a pause is read whole once it has been still, never cut where it paused', async () => {
    const dir = tempDir('classops-dir-');
    const file = join(dir, 'week-01.yaml');
    const entry = (login: string) =>
      `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;
    const whole = rosterText(entry('ann') + entry('bo') + entry('cy'));
    writeFileSync(file, whole);
    const source = new DirSource(dir, 1000, 1024 * 1024);
    await source.snapshot();
    // A generator or editor writing in place: a first part that is a valid roster on its own, a pause, the rest.
    const cut = whole.indexOf('  - name: "bo"');
    writeFileSync(file, whole.slice(0, cut));
    const next = source.snapshot();
    await new Promise((resolve) => setTimeout(resolve, 300));
    appendFileSync(file, whole.slice(cut));
    expect((await next).files.get(file)!.toString()).toBe(whole);
  });
});
