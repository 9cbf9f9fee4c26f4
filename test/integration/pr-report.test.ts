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

/** The pull_request event of PR #1 at `head`; GitHub knows that pull request as the event says. */
function prEvent(head: string, author = 'bo'): Record<string, string> {
  gh.pulls.set(1, { head, base, author, dir: repo.dir });
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

  test("a student's comment carrying the marker is never taken for classops' own", async () => {
    gh.addComment(1, '<!-- classops:pr-report -->\n### ✅ classops: every entry in this pull request is valid', 'bo');
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    expect((await prReport(prEvent(bad, 'bo'))).code).toBe(1);
    const fixed = push(entry('ann') + entry('bo'));
    expect((await prReport(prEvent(fixed, 'bo'))).code).toBe(0);
    // classops' comment is its own (created once, then edited); the student's stays as they wrote it.
    expect(commentWrites().map((r) => `${r.method} ${r.path.replace(/\d+$/, 'N')}`)).toEqual([
      'POST /repos/course/roster/issues/1/comments',
      'PATCH /repos/course/roster/issues/comments/N',
    ]);
    expect(comments().map((c) => [(c['user'] as { login: string }).login, String(c['body']).split('\n')[1]])).toEqual([
      ['bo', '### ✅ classops: every entry in this pull request is valid'],
      ['github-actions[bot]', '### ✅ classops: every entry in this pull request is valid'],
    ]);
    expect(gh.requests.filter((r) => r.path === '/user')).toHaveLength(2); // the token is an app's: it has no user
  });

  test('with a personal token, its own earlier comment is edited', async () => {
    gh.actor = { ...gh.actor, login: 'prof', type: 'User' };
    gh.addComment(1, '<!-- classops:pr-report -->\nan earlier verdict', 'prof');
    expect((await prReport(prEvent(push(entry('ann') + entry('bo'))))).code).toBe(0);
    expect(commentWrites().map((r) => r.method)).toEqual(['PATCH']);
    expect(comments()).toHaveLength(1);
  });

  test('two comments left by runs at once become one: the first is edited, the others deleted', async () => {
    for (const verdict of ['first', 'second'])
      gh.addComment(1, `<!-- classops:pr-report -->\n${verdict}`, 'github-actions[bot]', 'Bot');
    expect((await prReport(prEvent(push(entry('ann') + entry('bo'))))).code).toBe(0);
    expect(commentWrites().map((r) => r.method)).toEqual(['DELETE', 'PATCH']);
    expect(comments()).toHaveLength(1);
    expect(String(comments()[0]!['body'])).toContain('every entry in this pull request is valid');
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
    // 60 entries of others, and a file grown far beyond one entry's share.
    expect(gh.checkRuns[0]!.annotations).toHaveLength(61);
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

  test('GitHub that takes requests and never answers: each waits --timeout once, then a warning; the exit code is the verdict', async () => {
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    gh.inject({ status: 0, times: 1000, hang: true });
    const run = await prReport(prEvent(bad), '--timeout', '1s');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /::warning title=classops pr-report::could not comment on #1: GitHub did not answer GET \S+ within 1s/,
    );
    expect(run.stderr).toMatch(
      /::warning title=classops pr-report::could not create the check run: GitHub did not answer POST \S+check-runs within 1s/,
    );
    // A request GitHub never answered is not sent again: its retry would only wait as long.
    const sent = gh.requests.map((r) => `${r.method} ${r.path}`);
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent).toHaveLength(2);
  });

  test('GitHub that sends half an answer and stops: a warning, not an empty answer taken for a whole one', async () => {
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    gh.addComment(1, '<!-- classops:pr-report -->\nan earlier verdict', 'github-actions[bot]', 'Bot');
    gh.inject({ status: 0, times: 1000, stallBody: true, method: 'GET' });
    const run = await prReport(prEvent(bad), '--timeout', '1s');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/could not comment on #1: GitHub did not answer GET \S+ within 1s/);
    // Nothing was written on the strength of a list that never came whole.
    expect(commentWrites()).toEqual([]);
    const sent = gh.requests.filter((r) => r.method === 'GET').map((r) => r.path);
    expect(new Set(sent).size).toBe(sent.length);
  });

  test('a connection that closes halfway through the answer to a POST: GitHub may have acted, so it is not sent again', async () => {
    const bad = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    gh.inject({ status: 0, times: 1000, dropBody: true, method: 'POST' });
    const run = await prReport(prEvent(bad));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/could not comment on #1: GitHub's answer to POST \S+ was lost \(/);
    expect(run.stderr).toMatch(/could not create the check run: GitHub's answer to POST \S+check-runs was lost/);
    // One comment and one check run, as GitHub made them: no copies from retries.
    expect(comments()).toHaveLength(1);
    expect(gh.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      'POST /repos/course/roster/issues/1/comments',
      'POST /repos/course/roster/check-runs',
    ]);
  });

  test('--timeout takes a duration', async () => {
    const run = await prReport(prEvent(push(entry('ann'))), '--timeout', 'soon');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout');
    expect(run.stderr).toContain('e.g. 500ms, 10s, 5m, 1h');
    for (const silly of ['0s', '999ms', '2h']) {
      const out = await prReport(prEvent(push(entry('ann'))), '--timeout', silly);
      expect([out.code, out.stderr]).toEqual([
        2,
        expect.stringContaining(`--timeout ${silly}: give between 1s and 1h`),
      ]);
    }
  });

  /** Stage 1 as the example workflow runs it: the report of validate --format json, in a file. */
  async function stage1Report(author = 'bo'): Promise<string> {
    const run = await classopsAsync(['validate', '--changed-since', base, '--author', author, '--format', 'json'], {
      cwd: repo.dir,
    });
    const report = join(dir, 'report.json');
    writeFileSync(report, run.stdout);
    return report;
  }

  /** Stage 2 as the example workflow runs it: outside the checkout, on the workflow_run event. */
  function stage2(report: string, pr: number, judged: string, repository: Record<string, string> = {}) {
    const event = join(dir, 'workflow_run.json');
    writeFileSync(event, JSON.stringify({ workflow_run: { head_sha: judged, pull_requests: [] }, repository }));
    return classopsAsync(['pr-report', '--from-report', report, '--pr', String(pr)], {
      cwd: dir,
      env: env({ GITHUB_EVENT_PATH: event }),
    });
  }

  test('two stages for forks: validate writes the report, pr-report --from-report posts it', async () => {
    const head = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    const posted = await stage2(report, 1, head);
    expect(posted.code).toBe(1);
    expect(String(comments()[0]!['body'])).toContain('| bo | students/week-01.yaml line 9 | ❌ line 11:');
    expect(String(comments()[0]!['body'])).toContain(`Judged at commit ${head.slice(0, 12)}.`);
    expect(gh.checkRuns[0]).toMatchObject({ head_sha: head, conclusion: 'failure' });

    // A report aimed at another PR (the judged commit is none of its commits, as after a
    // force-push): no comment there, and the judged commit's check fails, unverified.
    gh.pulls.set(2, { head: base, base, author: 'ann', dir: repo.dir });
    const wrong = await stage2(report, 2, head);
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toContain(`${head} is no longer a commit of pull request #2`);
    expect(gh.comments.get(2)).toBeUndefined();
    expect(gh.checkRuns).toHaveLength(2);
    expect(gh.checkRuns[1]).toMatchObject({ head_sha: head, conclusion: 'failure', output: { title: 'Not verified' } });
  });

  test('a report that cannot be read, or GitHub that cannot be asked, fails the check instead of posting nothing', async () => {
    const head = push(entry('ann') + entry('bo'));
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    const broken = join(dir, 'broken.json');
    for (const [report, text] of [
      [broken, '{}'],
      [join(dir, 'missing.json'), undefined],
    ] as const) {
      if (text !== undefined) writeFileSync(report, text);
      const run = await stage2(report, 1, head);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`the first stage's report is unusable`);
    }
    // A clean report, but GitHub fails while listing the PR's files: nothing is known to be safe.
    gh.inject({ path: '/pulls/1/files', status: 500, times: 3 });
    const outage = await stage2(await stage1Report(), 1, head);
    expect(outage.code).toBe(2);
    expect(outage.stderr).toContain('GitHub could not be asked about pull request #1');
    expect(gh.checkRuns.map((r) => [r['head_sha'], r['conclusion']])).toEqual([
      [head, 'failure'],
      [head, 'failure'],
      [head, 'failure'],
    ]);
    expect(comments()).toEqual([]);
  });

  test("a pull request into another branch than the one deployed is judged by that branch's rules: not trusted", async () => {
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir, baseRef: 'old-term' });
    expect((await stage2(report, 1, head, { default_branch: 'main' })).code).toBe(1);
    expect(gh.checkRuns[0]).toMatchObject({ conclusion: 'failure' });
    expect(String(comments()[0]!['body'])).toContain('targets "old-term", not "main", the branch classops deploys');
  });

  test('a push that lands while the verdict is posted: the comment is left to the newer run', async () => {
    const head = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    const newer = push(entry('ann') + entry('bo'));
    gh.onRequest = (request) => {
      if (request.path.includes('/pulls/1/files')) gh.pulls.set(1, { head: newer, base, author: 'bo', dir: repo.dir });
    };
    const run = await stage2(report, 1, head);
    expect(run.stderr).toContain(`#1 has moved on to ${newer}; its comment is left to that run`);
    expect(comments()).toEqual([]);
    expect(gh.checkRuns).toEqual([expect.objectContaining({ head_sha: head, conclusion: 'failure' })]);
  });

  test('a run for a commit the pull request has moved on from posts nothing and does not fail', async () => {
    const first = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const report = await stage1Report();
    const newer = push(entry('ann') + entry('bo'));
    gh.pulls.set(1, { head: newer, base, author: 'bo', dir: repo.dir });
    const late = await stage2(report, 1, first);
    expect(late.code).toBe(0);
    expect(late.stderr).toContain(`#1 has moved on from ${first} to ${newer}`);
    expect(gh.writes()).toEqual([]);
  });

  test('a pull request that changes .github/ gets a failing check, whatever report its own workflow uploaded', async () => {
    // The PR rewrites stage 1 so it uploads a clean report for a roster that is not clean.
    repo.write('.github/workflows/classops-check.yml', 'on: pull_request\njobs: {}\n');
    const head = push(entry('ann') + entry('bo', 'ghcr.io/someone-else/app:v1'));
    const forged = join(dir, 'forged.json');
    writeFileSync(
      forged,
      JSON.stringify({
        files: [
          {
            file: 'students/week-01.yaml',
            entries: [{ index: 1, line: 9, githubUsername: 'bo', valid: true, changed: true }],
            findings: [],
          },
        ],
      }),
    );
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    const run = await stage2(forged, 1, head);
    expect(run.code).toBe(1);
    expect(gh.checkRuns).toEqual([expect.objectContaining({ head_sha: head, conclusion: 'failure' })]);
    expect(gh.checkRuns[0]!.annotations).toEqual([
      expect.objectContaining({
        path: '.github/workflows/classops-check.yml',
        annotation_level: 'failure',
        title: 'classops report-untrusted',
      }),
    ]);
    const body = String(comments()[0]!['body']);
    expect(body).toContain("the check that judged it ran the pull request's own workflow");
    expect(body).not.toContain('✅'); // nothing of the uploaded report is shown
  });

  test("a branch of the course repository itself (an instructor's, a bot's) may change .github/ and target another branch", async () => {
    repo.write('.github/workflows/classops-check.yml', 'on: pull_request\njobs: {}\n');
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report('prof');
    gh.pulls.set(1, { head, base, author: 'prof', dir: repo.dir, sameRepo: true, baseRef: 'spring' });
    expect((await stage2(report, 1, head, { default_branch: 'main' })).code).toBe(0);
    expect(gh.checkRuns[0]).toMatchObject({ conclusion: 'success' });
  });

  test('--branch names the branch classops deploys when it is not the default', async () => {
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir, baseRef: 'spring' });
    const event = join(dir, 'workflow_run.json');
    writeFileSync(event, JSON.stringify({ workflow_run: { head_sha: head }, repository: { default_branch: 'main' } }));
    const run = await classopsAsync(['pr-report', '--from-report', report, '--pr', '1', '--branch', 'spring'], {
      cwd: dir,
      env: env({ GITHUB_EVENT_PATH: event }),
    });
    expect(run.code).toBe(0);
    expect(gh.checkRuns[0]).toMatchObject({ conclusion: 'success' });
  });

  test('a file or link put where .github/ goes counts as a change to it', async () => {
    repo.write('.github', 'not a folder\n');
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    expect((await stage2(report, 1, head)).code).toBe(1);
    expect(gh.checkRuns[0]!.annotations).toEqual([
      expect.objectContaining({ path: '.github', title: 'classops report-untrusted' }),
    ]);
  });

  test('more files than GitHub lists: whether .github/ changed cannot be told, so the check fails', async () => {
    for (let i = 0; i < 3001; i++) repo.write(`notes/n${i}.txt`, `${i}\n`);
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report('prof'); // an instructor's PR: stage 1 finds nothing
    gh.pulls.set(1, { head, base, author: 'prof', dir: repo.dir });
    const run = await stage2(report, 1, head);
    expect(run.code).toBe(1);
    expect(gh.checkRuns[0]).toMatchObject({ conclusion: 'failure' });
    expect(String(comments()[0]!['body'])).toContain('changes 3002 files, more than GitHub lists \\(3000\\)');
  }, 60_000);

  test('an answer without the number of changed files cannot show that .github/ is untouched', async () => {
    const head = push(entry('ann') + entry('bo'));
    const report = await stage1Report();
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir, changedFiles: null });
    expect((await stage2(report, 1, head)).code).toBe(1);
    expect(String(comments()[0]!['body'])).toContain('GitHub does not say how many files this pull request changes');
  });

  test('--from-report without the judged commit is refused before anything is posted', async () => {
    const head = push(entry('ann') + entry('bo'));
    gh.pulls.set(1, { head, base, author: 'bo', dir: repo.dir });
    const report = await stage1Report();
    const run = await classopsAsync(['pr-report', '--from-report', report, '--pr', '1'], { cwd: dir, env: env({}) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a report is posted only on the commit it judged');
    expect(gh.requests).toEqual([]);
  });
});
