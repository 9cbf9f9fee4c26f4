/** `classops pr-report` on a real git repository against a loopback GitHub. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classopsAsync } from '../support/cli.js';
import { FakeGithub } from '../support/fake-github.js';
import { GitRepo } from '../support/git.js';
import { rosterText } from '../support/rosters.js';

const TOKEN = 'ghs_test_token';
const entry = (login: string, image = `ghcr.io/${login.toLowerCase()}/app:v1`) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n`;

let gh: FakeGithub;
let repo: GitRepo;
let dir: string;
let base: string;

beforeEach(async () => {
  gh = await new FakeGithub(TOKEN).start();
  repo = new GitRepo();
  repo.write('classops.yaml', 'policy:\n  instructors: [prof]\n');
  repo.write('students/week-01.yaml', rosterText(entry('ann')));
  base = repo.commit('base');
  repo.git('checkout', '-q', '-b', 'feature');
  dir = mkdtempSync(join(tmpdir(), 'classops-pr-'));
});
afterEach(async () => {
  await gh.stop();
  rmSync(repo.dir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Commits the PR's roster and returns its head SHA. */
function push(students: string): string {
  repo.write('students/week-01.yaml', rosterText(students));
  return repo.commit('pr');
}

function prEvent(head: string, author = 'bo'): Record<string, string> {
  const file = join(dir, 'event.json');
  writeFileSync(
    file,
    JSON.stringify({
      action: 'synchronize',
      number: 1,
      pull_request: { number: 1, user: { login: author }, base: { sha: base, ref: 'main' }, head: { sha: head } },
    }),
  );
  return { GITHUB_EVENT_PATH: file };
}

const env = (extra: Record<string, string>) => ({
  GITHUB_TOKEN: TOKEN,
  GITHUB_API_URL: gh.url,
  GITHUB_REPOSITORY: 'course/roster',
  ...extra,
});
const prReport = (extra: Record<string, string>, ...args: string[]) =>
  classopsAsync(['pr-report', ...args], { cwd: repo.dir, env: env(extra) });
const commentWrites = () => gh.writes().filter((r) => r.path.includes('/comments'));
const comments = () => gh.comments.get(1) ?? [];

describe('classops pr-report', () => {
  test('one comment: created, left alone when nothing changed, edited when the verdict changes', async () => {
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const first = await prReport(prEvent(bad));
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/^::error file=students\/week-01\.yaml,line=\d+,col=\d+,title=classops image-owner/m);
    expect(commentWrites().map((r) => r.method)).toEqual(['POST']);
    const body = String(comments()[0]!['body']);
    expect(body.startsWith('<!-- classops:pr-report -->\n### ❌ classops: 1 problem to fix')).toBe(true);
    expect(body).toContain('| bo | students/week-01.yaml line 9 | ❌ line 11:');
    expect(body).not.toContain('| ann |');
    expect(gh.checkRuns).toHaveLength(1);
    expect(gh.checkRuns[0]).toMatchObject({ name: 'classops', head_sha: bad, conclusion: 'failure' });
    expect(gh.checkRuns[0]!.annotations).toEqual([
      expect.objectContaining({ path: 'students/week-01.yaml', start_line: 11, annotation_level: 'failure' }),
    ]);

    // The same commit again (a re-run): the comment is found by its marker and left alone.
    gh.addComment(1, 'Looks good to me', 'prof');
    expect((await prReport(prEvent(bad))).code).toBe(1);
    expect(commentWrites().map((r) => r.method)).toEqual(['POST']);

    const fixed = push(entry('ann') + entry('bo'));
    const third = await prReport(prEvent(fixed));
    expect(third.code).toBe(0);
    expect(commentWrites().map((r) => r.method)).toEqual(['POST', 'PATCH']);
    expect(comments()).toHaveLength(2);
    expect(String(comments()[0]!['body'])).toContain('### ✅ classops: every entry in this pull request is valid');
    expect(String(comments()[0]!['body'])).toContain('| bo | students/week-01.yaml line 9 | ✅ valid');
    expect(gh.checkRuns.map((r) => r['conclusion'])).toEqual(['failure', 'failure', 'success']);
    expect(gh.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  });

  test("judged against the base its merge commit was made from, when the event's base is stale", async () => {
    const head = push(entry('ann') + entry('bo'));
    // The base branch moved on after the event fired: an instructor added week 2.
    repo.git('checkout', '-q', 'main');
    repo.write('students/week-02.yaml', rosterText(entry('ann'), 2));
    repo.commit('instructor: week 2');
    // actions/checkout's refs/pull/N/merge: the pull request merged into the base as it is now.
    repo.git('checkout', '-q', '--detach');
    repo.git('merge', '-q', '--no-ff', '--no-edit', head);
    const run = await prReport(prEvent(head));
    expect(run.stdout).not.toContain('author-header-change'); // week 2 is not this pull request's
    expect(run.code).toBe(0);
    expect(gh.checkRuns[0]).toMatchObject({ head_sha: head, conclusion: 'success' });
  });

  test('a hostile login is shown as text: no table break, mention, link or HTML', async () => {
    const hostile = 'x|y](https://evil.example/a)<img src=x onerror=alert(1)>@everyone [z](javascript:alert(1))';
    const head = push(
      entry('ann') +
        `  - name: "B"\n    github_username: ${JSON.stringify(hostile)}\n    container_image: "ghcr.io/b/app:v1"\n`,
    );
    expect((await prReport(prEvent(head, 'b'))).code).toBe(1);
    const body = String(comments()[0]!['body']);
    expect(body).not.toMatch(/<img|@everyone|\]\(https?:|\]\(javascript|https:\/\//);
    const rows = body.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(row.match(/(?<!\\)\|/g)).toHaveLength(4);
    expect(body).toContain(
      'x\\|y\\]\\(https:\u200b//evil.example/a\\)&lt;img src=x onerror=alert\\(1\\)&gt;@\u200beveryone',
    );
  });

  test("a fork's read-only token: annotations on stdout, warnings, no failure of its own", async () => {
    gh.readOnly = true;
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const run = await prReport(prEvent(bad));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error file=students\/week-01\.yaml/m);
    expect(run.stderr).toContain(
      '::warning title=classops pr-report::could not comment on #1: the token may not write',
    );
    expect(run.stderr).toContain('could not create the check run');
    expect(comments()).toEqual([]);
    const good = push(entry('ann') + entry('bo'));
    expect((await prReport(prEvent(good))).code).toBe(0);
  });

  test("the base branch's rules judge the PR, and changing them is an instructor's change", async () => {
    repo.write('classops.yaml', 'policy:\n  instructors: [prof, bo]\n');
    const head = push(entry('ann') + entry('bo') + entry('cy'));
    const run = await prReport(prEvent(head));
    expect(run.code).toBe(1);
    const body = String(comments()[0]!['body']);
    expect(body).toContain('changes "classops.yaml", the course\'s rules; only instructors may change them.');
    expect(body).toMatch(
      /\| cy \| students\/week-01\.yaml line 12 \| ❌ line 12: This pull request by "bo" adds the entry of "cy"/,
    );
    // The instructor may do both.
    expect((await prReport(prEvent(head, 'prof'))).code).toBe(0);
  });

  test('findings beyond 50 are annotated in batches of 50', async () => {
    const many = Array.from({ length: 60 }, (_, i) => entry(`s${i}`)).join('');
    const head = push(entry('ann') + many);
    expect((await prReport(prEvent(head))).code).toBe(1);
    expect(gh.checkRuns[0]!.annotations).toHaveLength(60);
    expect(
      gh
        .writes()
        .filter((r) => r.path.includes('/check-runs'))
        .map((r) => r.method),
    ).toEqual(['POST', 'PATCH']);
  });

  test('5xx and rate limits are retried; a limit that does not clear soon is a warning, exit 0 when valid', async () => {
    const good = push(entry('ann') + entry('bo'));
    gh.inject({ method: 'GET', path: '/comments', status: 502, times: 1 });
    gh.inject({ method: 'POST', path: '/comments', status: 429, times: 1, retryAfter: 1 });
    const run = await prReport(prEvent(good));
    expect(run.code).toBe(0);
    expect(comments()).toHaveLength(1);
    expect(gh.requests.filter((r) => r.path.includes('/comments')).map((r) => r.method)).toEqual([
      'GET',
      'GET',
      'POST',
      'POST',
    ]);

    gh.inject({ path: '/repos', status: 403, times: 10, retryAfter: 3600, secondary: true });
    const limited = await prReport(prEvent(good));
    expect(limited.code).toBe(0);
    expect(limited.stderr).toContain('secondary rate limit');
    expect(limited.stderr).toContain('::warning title=classops pr-report::could not comment');
  });

  test('GitHub unreachable is a warning; the exit code is the verdict', async () => {
    const good = push(entry('ann') + entry('bo'));
    await gh.stop();
    const run = await prReport(prEvent(good));
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('::warning title=classops pr-report::could not comment on #1');
  }, 90_000); // each request is retried with backoff before giving up

  test('two stages for forks: validate writes the report, pr-report --from-report posts it', async () => {
    const head = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const stage1 = await classopsAsync(['validate', '--changed-since', base, '--author', 'bo', '--format', 'json'], {
      cwd: repo.dir,
    });
    expect(stage1.code).toBe(1);
    const report = join(dir, 'report.json');
    writeFileSync(report, stage1.stdout);
    const event = join(dir, 'workflow_run.json');
    writeFileSync(event, JSON.stringify({ workflow_run: { head_sha: head, pull_requests: [] } }));
    gh.pulls.set(1, { head, base, author: 'bo' });
    // Run outside the checkout: the second stage never has the PR's code.
    const stage2 = await classopsAsync(['pr-report', '--from-report', report, '--pr', '1'], {
      cwd: dir,
      env: env({ GITHUB_EVENT_PATH: event }),
    });
    expect(stage2.code).toBe(1);
    expect(String(comments()[0]!['body'])).toContain('| bo | students/week-01.yaml line 9 | ❌ line 11:');
    expect(gh.checkRuns[0]).toMatchObject({ head_sha: head, conclusion: 'failure' });

    // A report aimed at another PR (its head is not the judged commit) posts nothing.
    gh.pulls.set(2, { head: base, base, author: 'ann' });
    const wrong = await classopsAsync(['pr-report', '--from-report', report, '--pr', '2'], {
      cwd: dir,
      env: env({ GITHUB_EVENT_PATH: event }),
    });
    expect(wrong.code).toBe(2);
    expect(gh.comments.get(2)).toBeUndefined();
  });
});
